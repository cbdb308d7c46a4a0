-- A page's own rules beyond robots.txt (issue 18): what its X-Robots-Tag headers, robots metas
-- and a W3C TDM reservation say of it, recorded per stored page; pages a source chose to skip
-- for such a rule, remembered so that the next crawl does not fetch them again unchanged.
--
-- One text[] rather than a boolean per rule: one column to read and to filter on
-- ('noindex' = ANY(page_rules), page_rules && ARRAY[...]), and a new rule is a new value.

ALTER TABLE raw_pages
    ADD COLUMN page_rules text[] NOT NULL DEFAULT '{}'
        CHECK (page_rules <@ ARRAY['noindex', 'noarchive', 'nofollow', 'tdm-reserved']);
COMMENT ON COLUMN raw_pages.page_rules IS 'What the page says of itself when fetched: noindex, noarchive, nofollow (X-Robots-Tag for all bots or for newsdesk, meta robots or meta newsdesk; none = noindex + nofollow) and tdm-reserved (a W3C TDMRep reservation: the tdm-reservation header or meta, or the origin''s /.well-known/tdmrep.json). Empty for pages fetched before 0014 or that say nothing.';

CREATE TABLE skipped_pages (
    url_key     text PRIMARY KEY,
    url         text NOT NULL,
    source      text NOT NULL REFERENCES sources (name),
    page_rules  text[] NOT NULL
        CHECK (cardinality(page_rules) > 0
               AND page_rules <@ ARRAY['noindex', 'noarchive', 'nofollow', 'tdm-reserved']),
    skipped_at  timestamptz NOT NULL
);
COMMENT ON TABLE skipped_pages IS 'Article pages fetched but not stored because their own rules include one the source''s skip_pages names. The crawl passes such a URL over until its feed or sitemap dates a change after skipped_at, or the source stops skipping that rule.';
COMMENT ON COLUMN skipped_pages.url_key IS 'The page''s identity (as raw_pages.url_key): what the crawl''s seen-check compares.';
COMMENT ON COLUMN skipped_pages.url IS 'The URL as discovered and requested (as raw_pages.url).';
COMMENT ON COLUMN skipped_pages.source IS 'The source whose crawl skipped it.';
COMMENT ON COLUMN skipped_pages.page_rules IS 'Every rule the page said of itself when last fetched (as raw_pages.page_rules), not only those skipped for.';
COMMENT ON COLUMN skipped_pages.skipped_at IS 'When the page was last fetched and skipped (UTC).';

CREATE VIEW v_article_page_rules AS
SELECT a.id AS article_id,
       a.canonical_url,
       a.source,
       r.page_rules
  FROM articles a
  JOIN raw_pages r ON r.id = a.raw_page_id;
COMMENT ON VIEW v_article_page_rules IS 'The page rules (raw_pages.page_rules) of the page each article was extracted from; join on v_articles.id = article_id. Articles whose raw page was pruned have no row.';
COMMENT ON COLUMN v_article_page_rules.article_id IS 'The article (articles.id, v_articles.id).';
COMMENT ON COLUMN v_article_page_rules.canonical_url IS 'The article''s canonical URL.';
COMMENT ON COLUMN v_article_page_rules.source IS 'The source the article was crawled from.';
COMMENT ON COLUMN v_article_page_rules.page_rules IS 'noindex, noarchive, nofollow, tdm-reserved: what the page said of itself when fetched.';

-- The crawl now also asks each site for its TDMRep file.
COMMENT ON COLUMN v_source_daily.requests IS 'HTTP requests made (every kind: robots.txt, /.well-known/tdmrep.json, feeds, sitemaps, listings, articles).';
