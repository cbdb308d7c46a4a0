-- The first schema: sources, crawl runs, raw pages as fetched, and extracted articles.

CREATE TABLE sources (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_]{0,62}$'),
    homepage    text NOT NULL,
    config      jsonb NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE sources IS 'News publishers, synced from the sources YAML on every run. A source removed from the YAML is deactivated, never deleted, so its articles keep their source.';
COMMENT ON COLUMN sources.name IS 'Unique lowercase name, as used in the CLI and in Airflow task names.';
COMMENT ON COLUMN sources.homepage IS 'The publisher''s home page URL.';
COMMENT ON COLUMN sources.config IS 'The source''s validated YAML entry, as JSON.';
COMMENT ON COLUMN sources.active IS 'False when the source is switched off or no longer in the YAML.';
COMMENT ON COLUMN sources.created_at IS 'When the source was first synced.';
COMMENT ON COLUMN sources.updated_at IS 'When the source''s config or active flag last changed.';

CREATE TABLE crawl_runs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source            text NOT NULL REFERENCES sources (name),
    run_key           text NOT NULL,
    status            text NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'success', 'failed')),
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    pages_fetched     integer NOT NULL DEFAULT 0 CHECK (pages_fetched >= 0),
    pages_failed      integer NOT NULL DEFAULT 0 CHECK (pages_failed >= 0),
    articles_new      integer NOT NULL DEFAULT 0 CHECK (articles_new >= 0),
    articles_updated  integer NOT NULL DEFAULT 0 CHECK (articles_updated >= 0),
    errors            integer NOT NULL DEFAULT 0 CHECK (errors >= 0),
    error             text,
    stats             jsonb NOT NULL DEFAULT '{}',
    UNIQUE (source, run_key)
);
COMMENT ON TABLE crawl_runs IS 'One row per source per run. A rerun of the same run key updates its row instead of adding one.';
COMMENT ON COLUMN crawl_runs.id IS 'Surrogate key, referenced by raw_pages.crawl_run_id.';
COMMENT ON COLUMN crawl_runs.source IS 'The source crawled.';
COMMENT ON COLUMN crawl_runs.run_key IS 'Identifies the run: the Airflow logical date, or a timestamp for manual runs.';
COMMENT ON COLUMN crawl_runs.status IS 'running, success or failed.';
COMMENT ON COLUMN crawl_runs.started_at IS 'When the crawl started (UTC).';
COMMENT ON COLUMN crawl_runs.finished_at IS 'When the run finished (UTC); null while running or after a crash.';
COMMENT ON COLUMN crawl_runs.pages_fetched IS 'Article pages fetched and stored in raw_pages.';
COMMENT ON COLUMN crawl_runs.pages_failed IS 'Requests that ended in an HTTP error or a network failure.';
COMMENT ON COLUMN crawl_runs.articles_new IS 'Articles inserted by processing this run''s pages.';
COMMENT ON COLUMN crawl_runs.articles_updated IS 'Existing articles whose content changed.';
COMMENT ON COLUMN crawl_runs.errors IS 'Pages that could not be extracted into an article.';
COMMENT ON COLUMN crawl_runs.error IS 'Why the run failed, in one line; null on success.';
COMMENT ON COLUMN crawl_runs.stats IS 'Further crawl statistics (Scrapy stats, discovery counts) as JSON.';

CREATE TABLE raw_pages (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source             text NOT NULL REFERENCES sources (name),
    crawl_run_id       bigint REFERENCES crawl_runs (id) ON DELETE SET NULL,
    url                text NOT NULL UNIQUE,
    final_url          text NOT NULL,
    status             smallint NOT NULL,
    headers            jsonb NOT NULL DEFAULT '{}',
    html_gz            bytea NOT NULL,
    content_sha256     bytea NOT NULL,
    discovered_via     text NOT NULL CHECK (discovered_via IN ('feed', 'sitemap', 'listing', 'import')),
    discovery          jsonb NOT NULL DEFAULT '{}',
    fetched_at         timestamptz NOT NULL,
    processed_at       timestamptz,
    extractor_version  text,
    process_error      text
);
CREATE INDEX raw_pages_pending ON raw_pages (id) WHERE processed_at IS NULL;
CREATE INDEX raw_pages_source_fetched ON raw_pages (source, fetched_at);
COMMENT ON TABLE raw_pages IS 'Article pages as fetched, kept compressed so the corpus can be re-extracted without fetching again.';
COMMENT ON COLUMN raw_pages.id IS 'Surrogate key.';
COMMENT ON COLUMN raw_pages.source IS 'The source whose discovery found the page.';
COMMENT ON COLUMN raw_pages.crawl_run_id IS 'The crawl run that last fetched the page.';
COMMENT ON COLUMN raw_pages.url IS 'The URL as discovered and requested (unique: one row per URL).';
COMMENT ON COLUMN raw_pages.final_url IS 'The URL after redirects.';
COMMENT ON COLUMN raw_pages.status IS 'The final HTTP status.';
COMMENT ON COLUMN raw_pages.headers IS 'The final response''s headers, as a JSON object of lists.';
COMMENT ON COLUMN raw_pages.html_gz IS 'The response body, gzip-compressed, bytes as received (decompress with gunzip).';
COMMENT ON COLUMN raw_pages.content_sha256 IS 'SHA-256 of the uncompressed body; a refetch with the same hash changes nothing.';
COMMENT ON COLUMN raw_pages.discovered_via IS 'feed, sitemap, listing or import: how the URL was found.';
COMMENT ON COLUMN raw_pages.discovery IS 'What discovery knew of the page: the feed or sitemap it came from, its title and dates there.';
COMMENT ON COLUMN raw_pages.fetched_at IS 'When the page was fetched (UTC).';
COMMENT ON COLUMN raw_pages.processed_at IS 'When processing last ran on this content; null means pending.';
COMMENT ON COLUMN raw_pages.extractor_version IS 'The extractor version that processed the page.';
COMMENT ON COLUMN raw_pages.process_error IS 'Why the page yielded no article (not an article, extraction failed); null otherwise.';

