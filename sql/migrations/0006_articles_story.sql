-- v_articles gains each article's story: which story it belongs to, that story's original, how
-- the article relates to it and how far the story spread, so "clean articles with their source
-- and story" is one view. CREATE OR REPLACE keeps the view's existing columns, comments and
-- grants; the new columns can only come after them.

CREATE OR REPLACE VIEW v_articles AS
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
       a.updated_at,
       a.story_id,
       st.original_article_id AS story_original_id,
       CASE WHEN a.story_id IS NULL THEN NULL
            WHEN a.id = st.original_article_id THEN 'original'
            WHEN a.content_hash = o.content_hash THEN 'exact'
            ELSE 'near' END AS story_relation,
       st.article_count AS story_article_count,
       st.source_count AS story_source_count,
       a.provenance,
       a.credited_to
  FROM articles a
  JOIN sources s ON s.name = a.source
  LEFT JOIN stories st ON st.id = a.story_id
  LEFT JOIN articles o ON o.id = st.original_article_id;
COMMENT ON VIEW v_articles IS 'Clean articles with their source and story: one row per article (canonical URL), dates in UTC, the story it belongs to and that story''s original, without the internal search and raw-page columns.';
COMMENT ON COLUMN v_articles.story_id IS 'The story the article belongs to (stories.id; story_members lists the others); null until deduplicated.';
COMMENT ON COLUMN v_articles.story_original_id IS 'The story''s original article (its id in this view); equal to id for the original and for an article with no copies.';
COMMENT ON COLUMN v_articles.story_relation IS 'original (the story''s original, or an article with no copies), exact (the same body as the original) or near (a near-duplicate of it); null until deduplicated.';
COMMENT ON COLUMN v_articles.story_article_count IS 'Articles in the story: 1 for an article with no copies.';
COMMENT ON COLUMN v_articles.story_source_count IS 'Distinct sources that carried the story.';
COMMENT ON COLUMN v_articles.provenance IS 'The page''s own signal that it is a copy: rel-canonical (a cross-site canonical link), credit-line ("originally appeared on ...") or wire-byline; null when none.';
COMMENT ON COLUMN v_articles.credited_to IS 'The publisher or wire service the page credits (credit line or wire byline), as written.';
