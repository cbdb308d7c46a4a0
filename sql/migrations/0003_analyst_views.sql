-- What analysts and ops see: full-text search over articles, and the views for the usual
-- questions (clean articles, daily counts, source health, field completeness).
-- Story views belong to the dedupe migration; views here never depend on stories.

-- ---------------------------------------------------------------------------------------------
-- Full-text search
-- ---------------------------------------------------------------------------------------------

-- SQL-standard body: the configuration names are resolved once, here, so the function is
-- genuinely immutable (a generated column may use it).
CREATE FUNCTION newsdesk_regconfig(lang text) RETURNS regconfig
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE lang
    WHEN 'ar' THEN 'pg_catalog.arabic'::regconfig
    WHEN 'da' THEN 'pg_catalog.danish'::regconfig
    WHEN 'de' THEN 'pg_catalog.german'::regconfig
    WHEN 'el' THEN 'pg_catalog.greek'::regconfig
    WHEN 'en' THEN 'pg_catalog.english'::regconfig
    WHEN 'es' THEN 'pg_catalog.spanish'::regconfig
    WHEN 'fi' THEN 'pg_catalog.finnish'::regconfig
    WHEN 'fr' THEN 'pg_catalog.french'::regconfig
    WHEN 'ga' THEN 'pg_catalog.irish'::regconfig
    WHEN 'hi' THEN 'pg_catalog.hindi'::regconfig
    WHEN 'hu' THEN 'pg_catalog.hungarian'::regconfig
    WHEN 'id' THEN 'pg_catalog.indonesian'::regconfig
    WHEN 'it' THEN 'pg_catalog.italian'::regconfig
    WHEN 'lt' THEN 'pg_catalog.lithuanian'::regconfig
    WHEN 'nb' THEN 'pg_catalog.norwegian'::regconfig
    WHEN 'ne' THEN 'pg_catalog.nepali'::regconfig
    WHEN 'nl' THEN 'pg_catalog.dutch'::regconfig
    WHEN 'nn' THEN 'pg_catalog.norwegian'::regconfig
    WHEN 'no' THEN 'pg_catalog.norwegian'::regconfig
    WHEN 'pt' THEN 'pg_catalog.portuguese'::regconfig
    WHEN 'ro' THEN 'pg_catalog.romanian'::regconfig
    WHEN 'ru' THEN 'pg_catalog.russian'::regconfig
    WHEN 'sv' THEN 'pg_catalog.swedish'::regconfig
    WHEN 'ta' THEN 'pg_catalog.tamil'::regconfig
    WHEN 'tr' THEN 'pg_catalog.turkish'::regconfig
    ELSE 'pg_catalog.simple'::regconfig
END;
COMMENT ON FUNCTION newsdesk_regconfig(text) IS 'The text search configuration for an ISO 639-1 language code (stemming and stop words of that language); simple (no stemming) for other or unknown languages.';

-- The search document of an article. Parsing text is the expensive part of full-text search
-- (about 10 MB/s per core), so it is not done while loading: a stored generated column cut the
-- loader from about 6,000 to 1,500 articles/s. Instead search_vector starts null (pending),
-- newsdesk_index_search() fills it in batches that any number of connections can run at once,
-- and search_articles() also parses pending articles on the fly, so a search is always complete.
CREATE FUNCTION newsdesk_search_document(lang text, title text, description text, body text)
    RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN setweight(to_tsvector(newsdesk_regconfig(lang), coalesce(title, '')), 'A')
    || setweight(to_tsvector(newsdesk_regconfig(lang), coalesce(description, '')), 'B')
    || setweight(to_tsvector(newsdesk_regconfig(lang), coalesce(body, '')), 'C');
COMMENT ON FUNCTION newsdesk_search_document(text, text, text, text) IS 'An article''s full-text search document in its own language: headline weight A, description B, body C.';

