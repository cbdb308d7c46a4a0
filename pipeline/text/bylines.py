"""Bylines to author lists: prefixes, roles, credentials, agencies and site names removed."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.text.dates import DATE_PATTERN, MONTH_NAME, ORDINAL, WEEKDAY_NAME
from pipeline.text.names import name_key, site_name_keys

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


# Where a byline stops being a name: a date or time glued on ("Gary MarcusDec 14, 2025",
# "Jane Doe 30 August 2023 • 4:45pm"), or an "updated" label ("Last Updated: August 1"); the
# date patterns are pipeline.text.dates'.
# A date in front of the name ("Dec 17, 2025 Julian K. Arni", "Updated March 13, 2024").
_DATE_HEAD = re.compile(
    rf"^\W*(?:(?:last\s+)?(?:updated|published|posted|modified)(?:\s+on)?\s*:?\s*)?"
    rf"{DATE_PATTERN}[\s|•·⋅,\-\u2013\u2014]*", re.IGNORECASE)
_DATE_TAIL = re.compile(
    rf"(?:(?<=[a-z])(?=[A-Z])|\b){MONTH_NAME}\.?\s+\d{{1,2}}{ORDINAL}\b.*$"
    rf"|\b\d{{1,2}}\.?\s+{MONTH_NAME}\b.*$|\b\d{{1,2}}:\d{{2}}\b.*$|\b\d{{4}}-\d{{2}}-\d{{2}}.*$"
    r"|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b.*$"
    r"|\s*(?:last\s*updated?|updated\s*(?:on|:)|published\s*(?:on|:)|posted\s+on)\b.*$"
    # "on Friday December 19", a reading time ("4 mins read"), "on behalf of ...", a label
    rf"|\s+on\s+(?:\d|{WEEKDAY_NAME}\b|{MONTH_NAME}\b).*$"
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
    rf"^(?:{WEEKDAY_NAME}|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|jul(?:y)?|aug(?:ust)?|"
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


# Degrees and post-nominals written after a name ("MS, RD, FAND", "Ph.D.", "MD", "CEPF®").
_CREDENTIAL = re.compile(
    r"^(?:[A-Z]{2,5}(?:-[A-Z0-9]{1,4})?®?|Ph\.?\s?D\.?|M\.?D\.?|D\.?O\.?|R\.?N\.?|Esq\.?|"
    r"Jr\.?|Sr\.?|MSc|BSc|MPH|DDS|DrPH|EdD)$")

# News agencies and broadcasters by the upper-case short forms that look like a degree after a
# name ("Jane Doe, AFP") but credit a co-author, so they are kept as authors. Not derived from
# `provenance.WIRE_SERVICES` (the wire names dedupe keys copies by): another job, another set.
AGENCY_CREDITS = frozenset({
    "AFP", "AP", "APA", "DPA", "SID", "ANP", "EFE", "ANSA", "KNA", "EPD", "UPI", "PA", "TASS",
    "PTI", "IANS", "AAP", "CP", "AA", "IPS", "BBC", "CNN", "SDA"})


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
        if len(words) - j >= 2 and name_key(" ".join(words[-j:])) in site_keys:
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
            if person_seen and _CREDENTIAL.match(bare) and bare.upper() not in AGENCY_CREDITS:
                continue  # "Dylan Bailey, MS, RD, FAND": degrees after a name are not authors
            if (_is_role(segment) and not keep_generic) or (named and _is_title(segment)):
                continue
            for piece in _SPLIT.split(segment):
                if named and _is_title(piece):
                    continue  # "Preetam Jinka, Co-founder and Chief Architect"
                name = _clean_name(piece, site_keys, keep_generic)
                if not name or name_key(name) in seen or (
                        person_seen and _is_desk(name) and not keep_generic):
                    continue  # "David Jackson - FullStack Editorial Team": his desk
                seen.add(name_key(name))
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
    return name_key(piece) in site_keys or (len(words) == 2 and name_key(words[0]) in site_keys)
