-- Comments that named a module or a label the regroup of issue 17 changed: the headline-zone
-- dates got their own date_source labels (extractor 1.3.1), and the health rules moved.

COMMENT ON COLUMN articles.date_source IS 'Where published_at came from: override, json-ld, opengraph, meta, headline, trafilatura, byline, feed, sitemap, headline-updated, htmldate (rows extracted before extractor 1.3.1 say byline for headline and headline-updated).';
COMMENT ON COLUMN v_articles.date_source IS 'Where published_at came from: override, json-ld, opengraph, meta, headline, trafilatura, byline, feed, sitemap, headline-updated, htmldate (rows extracted before extractor 1.3.1 say byline for headline and headline-updated).';
COMMENT ON VIEW v_source_health IS 'One row per source: its last run and last success, what it yielded over the last 7 days, its error and blocked rates, and how long since it gave a new article. newsdesk report applies the alert rules (pipeline/sources/alerts.py) on top.';