ALTER TABLE articles ADD COLUMN search_vector tsvector;
COMMENT ON COLUMN articles.search_vector IS 'Full-text search document (newsdesk_search_document); null until newsdesk_index_search() has indexed the article, and again when its text changes. Query it with search_articles().';
CREATE INDEX articles_search ON articles USING gin (search_vector);
CREATE INDEX articles_search_pending ON articles (id) WHERE search_vector IS NULL;

CREATE FUNCTION newsdesk_search_stale() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.language, NEW.title, NEW.description, NEW.body)
       IS DISTINCT FROM (OLD.language, OLD.title, OLD.description, OLD.body) THEN
        NEW.search_vector := NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION newsdesk_search_stale() IS 'Trigger: an article whose text or language changes becomes pending for search indexing again.';
CREATE TRIGGER articles_search_stale BEFORE UPDATE ON articles
    FOR EACH ROW EXECUTE FUNCTION newsdesk_search_stale();

CREATE FUNCTION newsdesk_index_search(max_rows integer DEFAULT 500) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH todo AS (
        SELECT id FROM articles WHERE search_vector IS NULL
         ORDER BY id LIMIT max_rows FOR UPDATE SKIP LOCKED
    )
    UPDATE articles a
       SET search_vector = newsdesk_search_document(a.language, a.title, a.description, a.body)
      FROM todo
     WHERE a.id = todo.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION newsdesk_index_search(integer) IS 'Index up to max_rows pending articles for search; returns how many (0 when none is left). Safe to run from several connections at once (SKIP LOCKED); newsdesk search --index runs it on every core.';

