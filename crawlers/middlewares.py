"""The private-address guard: a news source must never become a way into the internal network.

Scrapy has no such middleware, so this one is written by hand. It refuses any request whose host
is, or resolves to, a loopback, private, link-local, multicast or otherwise non-global address
(IPv6 forms that embed one included: `pipeline.text.urls.is_public_address` judges), and any
whose host does not resolve at all, unless the source says `allow_private_addresses: true` (the
demo site and tests). Redirects are covered too: RedirectMiddleware hands the redirected request
back to the engine, which sends it through every downloader middleware again, this one included.

This is the policy check, with the source's name in its one-line refusal. The connection makes
its own lookup a moment later, which `crawlers.resolver.PublicAddressResolver` filters the same
way, so a DNS server answering differently the second time (DNS rebinding) gains nothing.

Behind the operator's HTTP proxy the guard still vets each host with this machine's DNS, so a
host only the proxy can resolve is refused (the refusal names the proxy), and the proxy's own
lookup, not ours, picks the address connected to: there, rebinding is not caught.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import proxy_bypass

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from crawlers.resolver import allow_private_host, operator_proxies
from pipeline.text.urls import is_public_address

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

REFUSED_STAT = "newsdesk/refused_private_address"


def non_public_addresses(addresses: list[str]) -> list[str]:
    """The addresses (as text) that are not public; an unparseable one counts as not public."""
    return [text for text in addresses if not is_public_address(text)]


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (all getaddrinfo answers, IPv4 and IPv6)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


class PrivateAddressGuardMiddleware:
    """Downloader middleware: IgnoreRequest for hosts with a non-public address, a DNS error for
    hosts that do not resolve; for a source that allows private addresses, tells the resolver."""

    def __init__(
        self,
        stats: StatsCollector,
        source: str,
        allowed_origins: frozenset[str] = frozenset(),
        *,
        allow_private: bool = False,
        proxies: dict[str, str] | None = None,
    ) -> None:
        self.stats = stats
        self.source = source
        # The source allows private addresses: tell the connection's resolver, refuse nothing.
        self.allow_private = allow_private
        # host:port origins an operator trusts although they are private (an internal mirror).
        self.allowed_origins = allowed_origins
        # host -> the non-public addresses it resolved to ([] when public); one lookup per host.
        self._verdicts: dict[str, list[str]] = {}
        # scheme -> the operator's proxy, as HttpProxyMiddleware (after this one) will apply it.
        self.proxies = proxies or {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuardMiddleware:
        return cls(
            crawler.stats,
            crawler.settings.get("NEWSDESK_SOURCE") or "?",
            frozenset(
                o.lower() for o in crawler.settings.getlist("NEWSDESK_ALLOWED_PRIVATE_ORIGINS")
            ),
            allow_private=crawler.settings.getbool("NEWSDESK_ALLOW_PRIVATE_ADDRESSES"),
            proxies=operator_proxies() if crawler.settings.getbool("HTTPPROXY_ENABLED") else {},
        )

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        host = (parts.hostname or "").lower()
        if not host:
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.allow_private or f"{host}:{port}" in self.allowed_origins:
            allow_private_host(host)
            return
        if host not in self._verdicts:
            try:
                addresses = await resolve(host, port)
            except OSError as exc:
                # Unvetted is refused. A lookup error, not IgnoreRequest: it may pass (retried,
                # and not remembered as a lasting failure); not cached, so the retry looks again.
                raise DNSLookupError(f"refused {request.url}: {host} does not resolve ({exc})"
                                     f"{self._through_proxy(request, host)}") from exc
            self._verdicts[host] = non_public_addresses(addresses)
        bad = self._verdicts[host]
        if bad:
            self.stats.inc_value(REFUSED_STAT)
            message = (
                f"refused {request.url}: {host} resolves to non-public address "
                f"{', '.join(bad)} (source '{self.source}' does not set "
                f"allow_private_addresses: true){self._through_proxy(request, host)}"
            )
            logger.warning(message)
            raise IgnoreRequest(message)

    def _through_proxy(self, request: Request, host: str) -> str:
        """Why the refusal stands although the request would go through a proxy (which resolves
        names itself), naming the proxy without its credentials; "" when none applies."""
        proxy = request.meta.get("proxy") if "proxy" in request.meta else (
            None if proxy_bypass(host) else self.proxies.get(urlparse_cached(request).scheme))
        if not proxy:
            return ""
        parts = urlsplit(proxy if "//" in proxy else f"//{proxy}")
        shown = f"{parts.scheme or 'http'}://{parts.netloc.rpartition('@')[2]}"
        return f"; through proxy {shown} too: the guard vets every host with this machine's DNS"
