"""Scrapy settings for the newsdesk crawl: the one registry of every crawl knob.

Per-source values (delay, concurrency, private addresses) are set by the `news` spider from the
source's YAML, at "spider" priority, so `-s NAME=VALUE` on the command line still wins.
"""

from pipeline import MAX_PAGE_BYTES, __version__

BOT_NAME = "newsdesk"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# --- Politeness -------------------------------------------------------------------------------
# An honest User-Agent that says who we are and where to read about us.
# The contact comes from the source's politeness.contact or $NEWSDESK_CONTACT_URL (set per crawl).
USER_AGENT = f"newsdesk/{__version__} (+https://github.com/newsdesk/newsdesk)"
ROBOTSTXT_OBEY = True
# Defaults; each source's `politeness` replaces the delay and per-domain concurrency.
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # each wait is DOWNLOAD_DELAY ± 50%
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# AutoThrottle slows down on slow or failing hosts; DOWNLOAD_DELAY stays the minimum. The spider
# switches it on for sources with a delay > 0 and off for `--no-delay` crawls.
AUTOTHROTTLE_ENABLED = False
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# --- Limits on every response -----------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = MAX_PAGE_BYTES  # WARC import reads the same bound
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_ENABLED = True
REDIRECT_MAX_TIMES = 5
COMPRESSION_ENABLED = True
# 429 and 503 are retried (Scrapy's default RETRY_HTTP_CODES); crawlers.politeness makes the retry
# wait for Retry-After (Scrapy 2.19 ignores it), up to NEWSDESK_RETRY_AFTER_MAX seconds.
RETRY_ENABLED = True
RETRY_TIMES = 2
NEWSDESK_RETRY_AFTER_MAX = 120.0
#: robots.txt Crawl-delay is honoured up to this many seconds between requests to a host.
NEWSDESK_MAX_CRAWL_DELAY = 120.0
# News pages are fetched stateless: no consent or session cookies that change what we see.
COOKIES_ENABLED = False
# No control ports: Scrapy 2.19 opens a remote-control HTTP server per crawl by default.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# No Referer header: a site learns nothing from which of its own feeds or listings led to a page,
# and Scrapy's referrer policy costs a URL parse per request.
REFERER_ENABLED = False
# A periodic report nobody reads: the crawl prints its own progress (crawlers.extensions).
# MemoryUsage stays on: it is also the guard `-s MEMUSAGE_LIMIT_MB=...` sets, checked once a
# minute at no cost per page.
LOGSTATS_INTERVAL = 0

# --- Our components ---------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Before RobotsTxtMiddleware (100), so a refused host is not even asked for robots.txt.
    "crawlers.middlewares.PrivateAddressGuardMiddleware": 50,
    # Scrapy's RobotsTxtMiddleware, checking every request that waited for robots.txt (same place).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.politeness.RobotsTxtMiddleware": 100,
    # After robots.txt and the guard: a refused article page never costs a tdmrep.json fetch.
    "crawlers.page_rules.TdmRepMiddleware": 150,
    # Scrapy's RetryMiddleware, reading Retry-After on 429/503 (same place, 550).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.politeness.RetryAfterMiddleware": 550,
    # Responses pass middlewares from high to low: a challenge page is caught before retry.
    "crawlers.blocking.BlockedPageMiddleware": 560,
    # Last before the downloader: wait for the host's gate (Crawl-delay, Retry-After).
    "crawlers.politeness.PacingMiddleware": 890,
    # No site credentials on a news crawl: nothing would ever set them.
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
}
# Scrapy's spider middlewares a news crawl does not use; each wraps every callback's output in
# one more async generator. Depth is bounded by our own sitemap depth and listing page limits.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    # A warning for spiders that copy response.meta into new requests; ours never do.
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.RawPagesPipeline": 300,
}
EXTENSIONS = {
    "crawlers.runs.CrawlRunRecorder": 100,
    "crawlers.extensions.ProgressReporter": 500,
    # Every crawl has a JOBDIR (the spider's request queue on disk, thrown away unless given
    # with -s); the spider keeps nothing in `spider.state` (a rerun resumes from raw_pages).
    "scrapy.extensions.spiderstate.SpiderState": None,
}

#: Refuse hosts that resolve to loopback/private/link-local/reserved addresses.
NEWSDESK_ALLOW_PRIVATE_ADDRESSES = False
#: "host:port" origins trusted although private (e.g. an internal mirror); only these, exactly.
NEWSDESK_ALLOWED_PRIVATE_ORIGINS: list[str] = []
#: Sources crawled at once by one `python -m crawlers` (the rest wait their turn): each holds two
#: database connections and its own Scrapy engine, so a run over every source must not open them
#: all at once (PostgreSQL's default max_connections is 100).
NEWSDESK_SOURCES_AT_ONCE = 16
#: raw_pages rows written per INSERT, and the longest a fetched page waits to be written.
NEWSDESK_BATCH_SIZE = 100
NEWSDESK_BATCH_SECONDS = 2.0
#: Links followed from one feed, sitemap or listing page (the sitemap protocol's own maximum);
#: the rest are counted (newsdesk/links_over_bound) and the document marked incomplete.
NEWSDESK_MAX_LINKS_PER_DOCUMENT = 50_000
#: Sitemap index nesting followed (index -> index -> sitemap).
NEWSDESK_SITEMAP_DEPTH = 3
#: Seconds between progress lines on stderr (0: none).
NEWSDESK_PROGRESS_INTERVAL = 5.0

# Scrapy starts this many asyncio workers for *every* callback's output; an article callback
# yields one item, so the default 100 mostly costs task churn (~20% of the crawl's CPU).
CONCURRENT_ITEMS = 8

# --- Engine -----------------------------------------------------------------------------------
# The connection's own lookup hands Twisted public addresses only (the guard's check, repeated
# where it cannot be fooled by a second DNS answer); IPv4 and IPv6, cached per process. Like
# Scrapy's own IPv6-capable resolver it has no DNS_TIMEOUT: the system resolver's applies.
TWISTED_DNS_RESOLVER = "crawlers.resolver.PublicAddressResolver"
#: The name lookup that resolver filters, as a class wrapping the reactor's own (getaddrinfo);
#: empty: the reactor's. The rebinding test puts a hostile DNS here, under the shipped resolver.
NEWSDESK_NAME_LOOKUP = ""
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "WARNING"
