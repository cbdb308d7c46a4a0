"""The private-address guard: a news source must never become a way into the internal network.

Scrapy has no such middleware, so this one is written by hand. It refuses any request whose host
is, or resolves to, a loopback, private, link-local, multicast or otherwise non-global address,
unless the source says `allow_private_addresses: true` (the demo site and tests). Redirects are
covered too: RedirectMiddleware hands the redirected request back to the engine, which sends it
through every downloader middleware again, this one included.

Known limit: the check resolves the name itself, apart from the connection Twisted makes a moment
later, so a hostile DNS server answering differently the second time (DNS rebinding) could slip
through. Closing that needs a resolver installed on the reactor, which is process-wide and so
cannot differ per source; the guard is a policy check, not a network sandbox.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REFUSED_STAT = "newsdesk/refused_private_address"


def is_public_address(address: IPAddress) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as its IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def non_public_addresses(addresses: list[str]) -> list[str]:
    """The addresses (as text) that are not public; an unparseable one counts as not public."""
    bad = []
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
        except ValueError:
            bad.append(text)
            continue
        if not is_public_address(address):
            bad.append(text)
    return bad


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
    """Downloader middleware: IgnoreRequest for hosts with a non-public address."""

    def __init__(
        self, stats: StatsCollector, source: str, allowed_origins: frozenset[str] = frozenset()
    ) -> None:
        self.stats = stats
        self.source = source
        # host:port origins an operator trusts although they are private (an internal mirror).
        self.allowed_origins = allowed_origins
        # host -> the non-public addresses it resolved to ([] when public); one lookup per host.
        self._verdicts: dict[str, list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuardMiddleware:
        if crawler.settings.getbool("NEWSDESK_ALLOW_PRIVATE_ADDRESSES"):
            raise NotConfigured  # the source allows private addresses (no message: no log line)
        return cls(
            crawler.stats,
            crawler.settings.get("NEWSDESK_SOURCE") or "?",
            frozenset(
                o.lower() for o in crawler.settings.getlist("NEWSDESK_ALLOWED_PRIVATE_ORIGINS")
            ),
        )

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        host = (parts.hostname or "").lower()
        if not host:
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if f"{host}:{port}" in self.allowed_origins:
            return
        if host not in self._verdicts:
            try:
                addresses = await resolve(host, port)
            except OSError:
                # Unresolvable: nothing to refuse; the download fails with Scrapy's DNS error.
                return
            self._verdicts[host] = non_public_addresses(addresses)
        bad = self._verdicts[host]
        if bad:
            self.stats.inc_value(REFUSED_STAT)
            message = (
                f"refused {request.url}: {host} resolves to non-public address "
                f"{', '.join(bad)} (source '{self.source}' does not set "
                "allow_private_addresses: true)"
            )
            logger.warning(message)
            raise IgnoreRequest(message)