-- A query is parsed once per configuration in use (the sources' languages and simple) and the
-- results OR-ed, so one indexable tsquery matches stemmed English, French, ... documents alike.
CREATE FUNCTION newsdesk_tsquery(q text, lang text DEFAULT NULL) RETURNS tsquery
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    result tsquery := websearch_to_tsquery('pg_catalog.simple', q);
    cfg regconfig;
BEGIN
    FOR cfg IN
        SELECT DISTINCT newsdesk_regconfig(l)
          FROM (SELECT lang AS l WHERE lang IS NOT NULL
                UNION
                SELECT s.config ->> 'language' FROM sources s WHERE lang IS NULL) AS langs
    LOOP
        IF cfg <> 'pg_catalog.simple'::regconfig THEN
            result := result || websearch_to_tsquery(cfg, q);
        END IF;
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION newsdesk_tsquery(text, text) IS 'Web-search syntax ("quoted phrase", or, -not) parsed for the given language, or for every language the sources use plus simple, OR-ed into one tsquery for articles.search_vector.';

CREATE FUNCTION search_articles(
    q text,
    source_name text DEFAULT NULL,
    since timestamptz DEFAULT NULL,
    max_rows integer DEFAULT 20,
    lang text DEFAULT NULL
) RETURNS TABLE (
    rank real,
    article_id bigint,
    source text,
    published_at timestamptz,
    language text,
    title text,
    canonical_url text,
    snippet text
)
    LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    tsq tsquery := newsdesk_tsquery(q, lang);
BEGIN
    RETURN QUERY
    SELECT h.r, h.id, h.source, h.published_at, h.language, h.title, h.canonical_url,
           ts_headline(newsdesk_regconfig(h.language), h.body, tsq,
                       'MaxWords=30, MinWords=10, MaxFragments=1')
      FROM (SELECT a.id, a.source, a.published_at, a.language, a.title, a.canonical_url,
                   a.body, ts_rank(a.search_vector, tsq, 1) AS r
              FROM articles a
             WHERE a.search_vector @@ tsq
               AND (source_name IS NULL OR a.source = source_name)
               AND (since IS NULL OR a.published_at >= since)
               AND (lang IS NULL OR a.language = lang)
            UNION ALL
            SELECT a.id, a.source, a.published_at, a.language, a.title, a.canonical_url,
                   a.body, ts_rank(d.doc, tsq, 1) AS r
              FROM articles a
             CROSS JOIN LATERAL (SELECT newsdesk_search_document(a.language, a.title,
                                                                 a.description, a.body) AS doc) d
             WHERE a.search_vector IS NULL
               AND d.doc @@ tsq
               AND (source_name IS NULL OR a.source = source_name)
               AND (since IS NULL OR a.published_at >= since)
               AND (lang IS NULL OR a.language = lang)
             ORDER BY r DESC, published_at DESC NULLS LAST, id
             LIMIT max_rows) AS h
     ORDER BY h.r DESC, h.published_at DESC NULLS LAST, h.id;
END
$$;
COMMENT ON FUNCTION search_articles(text, text, timestamptz, integer, text) IS 'Ranked full-text search: SELECT * FROM search_articles(''election results'', since => ''2026-03-01''). q uses web-search syntax; optional source, earliest publication time, row limit and language.';

-- ---------------------------------------------------------------------------------------------
-- Helpers for crawl statistics
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION newsdesk_blocked(stats jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce((stats -> 'responses_by_status' ->> '401')::integer, 0)
     + coalesce((stats -> 'responses_by_status' ->> '403')::integer, 0)
     + coalesce((stats -> 'responses_by_status' ->> '429')::integer, 0)
     + coalesce((stats -> 'responses_by_status' ->> '451')::integer, 0)
     + coalesce((stats ->> 'robots_denied')::integer, 0);
COMMENT ON FUNCTION newsdesk_blocked(jsonb) IS 'Requests of a crawl run that the site refused: HTTP 401, 403, 429 and 451 responses plus URLs robots.txt denied (from crawl_runs.stats).';

-- ---------------------------------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------------------------------

CREATE VIEW v_articles AS
SELECT a.id,
       a.source,
       s.homepage AS source_homepage,
       a.canonical_url,
       a.url,
       a.title,
       a.description,
       a.authors,
       a.published_at,
       (a.published_at AT TIME ZONE 'UTC')::date AS published_date,
       a.modified_at,
       a.date_source,
       a.language,
       a.section,
       a.tags,
       a.image_url,
       a.body,
       a.word_count,
       a.is_paywalled,
       a.content_hash,
       a.fetched_at,
       a.created_at,
       a.updated_at
  FROM articles a
  JOIN sources s ON s.name = a.source;
COMMENT ON VIEW v_articles IS 'Clean articles with their source: one row per article (canonical URL), dates in UTC, without the internal search and raw-page columns.';
COMMENT ON COLUMN v_articles.id IS 'The article''s id (articles.id).';
COMMENT ON COLUMN v_articles.source IS 'The source the article was crawled from (sources.name).';
COMMENT ON COLUMN v_articles.source_homepage IS 'The source''s home page URL.';
COMMENT ON COLUMN v_articles.canonical_url IS 'The article''s identity: its canonical URL, normalised.';
COMMENT ON COLUMN v_articles.url IS 'The URL the article was fetched from (after redirects).';
COMMENT ON COLUMN v_articles.title IS 'Headline.';
COMMENT ON COLUMN v_articles.description IS 'Standfirst or meta description.';
COMMENT ON COLUMN v_articles.authors IS 'Author names, cleaned.';
COMMENT ON COLUMN v_articles.published_at IS 'First publication time, UTC; null when the page gave no date.';
COMMENT ON COLUMN v_articles.published_date IS 'The UTC calendar day of published_at.';
COMMENT ON COLUMN v_articles.modified_at IS 'Last modification time, UTC.';
COMMENT ON COLUMN v_articles.date_source IS 'Where published_at came from (json-ld, meta, byline, htmldate, feed, sitemap, ...).';
COMMENT ON COLUMN v_articles.language IS 'ISO 639-1 language code.';
COMMENT ON COLUMN v_articles.section IS 'The site section (World, Business, ...).';
COMMENT ON COLUMN v_articles.tags IS 'Keywords and tags the publisher gave the article.';
COMMENT ON COLUMN v_articles.image_url IS 'The lead image URL.';
COMMENT ON COLUMN v_articles.body IS 'Plain text body, paragraphs separated by newlines.';
COMMENT ON COLUMN v_articles.word_count IS 'Words in body.';
COMMENT ON COLUMN v_articles.is_paywalled IS 'True when the page is a paywalled teaser rather than the full text.';
COMMENT ON COLUMN v_articles.content_hash IS 'SHA-256 (hex) of the normalised body: equal bodies under different URLs share it.';
COMMENT ON COLUMN v_articles.fetched_at IS 'When the page this version came from was fetched, UTC.';
COMMENT ON COLUMN v_articles.created_at IS 'When newsdesk first stored the article.';
COMMENT ON COLUMN v_articles.updated_at IS 'When the stored row last changed.';

CREATE VIEW v_daily_counts AS
SELECT (a.published_at AT TIME ZONE 'UTC')::date AS day,
       a.source,
       a.language,
       count(*) AS articles,
       sum(a.word_count) AS words,
       count(*) FILTER (WHERE a.is_paywalled) AS paywalled
  FROM articles a
 WHERE a.published_at IS NOT NULL
 GROUP BY 1, 2, 3;
COMMENT ON VIEW v_daily_counts IS 'Articles published per UTC day, source and language. Articles without a publication date are not counted here (see v_field_completeness).';
COMMENT ON COLUMN v_daily_counts.day IS 'UTC calendar day of publication.';
COMMENT ON COLUMN v_daily_counts.source IS 'The source.';
COMMENT ON COLUMN v_daily_counts.language IS 'ISO 639-1 language code; null when unknown.';
COMMENT ON COLUMN v_daily_counts.articles IS 'Articles published that day.';
COMMENT ON COLUMN v_daily_counts.words IS 'Total words in their bodies.';
COMMENT ON COLUMN v_daily_counts.paywalled IS 'How many of them are paywalled teasers.';

CREATE VIEW v_field_completeness AS
SELECT a.source,
       (a.created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS articles,
       count(*) FILTER (WHERE nullif(a.title, '') IS NOT NULL) AS with_title,
       count(*) FILTER (WHERE nullif(a.description, '') IS NOT NULL) AS with_description,
       count(*) FILTER (WHERE cardinality(a.authors) > 0) AS with_authors,
       count(*) FILTER (WHERE a.published_at IS NOT NULL) AS with_published_at,
       count(*) FILTER (WHERE a.modified_at IS NOT NULL) AS with_modified_at,
       count(*) FILTER (WHERE a.language IS NOT NULL) AS with_language,
       count(*) FILTER (WHERE nullif(a.section, '') IS NOT NULL) AS with_section,
       count(*) FILTER (WHERE cardinality(a.tags) > 0) AS with_tags,
       count(*) FILTER (WHERE nullif(a.image_url, '') IS NOT NULL) AS with_image
  FROM articles a
 GROUP BY 1, 2;
COMMENT ON VIEW v_field_completeness IS 'How many articles each source stored per UTC day, and how many of them have each field: a field that suddenly goes missing usually means the site changed its layout.';
COMMENT ON COLUMN v_field_completeness.source IS 'The source.';
COMMENT ON COLUMN v_field_completeness.day IS 'UTC day the articles were first stored (articles.created_at).';
COMMENT ON COLUMN v_field_completeness.articles IS 'Articles first stored that day.';
COMMENT ON COLUMN v_field_completeness.with_title IS 'Of those, articles with a headline.';
COMMENT ON COLUMN v_field_completeness.with_description IS 'Of those, articles with a description.';
COMMENT ON COLUMN v_field_completeness.with_authors IS 'Of those, articles with at least one author.';
COMMENT ON COLUMN v_field_completeness.with_published_at IS 'Of those, articles with a publication date.';
COMMENT ON COLUMN v_field_completeness.with_modified_at IS 'Of those, articles with a modification date.';
COMMENT ON COLUMN v_field_completeness.with_language IS 'Of those, articles with a language.';
COMMENT ON COLUMN v_field_completeness.with_section IS 'Of those, articles with a section.';
COMMENT ON COLUMN v_field_completeness.with_tags IS 'Of those, articles with at least one tag.';
COMMENT ON COLUMN v_field_completeness.with_image IS 'Of those, articles with a lead image.';

CREATE VIEW v_source_daily AS
SELECT r.source,
       (r.started_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS runs,
       count(*) FILTER (WHERE r.status = 'failed') AS runs_failed,
       sum(coalesce((r.stats ->> 'requests')::integer, 0)) AS requests,
       sum(r.pages_fetched) AS pages_fetched,
       sum(r.pages_failed) AS pages_failed,
       sum(newsdesk_blocked(r.stats)) AS blocked,
       sum(r.articles_new) AS articles_new,
       sum(r.articles_updated) AS articles_updated,
       sum(r.errors) AS extract_errors
  FROM crawl_runs r
 GROUP BY 1, 2;
COMMENT ON VIEW v_source_daily IS 'Crawl and processing figures per source per UTC day (the day the runs started): the history source-health rules compare against.';
COMMENT ON COLUMN v_source_daily.source IS 'The source.';
COMMENT ON COLUMN v_source_daily.day IS 'UTC day the runs started.';
COMMENT ON COLUMN v_source_daily.runs IS 'Crawl runs that day.';
COMMENT ON COLUMN v_source_daily.runs_failed IS 'Of those, runs that failed.';
COMMENT ON COLUMN v_source_daily.requests IS 'HTTP requests made (every kind: robots.txt, feeds, sitemaps, listings, articles).';
COMMENT ON COLUMN v_source_daily.pages_fetched IS 'Article pages fetched and stored.';
COMMENT ON COLUMN v_source_daily.pages_failed IS 'Requests that ended in an HTTP error or a network failure.';
COMMENT ON COLUMN v_source_daily.blocked IS 'Requests the site refused: HTTP 401/403/429/451 or denied by robots.txt.';
COMMENT ON COLUMN v_source_daily.articles_new IS 'New articles stored from those runs'' pages.';
COMMENT ON COLUMN v_source_daily.articles_updated IS 'Stored articles whose content changed.';
COMMENT ON COLUMN v_source_daily.extract_errors IS 'Fetched pages that yielded no article.';

CREATE VIEW v_source_health AS
WITH runs AS (
    SELECT r.source,
           max(r.started_at) AS last_run_at,
           max(r.finished_at) FILTER (WHERE r.status = 'success') AS last_success_at,
           count(*) FILTER (WHERE r.started_at > now() - interval '7 days') AS runs_7d,
           sum(coalesce((r.stats ->> 'requests')::integer, 0))
               FILTER (WHERE r.started_at > now() - interval '7 days') AS requests_7d,
           sum(r.pages_fetched) FILTER (WHERE r.started_at > now() - interval '7 days') AS fetched_7d,
           sum(r.pages_failed) FILTER (WHERE r.started_at > now() - interval '7 days') AS failed_7d,
           sum(newsdesk_blocked(r.stats)) FILTER (WHERE r.started_at > now() - interval '7 days') AS blocked_7d,
           sum(r.errors) FILTER (WHERE r.started_at > now() - interval '7 days') AS errors_7d
      FROM crawl_runs r
     GROUP BY r.source
),
latest AS (
    SELECT DISTINCT ON (r.source) r.source, r.status, r.error
      FROM crawl_runs r
     ORDER BY r.source, r.started_at DESC, r.id DESC
),
arts AS (
    SELECT a.source,
           count(*) AS articles_total,
           count(*) FILTER (WHERE a.created_at > now() - interval '7 days') AS articles_7d,
           max(a.created_at) AS last_new_article_at
      FROM articles a
     GROUP BY a.source
)
SELECT s.name AS source,
       s.active,
       runs.last_run_at,
       latest.status AS last_run_status,
       latest.error AS last_run_error,
       runs.last_success_at,
       coalesce(runs.runs_7d, 0) AS runs_7d,
       coalesce(arts.articles_total, 0) AS articles_total,
       coalesce(arts.articles_7d, 0) AS articles_7d,
       arts.last_new_article_at,
       floor(extract(epoch FROM now() - arts.last_new_article_at) / 86400)::integer
           AS days_since_new_article,
       coalesce(runs.requests_7d, 0) AS requests_7d,
       coalesce(runs.fetched_7d, 0) AS pages_fetched_7d,
       coalesce(runs.failed_7d, 0) AS pages_failed_7d,
       round(runs.failed_7d::numeric / nullif(runs.fetched_7d + runs.failed_7d, 0), 4)
           AS error_rate_7d,
       coalesce(runs.blocked_7d, 0) AS blocked_7d,
       round(runs.blocked_7d::numeric / nullif(runs.requests_7d, 0), 4) AS blocked_rate_7d,
       coalesce(runs.errors_7d, 0) AS extract_errors_7d,
       round(runs.errors_7d::numeric / nullif(runs.fetched_7d, 0), 4) AS extract_error_rate_7d
  FROM sources s
  LEFT JOIN runs ON runs.source = s.name
  LEFT JOIN latest ON latest.source = s.name
  LEFT JOIN arts ON arts.source = s.name;
COMMENT ON VIEW v_source_health IS 'One row per source: its last run and last success, what it yielded over the last 7 days, its error and blocked rates, and how long since it gave a new article. newsdesk report applies the alert rules (pipeline/health.py) on top.';
COMMENT ON COLUMN v_source_health.source IS 'The source.';
COMMENT ON COLUMN v_source_health.active IS 'False when the source is switched off or no longer in the YAML.';
COMMENT ON COLUMN v_source_health.last_run_at IS 'When its latest crawl run started; null if never crawled.';
COMMENT ON COLUMN v_source_health.last_run_status IS 'running, success or failed: the latest run''s status.';
COMMENT ON COLUMN v_source_health.last_run_error IS 'Why the latest run failed; null when it did not.';
COMMENT ON COLUMN v_source_health.last_success_at IS 'When its latest successful run finished.';
COMMENT ON COLUMN v_source_health.runs_7d IS 'Crawl runs started in the last 7 days.';
COMMENT ON COLUMN v_source_health.articles_total IS 'Articles stored from the source, ever.';
COMMENT ON COLUMN v_source_health.articles_7d IS 'Articles first stored in the last 7 days.';
COMMENT ON COLUMN v_source_health.last_new_article_at IS 'When the newest article was first stored.';
COMMENT ON COLUMN v_source_health.days_since_new_article IS 'Whole days since last_new_article_at; null if the source never gave an article.';
COMMENT ON COLUMN v_source_health.requests_7d IS 'HTTP requests made in the last 7 days.';
COMMENT ON COLUMN v_source_health.pages_fetched_7d IS 'Article pages fetched in the last 7 days.';
COMMENT ON COLUMN v_source_health.pages_failed_7d IS 'Requests that failed (HTTP error or network) in the last 7 days.';
COMMENT ON COLUMN v_source_health.error_rate_7d IS 'pages_failed_7d / (pages_fetched_7d + pages_failed_7d); null without traffic.';
COMMENT ON COLUMN v_source_health.blocked_7d IS 'Requests refused in the last 7 days (HTTP 401/403/429/451 or robots.txt).';
COMMENT ON COLUMN v_source_health.blocked_rate_7d IS 'blocked_7d / requests_7d; null without requests.';
COMMENT ON COLUMN v_source_health.extract_errors_7d IS 'Fetched pages that yielded no article, last 7 days.';
COMMENT ON COLUMN v_source_health.extract_error_rate_7d IS 'extract_errors_7d / pages_fetched_7d; null without pages.';
