"""The connection's own address check: a name resolver that hands Twisted only public addresses.

The private-address guard (`crawlers.middlewares`) vets a request's host before it is sent, but
the connection looks the name up again a moment later: a DNS server answering differently the
second time (DNS rebinding) would slip past it. Installed as Scrapy's `TWISTED_DNS_RESOLVER`,
this resolver drops every non-public answer, so the connection can only use a vetted address;
a name with no public answer fails as a DNS lookup error. Scrapy's caching resolver does the
lookups; what it caches is the full answer, filtered on every use.

The reactor, and so this resolver, is one per process, which may crawl several sources: a host
asked for by a source that sets `allow_private_addresses: true` (the guard says so with
`allow_private_host`) keeps its private answers for the rest of the process, and so does the
operator's HTTP proxy. Through a proxy, the proxy resolves the page's host and this resolver
never sees it: the guard still vets the name with our own DNS, but a name that answers the
proxy differently (DNS rebinding) is not caught there (docs/reliability.md).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import getproxies

from scrapy.resolver import CachingHostnameResolver
from scrapy.utils.misc import load_object
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import provider

from pipeline.text.urls import is_public_address

if TYPE_CHECKING:
    from collections.abc import Sequence

    from twisted.internet.interfaces import IAddress, IHostResolution

logger = logging.getLogger(__name__)

#: Host names (lower case) whose private answers this process passes on to the connection.
_PRIVATE_ALLOWED: set[str] = set()


def operator_proxies() -> dict[str, str]:
    """The operator's proxy URL by scheme, from the variables Scrapy's HttpProxyMiddleware reads
    (`http_proxy`, `https_proxy`, ...); the `no_proxy` list left out."""
    return {scheme: proxy for scheme, proxy in getproxies().items() if scheme != "no"}


def allow_private_host(host: str) -> None:
    """Let the connection use `host`'s private addresses (its source allows them)."""
    _PRIVATE_ALLOWED.add(host.lower())


@provider(IResolutionReceiver)
class _PublicAnswers:
    """Passes on a lookup's public addresses only, and logs what it held back."""

    def __init__(self, receiver: IResolutionReceiver, host: str) -> None:
        self.receiver = receiver
        self.host = host
        self.held_back: list[str] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        if is_public_address(address.host):
            self.receiver.addressResolved(address)
        else:
            self.held_back.append(address.host)

    def resolutionComplete(self) -> None:
        if self.held_back:
            logger.warning("refused connecting to %s: it resolves to non-public address %s",
                           self.host, ", ".join(self.held_back))  # fmt: skip
        self.receiver.resolutionComplete()


class PublicAddressResolver(CachingHostnameResolver):
    """Scrapy's caching resolver (IPv4 and IPv6), minus the non-public answers."""

    def __init__(self, reactor: Any, cache_size: int, *, allow_private: bool = False) -> None:
        super().__init__(reactor, cache_size)
        # `-s NEWSDESK_ALLOW_PRIVATE_ADDRESSES=1` for the whole process: every answer passes.
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PublicAddressResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool("NEWSDESK_ALLOW_PRIVATE_ADDRESSES")
        if lookup := crawler.settings.get("NEWSDESK_NAME_LOOKUP"):
            resolver.original_resolver = load_object(lookup)(resolver.original_resolver)
        if crawler.settings.getbool("HTTPPROXY_ENABLED"):
            # The operator's proxy (Scrapy's HttpProxyMiddleware reads the same variables) is
            # often internal; through it, the proxy resolves the page's host, not us.
            for proxy in operator_proxies().values():
                if host := urlsplit(proxy if "//" in proxy else f"//{proxy}").hostname:
                    allow_private_host(host)
        return resolver

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        if not self.allow_private and hostName.lower() not in _PRIVATE_ALLOWED:
            resolutionReceiver = _PublicAnswers(resolutionReceiver, hostName)
        return super().resolveHostName(
            resolutionReceiver, hostName, portNumber, addressTypes, transportSemantics
        )
