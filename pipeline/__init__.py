"""newsdesk's processing side: config, database layer, extraction, loading and the CLI."""

__version__ = "0.1.0"

#: The largest page newsdesk takes in, in bytes: the crawl's DOWNLOAD_MAXSIZE (as fetched and as
#: decompressed) and the bound on each record body `newsdesk import-warc` reads.
MAX_PAGE_BYTES = 10 * 1024 * 1024
