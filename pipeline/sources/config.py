"""Sources configuration: YAML files validated into typed `Source` objects.

A source is data, never Python. Every error names the file, the source and the field, on one line,
so an ops engineer can fix it without reading a traceback.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import NewsdeskError
from pipeline.sources.overrides import ExtractionOverrides

SOURCES_ENV = "NEWSDESK_SOURCES"
#: A source's name (also a Postgres-friendly key and an Airflow map index label).
NAME_PATTERN = r"^[a-z0-9][a-z0-9_]{0,62}$"
#: An Airflow queue name a source may ask for (also part of a task id, `crawl_<queue>`).
QUEUE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
#: Contact URL (or mailto:) the User-Agent names when a source sets no politeness.contact.
CONTACT_ENV = "NEWSDESK_CONTACT_URL"
DEFAULT_CONTACT = "https://github.com/newsdesk/newsdesk"

#: What a page's own rules can say, as raw_pages.page_rules records it (crawlers.page_rules):
#: X-Robots-Tag / robots meta `noindex`, `noarchive`, `nofollow`, and a W3C TDMRep reservation.
PageRule = Literal["noindex", "noarchive", "nofollow", "tdm-reserved"]
PAGE_RULES: tuple[str, ...] = get_args(PageRule)
#: The rules a source may skip pages for: `nofollow` is recorded only (no link on an article page
#: is ever followed, so it never changes what the crawl does).
SkipRule = Literal["noindex", "noarchive", "tdm-reserved"]
SKIP_RULES: tuple[str, ...] = get_args(SkipRule)


class SourcesError(NewsdeskError):
    """A sources file that cannot be read or does not validate."""


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("not an http(s) URL")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from None
    return value


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def _host(value: str) -> str:
    """A bare host name ('example.com'), the form allowed_domains takes (subdomains included)."""
    host = value.strip().lower().rstrip(".")
    if "/" in host or ":" in host:
        bare = urlsplit(host if "//" in host else f"//{host}").hostname or host
        raise ValueError(f"not a host name ({value!r}); write the host alone, e.g. {bare!r}")
    if not _HOST.match(host):
        raise ValueError(f"not a host name ({value!r})")
    return host


def _contact(value: str) -> str:
    """Where a site owner can reach us: an http(s) URL or a mailto: address."""
    if value.startswith("mailto:") and "@" in value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("not an http(s) URL or mailto: address")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Regex = Annotated[str, AfterValidator(_regex)]
HostName = Annotated[str, AfterValidator(_host)]
Contact = Annotated[str, AfterValidator(_contact)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Listing(_Strict):
    """A section page whose links lead to articles, followed through its pagination."""

    url: HttpUrl
    article_pattern: Regex | None = Field(
        default=None, description="Regex an article link's URL must match (search, not full match)."
    )
    max_pages: int = Field(default=5, ge=1, le=1000, description="Pagination depth bound.")
    next_selector: str | None = Field(
        default=None,
        description="CSS selector of the next-page link; default: rel=next links.",
    )
    follow_pagination: bool = Field(
        default=True, description="False reads only the first page of the section."
    )

    @field_validator("next_selector")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        if value is not None:
            from cssselect import GenericTranslator, SelectorError

            try:
                GenericTranslator().css_to_xpath(value)
            except SelectorError as exc:
                raise ValueError(f"not a valid CSS selector ({exc})") from None
        return value


class Politeness(_Strict):
    """How hard the crawl may hit a source's hosts (robots.txt is obeyed regardless)."""

    delay: float = Field(default=1.0, ge=0, le=120, description="Seconds between requests.")
    concurrency: int = Field(default=2, ge=1, le=64, description="Parallel requests per host.")
    contact: Contact | None = Field(
        default=None,
        description=f"Contact URL in the User-Agent (default: ${CONTACT_ENV} or the project's).",
    )


class Limits(_Strict):
    """How much one run may take from a source, and how old an article may be."""

    max_pages_per_run: int | None = Field(
        default=None, ge=1, description="Article pages fetched per run at most."
    )
    max_age_days: float | None = Field(
        default=None,
        gt=0,
        description="Skip feed/sitemap items dated longer ago than this, before any request.",
    )


