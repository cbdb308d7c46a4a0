"""Normalisation helpers: canonical URLs, UTC dates, author lists, body text, content hash.

Pure functions with no I/O, shared by the extract stage and anything that compares articles.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import courlan
import dateparser
import dateparser.date
import ftfy
import tld

# --- URLs -----------------------------------------------------------------------------------

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


# --- dates ----------------------------------------------------------------------------------

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Tolerance for dates "in the future": covers clock skew and a naive local time read in the
# wrong zone (UTC+14 at worst), while rejecting embargo/event dates and placeholder years.
MAX_FUTURE_SKEW = timedelta(hours=15)
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


def to_utc(value: datetime, tz: str | None = None) -> datetime:
    """An aware UTC datetime: naive values are read in `tz` (an IANA name), else in UTC."""
    return _aware(value, tz).astimezone(UTC)


def parse_date(value: str | datetime | date | None, tz: str | None = None,
               languages: list[str] | None = None) -> datetime | None:
    """Parse a date as found in metadata or a byline into aware UTC, or None.

    ISO 8601 first (fast path, most metadata); anything else through dateparser in the given
    languages. A bare calendar date ("2026-03-12") is kept as midnight UTC of that day so that
    the declared day survives any time zone.
    """
    parsed = parse_date_local(value, tz, languages)
    try:
        return to_utc(parsed) if parsed else None
    except OverflowError:  # year 1 east of UTC: not a publication date anyway
        return None


def parse_date_local(value: str | datetime | date | None, tz: str | None = None,
                     languages: list[str] | None = None) -> datetime | None:
    """Like `parse_date`, but keeps the offset the page declared (the publisher's calendar day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = " ".join(str(value).split())
    if not text or len(text) > 200:
        return None
    if _DATE_ONLY.match(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            return None
    try:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
    except ValueError:
        pass
    parsed = None
    for langs in (tuple(languages or ()), ("en",)):
        try:
            parsed = _date_parser(langs).get_date_data(text).date_obj
        except (ValueError, TypeError, OverflowError, KeyError):
            parsed = None
        if parsed is not None or langs == ("en",):
            break
    return _aware(parsed, tz) if parsed else None


@lru_cache(maxsize=64)
def _date_parser(languages: tuple[str, ...]) -> dateparser.date.DateDataParser:
    """One dateparser parser per language set: building one (what `dateparser.parse` does on
    every call with languages) costs far more than parsing a date. No languages: all locales,
    the slow path, only when the page's language is unknown."""
    # No "relative-time": "2025 week" or "late 2025" would become a date counted back from the
    # clock of the machine. Relative bylines go through `parse_relative`, against the fetch time.
    settings = {"RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DAY_OF_MONTH": "first",
                "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
                "REQUIRE_PARTS": ["day", "month", "year"]}
    try:
        return dateparser.date.DateDataParser(languages=list(languages) or None, settings=settings)
    except ValueError:  # a language dateparser does not know
        return dateparser.date.DateDataParser(settings=settings)


# Bylines that give the date relative to when the page was served.
RELATIVE_DATE = re.compile(
    r"\b(?:ago|yesterday|today|just now|hier|aujourd'hui|il y a|gestern|heute|vorgestern|"
    r"vor\s+\d+|hace|ayer|hoy|ieri|oggi|\d+\s+(?:min|mins|minutes?|hours?|hrs?|h|days?)\b|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|lundi|mardi|mercredi|jeudi|vendredi|samedi|"
    r"dimanche|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lunes|martes|"
    r"miércoles|jueves|viernes|sábado|domingo)\b",
    re.IGNORECASE,
)


def parse_relative(text: str, reference: datetime, tz: str | None = None,
                   languages: list[str] | None = None) -> datetime | None:
    """"3 hours ago", "yesterday", "Monday", "hier à 14h30", "vor 2 Tagen": a date counted back
    from `reference` (the fetch time) on the source's wall clock (`tz`), aware, or None.

    Only for short byline texts: a weekday named in a story ("On Monday, ...") is not a date of
    publication, so callers pass byline elements, never article text."""
    text = " ".join(text.split())
    if not text or len(text) > 80 or not RELATIVE_DATE.search(text):
        return None
    zone = ZoneInfo(tz) if tz else UTC
    local_now = to_utc(reference).astimezone(zone).replace(tzinfo=None)
    # A parser per call: RELATIVE_BASE is a setting. Relative bylines are rare, so the cost
    # (a few ms) is paid on few pages.
    settings = {"RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DATES_FROM": "past",
                "RELATIVE_BASE": local_now}
    for candidate in (text, RELATIVE_DATE.search(text).group(0)):
        try:
            parsed = dateparser.parse(candidate, languages=list(languages or ["en"]),
                                      settings=settings)
        except (ValueError, TypeError, OverflowError, KeyError):
            parsed = None
        if parsed is None:
            continue
        value = parsed.replace(tzinfo=zone)
        if value <= to_utc(reference).astimezone(zone) + MAX_FUTURE_SKEW:
            return value
    return None


def _aware(value: datetime, tz: str | None) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=ZoneInfo(tz) if tz else UTC)
    return value


def plausible_date(value: datetime | None, reference: datetime | None = None) -> bool:
    """Not before 1990 and not after `reference` (the fetch time, else now) plus a small skew."""
    if value is None:
        return False
    reference = reference or datetime.now(UTC)
    return EARLIEST <= to_utc(value) <= to_utc(reference) + MAX_FUTURE_SKEW


# --- authors --------------------------------------------------------------------------------

_BY_PREFIX = re.compile(
    r"^(?:(?:text|texte|written|posted|reported|words|story|photos?|fotos?|report|reporting|"
    r"articles?|recipe|authored|compiled|interview)\s*(?:by|:)|"
    # an author box's link: "View all posts by Jane Doe", "Read more about Jane Doe"
    r"(?:(?:view|see|read)\s+)?(?:all|more)\s+(?:posts|articles|stories)\s+(?:by|from)|"
    r"(?:read\s+)?more\s+(?:from|about)|this\s+(?:post|article)\s+was\s+written\s+by|"
    r"by|par|von|door|por|av|przez|от|tekst|autor(?:a|in|es|en)?|authors?|auteurs?|"
    r"contributors?)"
    r"(?:\s*[:\-\u2013]\s*|\s+|$)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URLISH = re.compile(r"https?://\S+|www\.\S+")
# Separators between whole segments ("Jane Doe, Staff Writer | Example News • 4 min read"):
# a segment that is a job title is dropped whole before "and" splits it further.
_SEGMENTS = re.compile(r"\s*(?:;|\||/|,|[•·⋅]|\s[-\u2013\u2014]\s)\s*")
# Lower-case conjunctions only (case-sensitive), so an initial such as "E." is never a split.
_SPLIT = re.compile(r"\s*(?:&|\+|\b(?:and|And|AND|und|et|y|e|en|og|och|i|és|ve)\s)\s*")
_PARENS = re.compile(r"\([^)]*(?:\)|$)|\[[^\]]*(?:\]|$)")
_IN_PLACE = re.compile(r"\s+(?:in|en|aus|à|a|em)\s+[A-ZÀ-Ý][\w\-]+(?:\s+[A-Z][\w\-]+)?$")
# A piece made of these words is a role or job title, not a name.
_ROLE_WORDS = frozenset({
    "writer", "staff", "reporter", "correspondent", "editor", "editors", "editorial",
    "contributor", "contributing", "senior", "chief", "deputy", "managing", "associate",
    "columnist", "journalist", "photographer", "photos", "photo", "video", "producer", "news",
    "desk", "team", "newsroom", "updated", "published", "correspondant", "rédaction",
    "redaktion", "journaliste", "envoyé", "envoyée", "spéciale", "special", "political",
    "political-editor", "business", "technology", "tech", "health", "science", "sports",
    "sport", "culture", "opinion", "analyst", "analysis", "author", "authors", "guest",
    "intern", "freelance", "freelancer", "assistant", "executive", "digital", "online", "web",
    "international", "national", "economics", "economy", "arts", "critic", "host", "presenter",
    "anchor", "bureau", "agency", "lead", "head", "former", "founding", "sr", "principal",
    "reviewer", "co-founder", "cofounder", "founder",
})
# Words that end a job title ("Digital Security Expert", "Senior Autos Reporter", "Founder at
# Oakywood"). Trades that are common surnames (Baker, Bishop, Marshall...) are left out.
_TITLE_NOUNS = frozenset({
    "writer", "reporter", "editor", "correspondent", "columnist", "contributor", "journalist",
    "photographer", "producer", "founder", "co-founder", "cofounder", "ceo", "cto", "cfo", "coo",
    "president", "director", "manager", "expert", "specialist", "consultant", "analyst",
    "strategist", "marketer", "educator", "officer", "coordinator", "reviewer", "author",
    "blogger", "critic", "presenter", "researcher", "scientist", "engineer", "developer",
    "designer", "architect", "dietitian", "nutritionist", "therapist", "attorney", "lawyer",
    "advisor", "adviser", "planner", "trainer", "intern", "freelancer", "editor-in-chief",
    "owner", "partner", "professor", "lecturer", "student", "contributors", "writers",
})
_BYLINE_TITLES = frozenset({"writer", "reporter", "editor", "founder", "co-founder", "author",
                            "columnist", "correspondent", "contributor", "journalist"})
# Words a job title starts with: the role words, the title nouns, and departments ("Content
# Marketing Coordinator").
_TITLE_START = _ROLE_WORDS | _TITLE_NOUNS | {
    "content", "marketing", "product", "sales", "communications", "social", "media", "seo",
    "research", "engineering", "growth", "community", "customer", "data", "security", "sr.",
    "vp", "vice", "general", "lead", "head", "global", "regional", "creative", "brand"}
# Bylines that name a desk rather than a person: dropped beside a person, kept when the page
# names nobody else (the publisher's own "Staff" byline).
_GENERIC_AUTHORS = frozenset({
    "staff", "editor", "editors", "redaktion", "rédaction", "redazione", "redacción", "newsroom",
    "news desk", "web desk", "online desk", "anonymous", "guest", "guest author", "team",
    "editorial team", "editorial staff", "the editors", "red", "agenturen", "agencies",
})
_GENERIC_LAST_WORDS = frozenset({"team", "staff", "desk", "newsroom", "redaktion"})
_DANGLING = frozenset({"from", "by", "of", "with", "and", "the", "for", "at", "on", "in", "to"})
# Template placeholders, CMS defaults and the buttons an author box carries.
_PLACEHOLDER_AUTHORS = frozenset({"admin", "administrator", "unknown", "the author", "author",
                                  "name", "sign in", "log in", "login", "sign up", "subscribe",
                                  "follow", "folgen", "abonnieren", "suivre", "view profile"})


def _key(text: str) -> str:
    """Compare-key for names: NFKC, case-folded, letters and digits only."""
    return re.sub(r"\W+", "", unicodedata.normalize("NFKC", text).casefold())


_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def key_variants(text: str) -> set[str]:
    """`_key(text)` plus its accent-free and German-transliterated forms, so that a segment
    "Börsen-Zeitung" matches the domain boersen-zeitung.de."""
    key = _key(text)
    plain = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
    return {key, plain, key.translate(_GERMAN)} - {""}


def site_name_keys(*names: str | None) -> set[str]:
    """Keys a site may be called by: each name, and for a domain its label without TLD."""
    keys: set[str] = set()
    for name in names:
        if not name:
            continue
        keys |= key_variants(name)
        if "." in name and " " not in name.strip():
            host = name.strip().lower().removeprefix("www.")
            keys.add(_key(host.split(".")[0]))
            keys.add(_key(host))
    keys.discard("")
    return keys


# Where a byline stops being a name: a date or time glued on ("Gary MarcusDec 14, 2025",
# "Jane Doe 30 August 2023 • 4:45pm"), or an "updated" label ("Last Updated: August 1").
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_WEEKDAYS = r"(?:mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?"
_ORDINAL = r"(?:st|nd|rd|th)?"
# A written date, with its weekday and time if any ("Sat, 20 Dec, 2025 - 06:36",
# "December 2nd, 2025", "03/10/2023"); used in case-insensitive patterns.
DATE_PATTERN = (
    rf"(?:{_WEEKDAYS}\.?,?\s+)?(?:{_MONTHS}\.?\s+\d{{1,2}}{_ORDINAL},?\s+\d{{4}}"
    rf"|\d{{1,2}}{_ORDINAL}\.?\s+{_MONTHS}\.?,?\s+\d{{4}}|\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}})"
    r"(?:,?\s+(?:at\s+)?\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?)?")
# A date in front of the name ("Dec 17, 2025 Julian K. Arni", "Updated March 13, 2024").
_DATE_HEAD = re.compile(
    rf"^\W*(?:(?:last\s+)?(?:updated|published|posted|modified)(?:\s+on)?\s*:?\s*)?"
    rf"{DATE_PATTERN}[\s|•·⋅,\-\u2013\u2014]*", re.IGNORECASE)
_DATE_TAIL = re.compile(
    rf"(?:(?<=[a-z])(?=[A-Z])|\b){_MONTHS}\.?\s+\d{{1,2}}{_ORDINAL}\b.*$"
    rf"|\b\d{{1,2}}\.?\s+{_MONTHS}\b.*$|\b\d{{1,2}}:\d{{2}}\b.*$|\b\d{{4}}-\d{{2}}-\d{{2}}.*$"
    r"|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b.*$"
    r"|\s*(?:last\s*updated?|updated\s*(?:on|:)|published\s*(?:on|:)|posted\s+on)\b.*$"
    # "on Friday December 19", a reading time ("4 mins read"), "on behalf of ...", a label
    rf"|\s+on\s+(?:\d|{_WEEKDAYS}\b|{_MONTHS}\b).*$"
    r"|\s*,\s*in\s.*$"  # "TPN, in News, Portugal": the sections the story is filed in
    r"|\s*\b\d+\s*(?:min(?:ute)?s?|hrs?|hours?|comments?)\b.*$|\s+on\s+behalf\s+of\b.*$"
    r"|\s+(?:stand|aktualisiert|veröffentlicht|updated|published|posted|sponsored)\s*:?\s*$"
    # a month left at the end once another tool dropped the digits ("Luke Kim December");
    # names that are also months (May, June, April, August) are left alone
    r"|\s+(?-i:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|January|February|September"
    r"|October|November|December)\.?$",
    re.IGNORECASE,
)
# A piece that is only a month or weekday: what is left of a date ("Sat", "Dec.").
_LONE_DATE_WORD = re.compile(
    rf"^(?:{_WEEKDAYS}|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|jul(?:y)?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?$", re.IGNORECASE)
# Credits for other work after the byline: "By A Updated by B", "By A | Edited by B".
_OTHER_CREDIT = re.compile(
    r"\b(?:updated|edited|reviewed|fact[- ]?checked|medically\s+reviewed|illustrations?|"
    r"illustrated|produced|translated|additional\s+reporting)\s+by\b", re.IGNORECASE)
# What comes before a "By" that opens the names: a label ("Guide by Jane Doe", "capital von
# Jemima Kelly": lower-case before "von", so "Alexander von Humboldt" stays whole), or anything
# before a capitalised "By" ("... 11:01 AM ET By Jane Doe").
_LABEL_BEFORE_BY = re.compile(
    r"^(?:[^\W\d]+\s+){1,2}(?=by\s+[A-Z])|^.+?\s(?=By\s+[A-Z])"
    r"|^(?:(?-i:[a-zà-ÿ])[^\W\d]*\s+){1,2}(?=(?:von|par|door|por)\s+[A-Z])")
# "byClemson News": a "By" glued to the name by the markup.
_GLUED_BY = re.compile(r"^(?:by|By|BY)(?=[A-Z][a-z])")
# Photo and source credits are not bylines ("Foto: APA", "Quelle: dpa", "Image: Getty").
_CREDIT_LABEL = re.compile(
    r"^\W*(?:fotos?|photos?|bild|bilder|images?|quelle|sources?|credits?|crédits?|crédito|"
    r"illustrations?|grafik)\s*:", re.IGNORECASE)
# A comment's author line ("Jiobal says:"), a form label ("Name *").
_NOT_A_BYLINE = re.compile(r"\bsays:?$|^name\s*\*?$|\*$", re.IGNORECASE)


# Job titles written after a name in CJK bylines ("배윤경 기자", "松岡大地 記者").
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|논설위원|記者|特派員|编辑|記者)$")
_SURNAME_FIRST = re.compile(r"^([^,\s][^,]{0,40}),\s*([^,]{1,40})$")


def surname_first(value: str) -> str:
    """"Brazil, Rachel" (the Dublin Core and citation_author convention) -> "Rachel Brazil";
    anything else unchanged."""
    match = _SURNAME_FIRST.match(value.strip())
    if not match or len(match[1].split()) > 1 or len(match[2].split()) > 3:
        return value
    return f"{match[2].strip()} {match[1].strip()}"


# Degrees and post-nominals written after a name ("MS, RD, FAND", "Ph.D.", "MD", "CEPF®"), and
# the news agencies that look like them but are authors in their own right.
_CREDENTIAL = re.compile(
    r"^(?:[A-Z]{2,5}(?:-[A-Z0-9]{1,4})?®?|Ph\.?\s?D\.?|M\.?D\.?|D\.?O\.?|R\.?N\.?|Esq\.?|"
    r"Jr\.?|Sr\.?|MSc|BSc|MPH|DDS|DrPH|EdD)$")
_WIRES = frozenset({"AFP", "AP", "APA", "DPA", "SID", "ANP", "EFE", "ANSA", "KNA", "EPD", "UPI",
                    "PA", "TASS", "PTI", "IANS", "AAP", "CP", "AA", "IPS", "BBC", "CNN", "SDA"})


def is_handle(name: str) -> bool:
    """A login or URL slug rather than a person's written name ("andrew.keaveney",
    "kffnirmitap", "emma-mackenzie"): one token, no capital letter."""
    return name.isascii() and " " not in name and not any(c.isupper() for c in name)


def _words(piece: str) -> list[str]:
    return re.findall(r"[\w\-]+", piece.casefold())


def _is_role(piece: str) -> bool:
    """Role words only: "Staff Writer", "Senior Political Correspondent"."""
    words = _words(piece)
    return bool(words) and all(w in _ROLE_WORDS for w in words)


def _is_title(segment: str) -> bool:
    """A job title written after a name: a title noun at the end ("Digital Security Expert"),
    or a title word before "of"/"at" ("CEO of CaseBasix"). Only after a name: alone,
    "Luxury Travel Expert" is how the page signs."""
    words = _words(segment)
    if not words:
        return False
    last = words[-1]
    if _is_role(segment) or (len(words) <= 5 and (last in _TITLE_NOUNS
                                                   or last.removesuffix("s") in _TITLE_NOUNS)):
        return True
    return len(words) >= 3 and words[0] in _ROLE_WORDS | _TITLE_NOUNS and words[1] in (
        "of", "at", "for", "in", "bei", "de", "du")


def _is_desk(name: str) -> bool:
    """A team's or desk's byline: "Everfit Team", "Aidoc Staff", "FullStack Editorial Team"."""
    return name.casefold().rsplit(" ", 1)[-1] in _GENERIC_LAST_WORDS


def _drop_title(piece: str) -> str:
    """"Keith Barry Senior Autos Reporter" -> "Keith Barry": a job title written after a name of
    two or more words, without a separator. The title starts with a title word ("Senior",
    "Founder", "Content") and ends with a title noun, or is one word that says "title" on its
    own ("Writer"; not "Expert": "Luxury Travel Expert" is how a site signs)."""
    words = piece.split()
    for k in range(2, len(words)):
        rest = [w.strip(".,:;").casefold() for w in words[k:]]
        if rest[0] not in _TITLE_START or not (rest[0] in _TITLE_NOUNS
                                               or rest[-1] in _TITLE_NOUNS):
            continue
        if len(rest) > 1 or rest[0] in _BYLINE_TITLES:
            name = " ".join(words[:k])
            # "Guardian staff reporter" is a desk's byline, kept whole
            return piece if _is_desk(name) or name.casefold() in _GENERIC_AUTHORS else name
    return piece


def _drop_site_suffix(piece: str, site_keys: set[str]) -> str:
    """"Brian Truitt USA TODAY" -> "Brian Truitt": the publication's name after a person's."""
    words = piece.split()
    for j in range(1, min(4, len(words) - 1)):
        if len(words) - j >= 2 and _key(" ".join(words[-j:])) in site_keys:
            return " ".join(words[:-j])
    return piece


def _tidy_name(piece: str) -> str:
    piece = _PARENS.sub(" ", piece)
    piece = " ".join(piece.split()).strip(" .,:;-\u2013\u2014|·•*'\"")
    for _ in range(2):
        piece = _BY_PREFIX.sub("", piece).strip(" .,:;-\u2013\u2014|")
    if piece.isupper() and len(piece) > 3:
        piece = piece.title()
    return piece


def _byline_text(value: str) -> str:
    """A raw byline with what is not names taken out: e-mails, URLs, parenthesised notes, the
    "By" label, dates before and after, other people's credits ("Edited by ..."). "" when the
    whole string is some other credit ("Foto: APA", "Reviewed by ...", "X says:")."""
    text = _URLISH.sub(" ", _EMAIL.sub(" ", value))
    text = " ".join(_PARENS.sub(" ", text).split())
    if _CREDIT_LABEL.match(text) or _NOT_A_BYLINE.search(text):
        return ""
    other = _OTHER_CREDIT.search(text)
    if other:
        text = text[:other.start()]
    text = _DATE_HEAD.sub("", _GLUED_BY.sub("", text))
    text = _BY_PREFIX.sub("", _LABEL_BEFORE_BY.sub("", text).strip(" .,:;|"))
    for _ in range(2):  # "von A, MDR Stand: 28. April" loses the date, then the "Stand:"
        text = _DATE_TAIL.sub("", text)
    return _BY_PREFIX.sub("", text.strip(" .,:;-\u2013\u2014|"))


def clean_authors(raw: Iterable[str | None], site_names: Iterable[str | None] = (),
                  keep_generic: bool = False) -> list[str]:
    """Turn raw author strings into a clean, de-duplicated list of names.

    Drops "By"-style prefixes (several languages), e-mail addresses, URLs, dates, job titles
    ("Staff Writer", "Jane Doe, Digital Security Expert"), degrees after a name, trailing places
    ("in London"), the site's own name, and generic bylines ("Redaktion", "Staff Writer",
    "Everfit Team") unless `keep_generic`; splits on commas, semicolons, "|", bullets, then on
    "and" (and its common translations), "&".
    """
    site_keys = site_name_keys(*site_names)
    names: list[str] = []
    seen: set[str] = set()
    for value in raw:
        if not value or not isinstance(value, str):
            continue
        named = person_seen = False  # someone / someone with a full name named before
        for segment in _SEGMENTS.split(_byline_text(value)):
            bare = segment.strip(" .,;")
            if person_seen and _CREDENTIAL.match(bare) and bare.upper() not in _WIRES:
                continue  # "Dylan Bailey, MS, RD, FAND": degrees after a name are not authors
            if (_is_role(segment) and not keep_generic) or (named and _is_title(segment)):
                continue
            for piece in _SPLIT.split(segment):
                if named and _is_title(piece):
                    continue  # "Preetam Jinka, Co-founder and Chief Architect"
                name = _clean_name(piece, site_keys, keep_generic)
                if not name or _key(name) in seen or (
                        person_seen and _is_desk(name) and not keep_generic):
                    continue  # "David Jackson - FullStack Editorial Team": his desk
                seen.add(_key(name))
                names.append(name)
                named = True
                person_seen = person_seen or len(name.split()) >= 2
    return names


def _clean_name(piece: str, site_keys: set[str], keep_generic: bool) -> str | None:
    """One name from one piece of a byline, or None when the piece names nobody."""
    piece = _ROLE_SUFFIX.sub("", _tidy_name(piece))
    piece = _IN_PLACE.sub("", piece) if len(piece.split()) > 2 else piece
    if len(piece.split()) > 2:
        piece = _drop_site_suffix(_drop_title(piece), site_keys)
    if (not piece or piece.casefold() in _PLACEHOLDER_AUTHORS or _LONE_DATE_WORD.match(piece)
            or piece.rsplit(" ", 1)[-1] in _DANGLING):
        return None  # a label cut loose ("Insights from"), not a name
    if not keep_generic and (_is_role(piece) or piece.casefold() in _GENERIC_AUTHORS):
        return None
    if len(piece.split()) > 5 or len(piece) > 60 or sum(c.isdigit() for c in piece) > 2:
        return None  # a sentence, a date or a timestamp, not a name
    if not any(c.isalpha() for c in piece) or _is_site(piece, site_keys):
        return None
    return piece


def _is_site(piece: str, site_keys: set[str]) -> bool:
    """The site's own name, or two words that start with it ("CBC News" on cbc.ca)."""
    words = piece.split()
    return _key(piece) in site_keys or (len(words) == 2 and _key(words[0]) in site_keys)


# --- body text ------------------------------------------------------------------------------

# Whole lines that are page furniture, never article text (checked case-insensitively, after
# whitespace folding). Kept short and literal on purpose: a false positive deletes real text.
_BOILERPLATE_LINE = re.compile(
    r"^(?:advertisement|advertisements|anzeige|publicité|publicidad|pubblicità|werbung|ad|"
    r"sponsored|sponsored content|skip (?:to|the) (?:main )?(?:content|ad)|"
    r"share(?: this)?(?: article| story| on \w+)?|share on (?:facebook|twitter|x|whatsapp)|"
    r"(?:click|tap) here to .{0,60}|read more|read more:?.{0,0}|continue reading|"
    r"(?:also read|read also|lire aussi|à lire aussi|lesen sie auch|leer más|leggi anche|"
    r"related|related articles|more on this story|recommended)[:.]?|"
    r"sign up for .{0,80}newsletter.{0,40}|subscribe(?: now| today)?|"
    r"follow us on .{0,40}|image:? .{0,0}|getty images|photo:? getty images|"
    r"loading\.{0,3}|(?:\d+ )?comments?|print|email|e-mail|tweet|facebook|twitter|whatsapp|"
    r"linkedin|pinterest|reddit|copy link|copied!?|"
    r"\d+\s*min(?:ute)?s?\.?\s*read|reading time:?\s*\d+\s*min(?:ute)?s?)$",
    re.IGNORECASE,
)


# What UTF-8 text looks like after a publisher's CMS read it as Windows-1252 and wrote it out
# again ("Â " for a no-break space, "â€œ" for a curly quote, "Ã©" for é). Only text holding
# one of these goes to ftfy: its own badness test costs milliseconds on a long body.
_MOJIBAKE_LEADS = ("Â", "Ã", "â€")


def fix_mojibake(text: str) -> str:
    """`text` with double-encoded characters repaired (ftfy); clean text comes back as it was."""
    if any(lead in text for lead in _MOJIBAKE_LEADS):
        return ftfy.fix_encoding(text)
    return text


def clean_body(text: str | None) -> str:
    """Plain text with one paragraph per line: double-encoded characters repaired, whitespace
    folded inside lines, empty lines, boilerplate lines and immediately repeated lines
    dropped."""
    if not text:
        return ""
    lines: list[str] = []
    for line in fix_mojibake(text).splitlines():
        line = " ".join(line.replace("\u00ad", "").split())
        if not line or _BOILERPLATE_LINE.match(line):
            continue
        if lines and lines[-1] == line:
            continue
        lines.append(line)
    return "\n".join(lines)


# Chinese and Japanese write no spaces between words: each ideograph or kana counts as one word
# (the usual convention for word counts in these scripts); other scripts count runs of \w.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORDS = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")


def word_count(text: str) -> int:
    return len(_WORDS.findall(text))


def content_hash(body: str) -> str:
    """sha256 hex of the body, NFKC-normalised, case-folded and whitespace-collapsed, so that a
    re-wrapped or re-cased copy of the same text hashes the same."""
    folded = " ".join(unicodedata.normalize("NFKC", body).casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def normalise_language(value: str | None) -> str | None:
    """ISO 639-1 two letters from "en-GB", "fr_FR", "de", "eng"-free values; None otherwise."""
    if not value:
        return None
    code = re.split(r"[-_;,\s]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None
