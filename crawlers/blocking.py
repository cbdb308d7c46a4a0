"""Bot walls and challenge pages: recognised, counted as blocked, never stored as articles.

`challenge_reason` is a pure function over a response's status, headers and body; the
`BlockedPageMiddleware` turns a match into IgnoreRequest (so no retry and no raw_pages row) and
counts it in the run's statistics with the URL.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

BLOCKED_STAT = "newsdesk/blocked"
BLOCKED_URLS_STAT = "newsdesk/blocked_urls"
_KEEP_URLS = 20

# Markers of challenge and bot-wall pages (Cloudflare, Akamai, DataDome, PerimeterX, Imperva,
# hCaptcha/reCAPTCHA walls, "enable JavaScript" interstitials). Checked in the first 64 kB.
_STRONG = re.compile(
    rb"challenge-platform|cf-chl-|cf_chl_opt|_cf_chl|__cf_chl|/cdn-cgi/challenge|"
    rb"captcha-delivery\.com|px-captcha|_Incapsula_Resource|geo\.captcha-delivery|"
    rb"<title>\s*(?:just a moment|attention required|access denied|are you a robot|"
    rb"pardon our interruption|verifying you are human)",
    re.IGNORECASE,
)
_WEAK = re.compile(
    rb"captcha|enable javascript|javascript is (?:disabled|required)|verify you are (?:a )?human|"
    rb"unusual traffic|bot detection|please turn javascript on",
    re.IGNORECASE,
)
_CHALLENGE_HEADERS = (b"cf-mitigated", b"x-datadome", b"x-amzn-waf-action")
#: A 200 page this small with a weak marker is an interstitial, not an article.
_SMALL_PAGE = 12_000


def challenge_reason(status: int, headers: Any, body: bytes) -> str | None:
    """Why the response is a bot wall or challenge page, or None when it is not one."""
    for name in _CHALLENGE_HEADERS:
        value = headers.get(name) if headers is not None else None
        if value:
            return f"HTTP {status} with {name.decode()}: {value.decode('latin-1')}"
    head = body[:65536]
    strong = _STRONG.search(head)
    if strong:
        return f"HTTP {status} challenge page ({strong.group(0).decode('latin-1').strip()})"
    if status in (401, 403, 429, 503) or len(body) < _SMALL_PAGE:
        weak = _WEAK.search(head)
        if weak and (status != 200 or b"<article" not in head.lower()):
            return f"HTTP {status} bot wall ({weak.group(0).decode('latin-1')})"
    return None


class BlockedPageMiddleware:
    """Downloader middleware: a challenge page becomes IgnoreRequest, counted per URL."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.source = crawler.settings.get("NEWSDESK_SOURCE") or "?"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockedPageMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        if request.meta.get("dont_obey_robotstxt") or response.status in (301, 302, 303, 304):
            return response  # robots.txt and redirects are not pages
        content_type = response.headers.get(b"Content-Type", b"").lower()
        html = b"html" in content_type or not content_type
        if response.status >= 400 or (html and len(response.body) < _SMALL_PAGE):
            reason = challenge_reason(response.status, response.headers, response.body)
        else:
            reason = challenge_reason(response.status, response.headers, response.body[:0])
        if reason is None:
            return response
        self.stats.inc_value(BLOCKED_STAT)
        urls = list(self.stats.get_value(BLOCKED_URLS_STAT) or [])
        if len(urls) < _KEEP_URLS:
            self.stats.set_value(BLOCKED_URLS_STAT, [*urls, request.url])
        message = f"blocked: {request.url}: {reason}"
        logger.warning("[%s] %s", self.source, message)
        raise IgnoreRequest(message)
