"""The Scrapy settings one source's YAML sets: who we say we are, how fast, which addresses."""

from __future__ import annotations

from scrapy.settings import Settings

from pipeline import __version__
from pipeline.sources.config import Source


def user_agent(contact: str) -> str:
    """The honest User-Agent: the project, its version and where a site owner can reach us."""
    return f"newsdesk/{__version__} (+{contact})"


def apply_source_settings(settings: Settings, source: Source) -> None:
    """Per-source crawl settings, at "spider" priority (a `-s` on the command line still wins)."""
    settings.set("NEWSDESK_SOURCE", source.name, priority="spider")
    settings.set("USER_AGENT", user_agent(source.contact), priority="spider")
    settings.set(
        "NEWSDESK_ALLOW_PRIVATE_ADDRESSES", source.allow_private_addresses, priority="spider"
    )
    settings.set("DOWNLOAD_DELAY", source.politeness.delay, priority="spider")
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", source.politeness.concurrency, priority="spider")
    # AutoThrottle only when there is a delay at all (after any command-line override).
    delay = settings.getfloat("DOWNLOAD_DELAY")
    settings.set("AUTOTHROTTLE_ENABLED", delay > 0, priority="spider")
    settings.set("AUTOTHROTTLE_START_DELAY", max(delay, 1.0), priority="spider")
    settings.set(
        "AUTOTHROTTLE_TARGET_CONCURRENCY", float(source.politeness.concurrency), priority="spider"
    )
