"""A DNS that answers 127.0.0.1 for every `*.rebind.test` name, for the crawl's resolver test.

`LoopbackNames` is the crawl's own `PublicAddressResolver` with this DNS underneath, installed
in a crawl subprocess with `-s TWISTED_DNS_RESOLVER=tests.hostile_dns.LoopbackNames`: a hostile
DNS server's answer, without editing /etc/hosts.
"""

from __future__ import annotations

from typing import Any

from scrapy.resolver import HostResolution
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHostnameResolver
from zope.interface import implementer

from crawlers.resolver import PublicAddressResolver

HOSTILE_SUFFIX = ".rebind.test"


@implementer(IHostnameResolver)
class _LoopbackDNS:
    """127.0.0.1 for the hostile names; the real resolver for the rest."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def resolveHostName(self, receiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Any = None, transportSemantics: str = "TCP") -> Any:
        if not hostName.endswith(HOSTILE_SUFFIX):
            return self.real.resolveHostName(receiver, hostName, portNumber, addressTypes,
                                             transportSemantics)  # fmt: skip
        resolution = HostResolution(hostName)
        receiver.resolutionBegan(resolution)
        receiver.addressResolved(IPv4Address("TCP", "127.0.0.1", portNumber))
        receiver.resolutionComplete()
        return resolution


class LoopbackNames(PublicAddressResolver):
    """The crawl's resolver, asking the hostile DNS."""

    def __init__(self, reactor: Any, cache_size: int, **kwargs: Any) -> None:
        super().__init__(reactor, cache_size, **kwargs)
        self.original_resolver = _LoopbackDNS(self.original_resolver)