class Source(_Strict):
    """One news publisher and how to discover its articles."""

    name: str = Field(pattern=NAME_PATTERN)
    homepage: HttpUrl
    feeds: list[HttpUrl] = []
    sitemaps: list[HttpUrl] = []
    listings: list[Listing] = []
    allowed_domains: list[HostName] = Field(
        default=[], description="Further hosts (and their subdomains) the crawl may fetch from."
    )
    include: list[Regex] = Field(
        default=[], description="An article URL must match one of these (re.search), if any."
    )
    exclude: list[Regex] = Field(
        default=[], description="An article URL matching any of these is skipped."
    )
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    timezone: str | None = None
    active: bool = True
    politeness: Politeness = Politeness()
    limits: Limits = Limits()
    extraction: ExtractionOverrides = ExtractionOverrides()
    allow_private_addresses: bool = Field(
        default=False,
        description="Allow loopback/private addresses (the demo site and tests only).",
    )
    queue: str | None = Field(
        default=None,
        pattern=QUEUE_PATTERN,
        description="The Airflow queue its crawl runs on (workers near the site); default: "
        "the default queue.",
    )
    skip_pages: list[SkipRule] = Field(
        default=[],
        description=(
            "Do not store a page whose own rules say any of these (noindex, noarchive, "
            "tdm-reserved); by default every page is stored with its rules recorded."
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @property
    def domains(self) -> list[str]:
        """Host names the crawl stays on: the homepage's and those of every configured URL."""
        urls = [self.homepage, *self.feeds, *self.sitemaps, *(lst.url for lst in self.listings)]
        hosts = {urlsplit(u).hostname or "" for u in urls} | set(self.allowed_domains)
        return sorted(hosts - {""})

    @property
    def contact(self) -> str:
        return self.politeness.contact or os.environ.get(CONTACT_ENV) or DEFAULT_CONTACT

    def wants(self, url: str) -> bool:
        """True unless `exclude` matches the URL, or `include` is set and none matches."""
        if any(re.search(p, url) for p in self.exclude):
            return False
        return not self.include or any(re.search(p, url) for p in self.include)

    @property
    def start_urls(self) -> list[str]:
        return [*self.feeds, *self.sitemaps, *(lst.url for lst in self.listings)]


class _SourcesFile(_Strict):
    sources: list[Source]


def default_sources_path() -> Path:
    """`NEWSDESK_SOURCES` if set, else the sources.yaml shipped beside this module."""
    packaged = resources.files("pipeline.sources") / "sources.yaml"
    return Path(os.environ.get(SOURCES_ENV) or str(packaged))


def _yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not files:
            raise SourcesError(f"{path}: folder holds no .yaml files")
        return files
    if not path.exists():
        raise SourcesError(f"{path}: sources file not found (set --sources or {SOURCES_ENV})")
    return [path]


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Load and validate every source in a YAML file, or in every YAML file of a folder."""
    path = Path(path) if path else default_sources_path()
    sources: list[Source] = []
    seen: dict[str, Path] = {}
    for file in _yaml_files(path):
        for source in _load_file(file):
            if source.name in seen:
                raise SourcesError(
                    f"{file}: source '{source.name}': name already used in {seen[source.name]}"
                )
            seen[source.name] = file
            sources.append(source)
    return sources


def get_sources(names: Iterable[str], path: str | Path | None = None) -> list[Source]:
    """The named sources, in the order asked; an unknown name is an error that lists the known."""
    by_name = {s.name: s for s in load_sources(path)}
    picked = []
    for name in names:
        if name not in by_name:
            hint = difflib.get_close_matches(name, by_name, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            known = ", ".join(sorted(by_name)) or "none"
            raise SourcesError(f"unknown source '{name}'{suggestion} (known: {known})")
        picked.append(by_name[name])
    return picked


def peek_queues(path: str | Path | None = None) -> dict[str, str | None]:
    """Each source's name and queue (None: the default), read from the YAML without validating.

    For the DAG file, which reads them every time it is parsed: 5,000 sources take a fraction of
    the time full validation does. Entries without a usable name or queue are left out (the
    run's sync validates the file and names them); an unreadable file raises SourcesError.
    """
    path = Path(path) if path else default_sources_path()
    peeked: dict[str, str | None] = {}
    for file in _yaml_files(path):
        entries = _read_yaml(file).get("sources")
        for entry in entries if isinstance(entries, list) else []:
            name, queue = (entry.get("name"), entry.get("queue")) if isinstance(entry, dict) \
                else (None, None)
            if _matches(NAME_PATTERN, name) and (queue is None or _matches(QUEUE_PATTERN, queue)):
                peeked[name] = queue
    return peeked


def _matches(pattern: str, value: object) -> bool:
    return isinstance(value, str) and re.match(pattern, value) is not None


def _read_yaml(file: Path) -> dict:
    """The top-level mapping of a sources YAML file (C-accelerated when libyaml is present)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(file.read_text(encoding="utf-8"), Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourcesError(f"{file}:{where}: not valid YAML: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{file}: cannot read: {exc}") from None
    if not isinstance(document, dict) or "sources" not in document:
        raise SourcesError(f"{file}: expected a mapping with a 'sources' list at the top")
    return document


def _load_file(file: Path) -> list[Source]:
    document = _read_yaml(file)
    try:
        return _SourcesFile.model_validate(document).sources
    except ValidationError as exc:
        raise SourcesError(_describe(file, document, exc)) from None


def _model_at(loc: list) -> type[BaseModel]:
    """The model a location inside a source entry points into (for did-you-mean hints)."""
    model: type[BaseModel] = Source
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        for candidate in (Listing, Politeness, Limits, ExtractionOverrides):
            if annotation is candidate or candidate in getattr(annotation, "__args__", ()):
                model = candidate
    return model


def _describe(file: Path, document: dict, exc: ValidationError) -> str:
    """Turn pydantic's first error into 'FILE: source 'NAME': FIELD: problem (hint)'."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    prefix = f"{file}:"
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        entry = document["sources"][loc[1]]
        name = entry.get("name") if isinstance(entry, dict) else None
        prefix += f" source '{name}':" if name else f" sources[{loc[1]}]:"
        loc = loc[2:]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        allowed = _model_at(loc[:-1]).model_fields
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        message = f"unknown key '{loc[-1]}'" + (f", did you mean '{hint[0]}'?" if hint else "")
        field = field.rsplit(".", 1)[0] if "." in field else ""
    elif error["type"] == "missing":
        message = "required field is missing"
    return f"{prefix} {field + ': ' if field else ''}{message}"