CREATE TABLE articles (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    canonical_url      text NOT NULL UNIQUE,
    url                text NOT NULL,
    source             text NOT NULL REFERENCES sources (name),
    raw_page_id        bigint REFERENCES raw_pages (id) ON DELETE SET NULL,
    title              text,
    description        text,
    authors            text[] NOT NULL DEFAULT '{}',
    published_at       timestamptz,
    modified_at        timestamptz,
    date_source        text,
    language           text CHECK (language ~ '^[a-z]{2}$'),
    section            text,
    tags               text[] NOT NULL DEFAULT '{}',
    image_url          text,
    body               text NOT NULL,
    word_count         integer NOT NULL CHECK (word_count >= 0),
    is_paywalled       boolean NOT NULL DEFAULT false,
    content_hash       text NOT NULL,
    fetched_at         timestamptz NOT NULL,
    extractor_version  text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX articles_source_published ON articles (source, published_at);
CREATE INDEX articles_published ON articles (published_at);
CREATE INDEX articles_content_hash ON articles (content_hash);
COMMENT ON TABLE articles IS 'One row per article, unique on its canonical URL, holding its newest extracted version.';
COMMENT ON COLUMN articles.id IS 'Surrogate key.';
COMMENT ON COLUMN articles.canonical_url IS 'The article''s identity: rel=canonical or og:url when on the same site, else the fetched URL, normalised (no tracking parameters or fragment).';
COMMENT ON COLUMN articles.url IS 'The URL the article was fetched from (after redirects).';
COMMENT ON COLUMN articles.source IS 'The source the article was crawled from.';
COMMENT ON COLUMN articles.raw_page_id IS 'The raw page it was extracted from.';
COMMENT ON COLUMN articles.title IS 'Headline.';
COMMENT ON COLUMN articles.description IS 'Standfirst or meta description.';
COMMENT ON COLUMN articles.authors IS 'Author names, cleaned (no "By", roles or e-mail addresses).';
COMMENT ON COLUMN articles.published_at IS 'First publication time, UTC.';
COMMENT ON COLUMN articles.modified_at IS 'Last modification time, UTC.';
COMMENT ON COLUMN articles.date_source IS 'Where published_at came from (json-ld, meta, byline, htmldate, feed, sitemap, ...).';
COMMENT ON COLUMN articles.language IS 'ISO 639-1 language code.';
COMMENT ON COLUMN articles.section IS 'The site section (World, Business, ...).';
COMMENT ON COLUMN articles.tags IS 'Keywords and tags the publisher gave the article.';
COMMENT ON COLUMN articles.image_url IS 'The lead image URL.';
COMMENT ON COLUMN articles.body IS 'Plain text body, paragraphs separated by newlines.';
COMMENT ON COLUMN articles.word_count IS 'Words in body.';
COMMENT ON COLUMN articles.is_paywalled IS 'True when the page is a paywalled teaser rather than the full text.';
COMMENT ON COLUMN articles.content_hash IS 'SHA-256 (hex) of the normalised body: equal bodies under different URLs share it.';
COMMENT ON COLUMN articles.fetched_at IS 'When the page this version came from was fetched, UTC.';
COMMENT ON COLUMN articles.extractor_version IS 'The extractor version that produced this row.';
COMMENT ON COLUMN articles.created_at IS 'When the article was first stored.';
COMMENT ON COLUMN articles.updated_at IS 'When the row last changed.';
