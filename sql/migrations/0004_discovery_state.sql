-- Discovery state: what each feed, sitemap and listing page said when last fetched, so the next
-- crawl asks for it conditionally (If-None-Match / If-Modified-Since) and skips it on a 304.

CREATE TABLE discovery_documents (
    url                text PRIMARY KEY,
    source             text NOT NULL REFERENCES sources (name),
    kind               text NOT NULL CHECK (kind IN ('feed', 'sitemap', 'listing')),
    etag               text,
    last_modified      text,
    last_status        smallint NOT NULL,
    entries            integer NOT NULL DEFAULT 0 CHECK (entries >= 0),
    fetched_at         timestamptz NOT NULL,
    changed_at         timestamptz NOT NULL,
    not_modified_count integer NOT NULL DEFAULT 0 CHECK (not_modified_count >= 0)
);
CREATE INDEX discovery_documents_source ON discovery_documents (source);
COMMENT ON TABLE discovery_documents IS 'Feeds, sitemaps and listing pages as last fetched: the validators for the next conditional request.';
COMMENT ON COLUMN discovery_documents.url IS 'The document''s URL as requested.';
COMMENT ON COLUMN discovery_documents.source IS 'The source whose discovery fetched it.';
COMMENT ON COLUMN discovery_documents.kind IS 'feed, sitemap or listing.';
COMMENT ON COLUMN discovery_documents.etag IS 'The ETag of the last full response, sent back as If-None-Match; null when the server gave none or the document was not read to the end (a run limit cut it short).';
COMMENT ON COLUMN discovery_documents.last_modified IS 'The Last-Modified header of the last full response, sent back as If-Modified-Since; null like etag.';
COMMENT ON COLUMN discovery_documents.last_status IS 'HTTP status of the last fetch (200, or 304 when unchanged).';
COMMENT ON COLUMN discovery_documents.entries IS 'Links the document listed when last read in full.';
COMMENT ON COLUMN discovery_documents.fetched_at IS 'When the document was last requested (UTC).';
COMMENT ON COLUMN discovery_documents.changed_at IS 'When the document was last read in full (a 200), UTC.';
COMMENT ON COLUMN discovery_documents.not_modified_count IS 'How many 304 answers in a row since it last changed.';
