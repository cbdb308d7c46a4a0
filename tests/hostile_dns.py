"""A DNS that answers 127.0.0.1 for every `*.rebind.test` name, for the crawl's resolver test.

`LoopbackDNS` replaces only the name lookup beneath the crawl's shipped resolver
(`crawlers.resolver.PublicAddressResolver`, which filters its answers), in a crawl subprocess
with `-s NEWSDESK_NAME_LOOKUP=tests.hostile_dns.LoopbackDNS`: a hostile DNS server's answer,
without editing /etc/hosts.
"""

from __future__ import annotations

from typing import Any

from scrapy.resolver import HostResolution
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHostnameResolver
from zope.interface import implementer

HOSTILE_SUFFIX = ".rebind.test"


@implementer(IHostnameResolver)
class LoopbackDNS:
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

