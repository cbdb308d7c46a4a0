-- Issue 18: the URL fetched is the URL discovered, and its identity is a separate key. raw_pages
-- gets url_key (pipeline.text.urls.url_key); 0012_rekey_urls.py fills it for existing rows, then
-- makes it NOT NULL UNIQUE in place of url's uniqueness.

ALTER TABLE raw_pages ADD COLUMN url_key text;
COMMENT ON COLUMN raw_pages.url_key IS 'The URL''s identity, one row per key: scheme and host lower-cased, default port, fragment and tracking parameters dropped, query pairs sorted, percent-escapes normalised; valueless query keys and ;params kept (newsdesk''s url_key, built on w3lib''s canonicalize_url).';
COMMENT ON COLUMN raw_pages.url IS 'The URL as discovered and requested (trimmed, fragment removed, nothing else changed); rows fetched before migration 0012 hold the old lossy key instead (newsdesk pages merged lists those fetched under another page''s address).';
COMMENT ON COLUMN articles.canonical_url IS 'The article''s identity: rel=canonical or og:url when on the same site, else the fetched URL, keyed like raw_pages.url_key (valueless query keys and ;params kept; tracking parameters and fragment dropped).';
