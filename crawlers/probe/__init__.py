"""`python -m crawlers.probe`: look at a source before it goes live, without storing anything.

    python -m crawlers.probe check NAME [--sources PATH] [--articles N]
    python -m crawlers.probe discover URL [--allow-private-addresses] [--delay SECONDS]

`check` (`crawlers.probe.check`) is a dry run of the crawl itself: the news spider with the
crawl's settings, middlewares, politeness, robots.txt and limits, but no database, stopped after
the first N articles; it reports what each discovery method found, robots.txt, the articles'
field completeness and warnings. `discover` (`crawlers.probe.discover`) finds a site's feeds and
sitemaps through the same Scrapy stack and prints a YAML entry to review.

`newsdesk sources check|discover` runs this as a subprocess, as it does the crawl, so `pipeline`
never imports `crawlers`; one Scrapy crawl per process, as Twisted's reactor cannot restart.
"""
