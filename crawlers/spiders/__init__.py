"""The crawl's spiders: one generic `news` spider serves every source."""
