-- Dates as the publisher wrote them (issue 18, error 1). published_at and modified_at keep the
-- instant; beside them, the publisher's UTC offset and how precise the page was, so that a story
-- published on 3 June at 01:01 +02:00 counts on 3 June (its UTC day is 2 June) and a date with
-- no time of day is not read as midnight UTC. Rows extracted before extractor 1.4.0 have null
-- offsets and precisions until `newsdesk reprocess` re-extracts their raw page; their
-- published_date stays the UTC day, and rows whose raw page was pruned keep it for good.

ALTER TABLE articles
    ADD COLUMN published_offset_minutes smallint
        CHECK (published_offset_minutes BETWEEN -840 AND 840),
    ADD COLUMN published_precision text
        CHECK (published_precision IN ('day', 'minute', 'second')),
    ADD COLUMN modified_offset_minutes smallint
        CHECK (modified_offset_minutes BETWEEN -840 AND 840),
    ADD COLUMN modified_precision text
        CHECK (modified_precision IN ('day', 'minute', 'second'));

-- Stored, so that counting by day reads a column (and an index) instead of computing per row.
-- timestamptz AT TIME ZONE 'UTC' and timestamp + interval are immutable; timestamptz + interval
-- is not (it depends on the session's zone), hence the detour through timestamp.
ALTER TABLE articles
    ADD COLUMN published_date date GENERATED ALWAYS AS (
        ((published_at AT TIME ZONE 'UTC')
         + coalesce(published_offset_minutes, 0) * interval '1 minute')::date) STORED;
CREATE INDEX articles_published_date ON articles (published_date);

COMMENT ON COLUMN articles.published_at IS 'First publication time, as an instant (UTC). A time the page wrote without a zone (and the source gives none) is its wall clock read as UTC; a day without a time is midnight of that day in the publisher''s offset, else UTC. See published_offset_minutes and published_precision.';
COMMENT ON COLUMN articles.modified_at IS 'Last modification time, as an instant (UTC); read as published_at is.';
COMMENT ON COLUMN articles.published_offset_minutes IS 'The publisher''s UTC offset in minutes for published_at (120 for +02:00), from the page or else the source''s timezone; null when neither gave a zone, and for rows extracted before extractor 1.4.0 that were not re-extracted (their raw page pruned).';
COMMENT ON COLUMN articles.published_precision IS 'How precisely the page gave published_at: day (no time of day, or 00:00:00), minute or second; null as for published_offset_minutes.';
COMMENT ON COLUMN articles.modified_offset_minutes IS 'The publisher''s UTC offset in minutes for modified_at; null as for published_offset_minutes.';
COMMENT ON COLUMN articles.modified_precision IS 'How precisely the page gave modified_at: day, minute or second; null as for published_precision.';
COMMENT ON COLUMN articles.published_date IS 'The publisher''s calendar day of publication: published_at shifted by published_offset_minutes, or the written day when the page gave no zone. For rows with a null offset from before extractor 1.4.0, the UTC day. Views and the report count days by it.';

-- v_articles: published_date becomes the publisher's day; the offsets and precisions follow the
-- existing columns (CREATE OR REPLACE keeps columns, comments and grants; new ones come last).
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
       a.published_date,
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
       a.credited_to,
       a.published_offset_minutes,
       a.published_precision,
       a.modified_offset_minutes,
       a.modified_precision
  FROM articles a
  JOIN sources s ON s.name = a.source
  LEFT JOIN stories st ON st.id = a.story_id
  LEFT JOIN articles o ON o.id = st.original_article_id;
COMMENT ON VIEW v_articles IS 'Clean articles with their source and story: one row per article (canonical URL), instants in UTC with the publisher''s offset and calendar day beside them, the story it belongs to and that story''s original, without the internal search and raw-page columns.';
COMMENT ON COLUMN v_articles.published_at IS 'First publication time, as an instant (UTC); null when the page gave no date. published_offset_minutes gives the publisher''s clock.';
COMMENT ON COLUMN v_articles.published_date IS 'The publisher''s calendar day of publication (articles.published_date); until extractor 1.4.0 this was the UTC day, which v_articles_utc_days keeps for one release.';
COMMENT ON COLUMN v_articles.modified_at IS 'Last modification time, as an instant (UTC).';
COMMENT ON COLUMN v_articles.published_offset_minutes IS 'The publisher''s UTC offset in minutes for published_at; null when unknown.';
COMMENT ON COLUMN v_articles.published_precision IS 'day, minute or second: how precisely the page gave published_at; null for rows not re-extracted since extractor 1.4.0.';
COMMENT ON COLUMN v_articles.modified_offset_minutes IS 'The publisher''s UTC offset in minutes for modified_at; null when unknown.';
COMMENT ON COLUMN v_articles.modified_precision IS 'day, minute or second: how precisely the page gave modified_at.';

CREATE OR REPLACE VIEW v_daily_counts AS
SELECT a.published_date AS day,
       a.source,
       a.language,
       count(*) AS articles,
       sum(a.word_count) AS words,
       count(*) FILTER (WHERE a.is_paywalled) AS paywalled
  FROM articles a
 WHERE a.published_at IS NOT NULL
 GROUP BY 1, 2, 3;
COMMENT ON VIEW v_daily_counts IS 'Articles published per publisher''s calendar day, source and language (until extractor 1.4.0 the UTC day: v_daily_counts_utc_days keeps that for one release). Articles without a publication date are not counted here (see v_field_completeness).';
COMMENT ON COLUMN v_daily_counts.day IS 'The publisher''s calendar day of publication (articles.published_date).';

-- The old UTC-day shapes, for one release.
CREATE VIEW v_articles_utc_days AS
SELECT v.id, v.source, v.source_homepage, v.canonical_url, v.url, v.title, v.description,
       v.authors, v.published_at, (v.published_at AT TIME ZONE 'UTC')::date AS published_date,
       v.modified_at, v.date_source, v.language, v.section, v.tags, v.image_url, v.body,
       v.word_count, v.is_paywalled, v.content_hash, v.fetched_at, v.created_at, v.updated_at,
       v.story_id, v.story_original_id, v.story_relation, v.story_article_count,
       v.story_source_count, v.provenance, v.credited_to
  FROM v_articles v;
COMMENT ON VIEW v_articles_utc_days IS 'Deprecated, removed next release: v_articles as it was before extractor 1.4.0, published_date being the UTC day of published_at. Use v_articles (the publisher''s day).';
-- Its columns mean what v_articles' do, but for published_date: copy their comments.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT a.attname, col_description('v_articles'::regclass, b.attnum) AS comment
          FROM pg_attribute a
          JOIN pg_attribute b ON b.attrelid = 'v_articles'::regclass AND b.attname = a.attname
         WHERE a.attrelid = 'v_articles_utc_days'::regclass AND a.attnum > 0
           AND a.attname <> 'published_date'
    LOOP
        EXECUTE format('COMMENT ON COLUMN v_articles_utc_days.%I IS %L', col.attname, col.comment);
    END LOOP;
END
$$;
COMMENT ON COLUMN v_articles_utc_days.published_date IS 'The UTC calendar day of published_at.';

CREATE VIEW v_daily_counts_utc_days AS
SELECT (a.published_at AT TIME ZONE 'UTC')::date AS day,
       a.source,
       a.language,
       count(*) AS articles,
       sum(a.word_count) AS words,
       count(*) FILTER (WHERE a.is_paywalled) AS paywalled
  FROM articles a
 WHERE a.published_at IS NOT NULL
 GROUP BY 1, 2, 3;
COMMENT ON VIEW v_daily_counts_utc_days IS 'Deprecated, removed next release: v_daily_counts as it was before extractor 1.4.0, counting by the UTC day of published_at. Use v_daily_counts (the publisher''s day).';
COMMENT ON COLUMN v_daily_counts_utc_days.day IS 'UTC calendar day of publication.';
COMMENT ON COLUMN v_daily_counts_utc_days.source IS 'The source.';
COMMENT ON COLUMN v_daily_counts_utc_days.language IS 'ISO 639-1 language code; null when unknown.';
COMMENT ON COLUMN v_daily_counts_utc_days.articles IS 'Articles published that UTC day.';
COMMENT ON COLUMN v_daily_counts_utc_days.words IS 'Total words in their bodies.';
COMMENT ON COLUMN v_daily_counts_utc_days.paywalled IS 'How many of them are paywalled teasers.';
