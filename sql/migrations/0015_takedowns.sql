-- Takedowns (issue 20): a URL or a whole source whose rows were deleted on request, kept so that
-- no crawl or WARC import fetches or stores it again. One row per URL key or per source.

CREATE TABLE takedowns (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url_key        text UNIQUE,
    url            text,
    source         text UNIQUE,
    reason         text,
    taken_down_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((url_key IS NULL) = (url IS NULL) AND (url_key IS NULL) <> (source IS NULL))
);
COMMENT ON TABLE takedowns IS 'URLs and sources taken down (newsdesk takedown): their rows were deleted everywhere, and the crawl and import-warc refuse them from then on. A source''s row stays in sources, inactive whatever the YAML says.';
COMMENT ON COLUMN takedowns.id IS 'Surrogate key.';
COMMENT ON COLUMN takedowns.url_key IS 'The taken-down page''s identity (as raw_pages.url_key); null for a source takedown.';
COMMENT ON COLUMN takedowns.url IS 'The URL as given, or another address of the same article (a page it was stored from, its canonical URL); null for a source takedown.';
COMMENT ON COLUMN takedowns.source IS 'The taken-down source (sources.name); null for a URL takedown. No foreign key: a source may be taken down before it was ever synced.';
COMMENT ON COLUMN takedowns.reason IS 'Why, as the operator wrote it (a request reference, a legal notice).';
COMMENT ON COLUMN takedowns.taken_down_at IS 'When the takedown was first made (UTC); a rerun keeps the first.';
