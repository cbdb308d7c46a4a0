-- Search built from the languages articles are stored in, one hit per story.
--
-- newsdesk_tsquery() used to parse a query with the languages in the sources' config, while
-- articles are indexed in their own detected language: "climate" in an English article from a
-- source that declares no language is indexed as 'climat', and the query (parsed only with
-- simple) looked for 'climate'. It now parses with the configuration of every language that is
-- stored, found through an index on articles.language in one probe per distinct language.

CREATE INDEX articles_language ON articles (language);

CREATE FUNCTION newsdesk_stored_languages() RETURNS SETOF text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    -- A loose index scan: SELECT DISTINCT would read every article; this reads one index
    -- entry per language.
    WITH RECURSIVE langs (lang) AS (
        (SELECT a.language FROM articles a WHERE a.language IS NOT NULL
          ORDER BY a.language LIMIT 1)
        UNION ALL
        SELECT (SELECT a.language FROM articles a WHERE a.language > langs.lang
                 ORDER BY a.language LIMIT 1)
          FROM langs
         WHERE langs.lang IS NOT NULL
    )
    SELECT lang FROM langs WHERE lang IS NOT NULL;
END;
COMMENT ON FUNCTION newsdesk_stored_languages() IS 'The distinct languages of the stored articles (articles.language), read from the articles_language index.';

-- A query is parsed once per configuration articles are indexed with (the given language's,
-- or every stored language's) plus simple, and the results OR-ed, so one indexable tsquery
-- matches stemmed English, German, French ... documents alike.
CREATE OR REPLACE FUNCTION newsdesk_tsquery(q text, lang text DEFAULT NULL) RETURNS tsquery
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    result tsquery := websearch_to_tsquery('pg_catalog.simple', q);
    cfg regconfig;
BEGIN
    FOR cfg IN
        SELECT DISTINCT newsdesk_regconfig(l)
          FROM (SELECT lang AS l WHERE lang IS NOT NULL
                UNION
                SELECT s.l FROM newsdesk_stored_languages() AS s (l) WHERE lang IS NULL) AS langs
    LOOP
        IF cfg <> 'pg_catalog.simple'::regconfig THEN
            result := result || websearch_to_tsquery(cfg, q);
        END IF;
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION newsdesk_tsquery(text, text) IS 'Web-search syntax ("quoted phrase", or, -not) parsed for the given language, or for every language stored in articles, plus simple, OR-ed into one tsquery for articles.search_vector.';

-- The result gains story_id and copies, so the old function is dropped, not replaced.
DROP FUNCTION search_articles(text, text, timestamptz, integer, text);

CREATE FUNCTION search_articles(
    q text,
    source_name text DEFAULT NULL,
    since timestamptz DEFAULT NULL,
    max_rows integer DEFAULT 20,
    lang text DEFAULT NULL,
    every_copy boolean DEFAULT false
) RETURNS TABLE (
    rank real,
    article_id bigint,
    source text,
    published_at timestamptz,
    language text,
    title text,
    canonical_url text,
    snippet text,
    story_id bigint,
    copies bigint
)
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    tsq tsquery := newsdesk_tsquery(q, lang);
BEGIN
    RETURN QUERY
    SELECT h.best, h.id, h.source, h.published_at, h.language, h.title, h.canonical_url,
           ts_headline(newsdesk_regconfig(h.language), h.body, tsq,
                       'MaxWords=30, MinWords=10, MaxFragments=1'),
           h.story_id,
           CASE WHEN h.story_id IS NULL THEN 1
                ELSE (SELECT count(*) FROM articles c WHERE c.story_id = h.story_id) END
      FROM (SELECT * FROM (
        -- One row per story (an article not yet deduplicated is a story of its own): the
        -- story's original when it matches, else its best-ranked copy, ranked by its best copy.
        SELECT DISTINCT ON (m.story_key) m.*, max(m.r) OVER (PARTITION BY m.story_key) AS best
          FROM (SELECT a.*, CASE WHEN every_copy OR a.story_id IS NULL THEN -a.id
                                 ELSE a.story_id END AS story_key,
                       a.id = s.original_article_id AS is_original
                  FROM (SELECT a.id, a.source, a.published_at, a.language, a.title,
                               a.canonical_url, a.body, a.story_id,
                               ts_rank(a.search_vector, tsq, 1) AS r
                          FROM articles a
                         WHERE a.search_vector @@ tsq
                           -- tsq (every language OR-ed) narrows through the index; an article
                           -- matches only the query parsed in its own language: else `-rates`
                           -- excludes nothing (the simple and German parses never see the
                           -- English stem) and German's stem of "rates" finds "rat".
                           AND a.search_vector
                               @@ websearch_to_tsquery(newsdesk_regconfig(a.language), q)
                           AND (source_name IS NULL OR a.source = source_name)
                           AND (since IS NULL OR a.published_at >= since)
                           AND (lang IS NULL OR a.language = lang)
                        UNION ALL
                        SELECT a.id, a.source, a.published_at, a.language, a.title,
                               a.canonical_url, a.body, a.story_id, ts_rank(d.doc, tsq, 1) AS r
                          FROM articles a
                         CROSS JOIN LATERAL (SELECT newsdesk_search_document(
                                 a.language, a.title, a.description, a.body) AS doc) d
                         WHERE a.search_vector IS NULL
                           AND d.doc @@ tsq
                           AND d.doc @@ websearch_to_tsquery(newsdesk_regconfig(a.language), q)
                           AND (source_name IS NULL OR a.source = source_name)
                           AND (since IS NULL OR a.published_at >= since)
                           AND (lang IS NULL OR a.language = lang)) AS a
                  LEFT JOIN stories s ON s.id = a.story_id) AS m
         ORDER BY m.story_key, m.is_original DESC NULLS LAST, m.r DESC,
                  m.published_at DESC NULLS LAST, m.id) AS per_story
             -- limited before the outer select, so only the hits shown get a headline
             ORDER BY best DESC, published_at DESC NULLS LAST, id
             LIMIT max_rows) AS h
     ORDER BY h.best DESC, h.published_at DESC NULLS LAST, h.id;
END
$$;
COMMENT ON FUNCTION search_articles(text, text, timestamptz, integer, text, boolean) IS 'Ranked full-text search, one hit per story with its number of copies: SELECT * FROM search_articles(''election results'', since => ''2026-03-01''). q uses web-search syntax; optional source, earliest publication time, row limit, language, and every_copy => true for a hit per article.';
