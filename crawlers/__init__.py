"""newsdesk's crawl stage: a Scrapy project with one generic, configuration-driven news spider.

Run it with `python -m crawlers --source NAME` (several sources crawl concurrently in one
process) or `scrapy crawl news -a source=NAME` from the repository root. It writes the
`sources`, `crawl_runs` and `raw_pages` tables; processing reads `raw_pages` later.
"""
