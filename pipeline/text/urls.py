"""URL identity: the key that says when two URLs name one page, AMP pages, registered domains,
and which IP addresses are public (the private-address guard's one judge)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import tld
from w3lib.url import canonicalize_url, safe_url_string

# Query parameters that only track the visitor, never select content. Not courlan's tracker
# pattern: it also drops any name like `ref`, `source`, `session`, `cid`, `uid` or `eid`, which
# select the page on some sites (`article.php?cid=5`). A link with `?ref=rss` costs one more
# fetch when discovery also lists it bare; merging two pages would cost one of them.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id",
    "oly_enc_id", "rb_clickid", "s_cid", "vero_id", "wickedid", "cmpid", "ocid", "ncid",
    "ref_src", "ref_url", "smid", "share", "utm", "at_medium", "at_campaign", "xtor",
    "__twitter_impression", "sr_share", "spm", "cid_source",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "hmb_", "ga_")

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def is_tracking_param(name: str) -> bool:
    """True for a query parameter name that only tracks the visitor (case-blind)."""
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def url_to_request(found: str) -> str:
    """The URL to fetch for a link as discovered: trimmed, fragment removed, nothing else.

    Never the key: a server may answer `story.php?12345` and `story.php?12346` differently, and
    only the address the site itself wrote is sure to name the page it means."""
    return found.strip().partition("#")[0]


def url_key(url: str) -> str:
    """The identity of the resource a URL names (used for every comparison: the seen-check,
    raw_pages, articles). Two URLs share a key only when they are one address by RFC 3986's
    equivalences, but for the order of query pairs, empty ones and tracking parameters.

    w3lib's `canonicalize_url` (Scrapy's request fingerprint) lower-cases scheme and host,
    IDNA-encodes the host, normalises percent-escapes and dot segments in the path and keeps
    `;params`; the default port, the fragment (`#!` included: it is never sent, so both
    addresses fetch the same bytes) and tracking parameters are dropped, and the query sorted.
    A URL with no scheme or host keeps its path as written; one that cannot be parsed is returned
    trimmed.
    """
    url = url.strip()
    try:
        parts = urlsplit(safe_url_string(url))
        query = _query_key(parts.query)
        if not parts.scheme or not parts.netloc:  # a relative URL: only its query and fragment
            return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        base = canonicalize_url(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))
    except ValueError:  # e.g. an unclosed IPv6 host "http://[::1", or a host IDNA refuses
        return url
    scheme, netloc, path, _, _ = urlsplit(base)
    if scheme in _DEFAULT_PORTS:
        netloc = netloc.removesuffix(_DEFAULT_PORTS[scheme])
    return urlunsplit((scheme, netloc, path, query, ""))


def _query_key(query: str) -> str:
    """The query's pairs without tracking ones, sorted, each piece kept as written but for
    percent-escapes (unreserved characters decoded, hex upper-cased: RFC 3986 6.2.2).

    Hand-written because w3lib's query canonicalisation reads the query as a form: it writes
    `?12345` as `?12345=` and `?/archives/123` as `?%2Farchives%2F123=`, which a server reading
    the raw query string (`index.php?/archives/123`) takes for another page."""
    pieces = []
    for piece in query.split("&"):
        if piece and not is_tracking_param(unquote_plus(piece.partition("=")[0])):
            pieces.append(_ESCAPE.sub(_normal_escape, piece))
    return "&".join(sorted(pieces))


def _normal_escape(match: re.Match[str]) -> str:
    char = chr(int(match[1], 16))
    return char if char in _UNRESERVED else "%" + match[1].upper()


_AMP_FLAGS = frozenset({"amp", "_amp", "amp_js_v", "usqp"})


def amp_to_canonical(url: str) -> str:
    """The regular page's URL for an AMP URL, by the common conventions: an `amp.` host,
    `/amp/` or a trailing `/amp` path segment, `.amp.html`/`.amp` suffixes, `?amp=1`,
    `?outputType=amp`. Anything else is returned unchanged. Used only when the AMP page names no
    canonical page of its own (`<link rel=canonical>` always wins)."""
    parts = urlsplit(url)
    host, path = parts.netloc, parts.path
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not (k.lower() in _AMP_FLAGS
                     or (k.lower() in ("outputtype", "output") and v.lower() == "amp"))]
    if host.lower().startswith("amp."):
        host = host[4:]
    path = re.sub(r"/amp(?=/|$)", "", path, count=1, flags=re.IGNORECASE) or "/"
    path = re.sub(r"\.amp(?=\.html?$|$)", "", path, flags=re.IGNORECASE)
    return urlunsplit((parts.scheme, host, path, urlencode(query), parts.fragment))


#: IPv6 prefixes that carry an IPv4 address in their last 32 bits: IPv4-compatible (::/96),
#: SIIT's IPv4-translated addresses (::ffff:0:0:0/96, RFC 2765; not the IPv4-mapped ::ffff:0:0/96
#: Python knows) and NAT64's well-known prefix (RFC 6052): each reaches that IPv4 address on a
#: translating network.
_IPV4_IN_LAST_32_BITS = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("::ffff:0:0:0/96"),
                         ipaddress.IPv6Network("64:ff9b::/96"))
#: NAT64 local-use prefix (RFC 8215): site-local by definition, whatever it embeds.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, compatible, SIIT, NAT64, 6to4,
    Teredo."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)  # (server, client): both are contacted
    if any(address in network for network in _IPV4_IN_LAST_32_BITS):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def is_public_address(text: str) -> bool:
    """Whether an IP address (text, IPv6 zone id allowed) is globally routable unicast: the one
    judge of the private-address guard. An IPv6 form that embeds an IPv4 address is judged by
    that address too (Python's `is_global` calls `::127.0.0.1` or `2002:7f00:1::` global).
    Anything unparseable is not public."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return False
        inner = _embedded_ipv4(address)
        if inner:
            return all(ip.is_global and not ip.is_multicast for ip in inner)
    return address.is_global and not address.is_multicast


@lru_cache(maxsize=4096)
def registered_domain(url_or_host: str) -> str:
    """The registrable domain (`bbc.co.uk` for `news.bbc.co.uk`).

    For IP addresses and single-label names such as `localhost` there is no registrable domain:
    the site is the host with its port, since two ports on one address are two servers (the
    demo site runs each publisher on its own port of 127.0.0.1)."""
    if not url_or_host:
        return ""
    parts = urlsplit(url_or_host if "//" in url_or_host else f"//{url_or_host}")
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    origin = f"{host}:{port}" if port else host
    try:
        ipaddress.ip_address(host)
        return origin
    except ValueError:
        pass
    if "." not in host:
        return origin
    return tld.get_fld(host, fix_protocol=True, fail_silently=True) or host


def same_site(url_a: str, url_b: str) -> bool:
    """True when both URLs are on the same registered domain."""
    return bool(url_a and url_b) and registered_domain(url_a) == registered_domain(url_b)


def on_domains(url: str, domains: Iterable[str]) -> bool:
    """True when `url` is http(s) on one of the domains or a subdomain of one: the hosts a
    source's crawl may fetch from, and a WARC record's source. Scrapy's url_is_from_any_domain
    compares the netloc, port included, so it would refuse every page of a site served on a
    port. Not a URL at all (`http://[::1`): False."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains))
