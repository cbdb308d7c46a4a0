"""URL identity: canonical URLs, AMP pages, registered domains."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan
import tld

# Query parameters that only track the visitor, never select content. courlan's strict mode
# knows most of them; this list makes the contract explicit and adds the ones it misses.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id",
    "oly_enc_id", "rb_clickid", "s_cid", "vero_id", "wickedid", "cmpid", "ocid", "ncid",
    "ref_src", "ref_url", "smid", "share", "utm", "at_medium", "at_campaign", "xtor",
    "__twitter_impression", "sr_share", "spm", "cid_source",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "hmb_", "ga_")


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The URL without tracking parameters or fragment, host lower-cased, default port dropped.

    Remaining query parameters are sorted, and percent-encoding normalised (courlan), so that
    two links to the same page compare equal. A URL courlan cannot handle is returned trimmed.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 host "http://[::1": nothing to normalise
        return url
    if not parts.scheme or not parts.netloc:
        return url
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    )
    stripped = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query,
                           ""))
    try:
        return courlan.normalize_url(stripped, strict=False)
    except (ValueError, AttributeError):
        return stripped


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
