"""The demo site's catalogue: publishers, their articles and the ground truth, all lazy.

Only a light skeleton is held per publisher (one publication time and one section number per
article, built once from the seed); an article's text is generated on demand from
(seed, publisher, index). Article index order is publication order, so "newest first" is simply
descending index and nothing ever needs sorting.
"""

from __future__ import annotations

import bisect
import functools
import math
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.demo_site import text

DEFAULT_ANCHOR = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
PER_DAY = 20  # articles a publisher publishes per day: the date spread grows with n_articles
PAGE_SIZE = 20  # articles per listing page
FEED_SIZE = 50  # items per feed
SITEMAP_SIZE = 1000  # URLs per child sitemap
NEWS_SITEMAP_DAYS = 2
MIN_ARTICLES = 30  # ten a publisher: each still has its paywalled, redirected and updated pages


@dataclass(frozen=True, slots=True)
class Publisher:
    """One demo publisher: its own origin, template, metadata style, language and time zone."""

    name: str
    display_name: str
    language: str
    timezone: str
    style: str  # "jsonld" (A), "opengraph" (B) or "plain" (C): how metadata is written
    sections: tuple[tuple[str, str], ...]  # (slug, label)
    article_pattern: str  # regex (re.search) matching this publisher's article URLs only
    id_base: int
    base_url: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


PUBLISHERS: tuple[Publisher, ...] = (
    Publisher(
        name="dailyplanet",
        display_name="Daily Planet",
        language="en",
        timezone="America/New_York",
        style="jsonld",
        sections=(("world", "World"), ("politics", "Politics"), ("business", "Business"),
                  ("science", "Science"), ("sports", "Sports"), ("culture", "Culture")),
        article_pattern=r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-\d+/$",
        id_base=1000,
    ),
    Publisher(
        name="metroherald",
        display_name="Metro Herald",
        language="en",
        timezone="Europe/London",
        style="opengraph",
        sections=(("uk", "UK"), ("world", "World"), ("business", "Business"),
                  ("politics", "Politics"), ("environment", "Environment"), ("sport", "Sport")),
        article_pattern=r"/news/[a-z-]+/[a-z0-9-]+-\d+$",
        id_base=500000,
    ),
    Publisher(
        name="lecourrier",
        display_name="Le Courrier",
        language="fr",
        timezone="Europe/Paris",
        style="plain",
        sections=(("france", "France"), ("monde", "Monde"), ("economie", "Économie"),
                  ("politique", "Politique"), ("societe", "Société"), ("sports", "Sports")),
        article_pattern=r"/article/[a-z0-9-]+-\d+\.html$",
        id_base=80000,
    ),
)
A, B, C = (p.name for p in PUBLISHERS)

EN_TAGS = text._pool("""
housing|transport|budget|health|education|climate|energy|courts|elections|economy|jobs|crime|
technology|weather|farming|trade|tourism|infrastructure|pensions|water|policing|immigration
""")
FR_TAGS = text._pool("""
logement|transports|budget|santé|éducation|climat|énergie|justice|élections|économie|emploi|
sécurité|numérique|météo|agriculture|commerce|tourisme|retraites|eau|urbanisme
""")


@dataclass(frozen=True, slots=True)
class ArticleTruth:
    """What a perfect pipeline should extract from one article page."""

    publisher: str
    url: str
    canonical_url: str
    title: str
    description: str
    authors: tuple[str, ...]
    published_at: datetime
    modified_at: datetime | None
    section: str
    tags: tuple[str, ...]
    language: str
    body: str
    is_paywalled: bool
    copy_of: str | None
    image_url: str


@dataclass(frozen=True, slots=True)
class Article:
    """Everything a template needs about one article, with paths relative to its publisher."""

    publisher: Publisher
    index: int
    id: int
    path: str
    title: str  # the clean headline (house casing)
    description: str
    authors: tuple[str, ...]
    published_at: datetime  # aware, in the publisher's time zone
    modified_at: datetime | None
    section: str  # slug
    section_label: str
    tags: tuple[str, ...]
    paragraphs: tuple[str, ...]  # shown on the page (the teaser only when paywalled)
    is_paywalled: bool
    image_path: str
    image_base: str | None = None  # another publisher's name when the image lives there
    copy_of: tuple[str, int] | None = None  # (publisher, index) of the original
    related: tuple[int, ...] = ()
    comments: tuple[tuple[str, str], ...] = ()
    rng_seed: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Listing:
    """One listing page: its articles (newest first) and what else it links to."""

    section: str
    page: int
    pages: int
    articles: tuple[int, ...]
    most_read: tuple[int, ...]
    featured_special: str | None = None  # a special path (the live page) shown at the top


@dataclass(slots=True)
class _Skeleton:
    count: int
    times: array  # epoch seconds, ascending with the index
    sections: bytearray
    by_section: list[array]  # ascending indices per section


class Catalogue:
    """The deterministic article catalogue of a DemoSite (see DemoSite for the public API)."""

    def __init__(self, seed: int, n_articles: int, anchor: datetime) -> None:
        if n_articles < MIN_ARTICLES:
            raise ValueError(f"n_articles must be at least {MIN_ARTICLES}")
        if anchor.tzinfo is None:
            raise ValueError("anchor must be timezone-aware")
        self.seed = seed
        self.n_articles = n_articles
        self.anchor = anchor.astimezone(UTC)
        self.publishers = PUBLISHERS
        self.by_name = {p.name: p for p in PUBLISHERS}
        share = n_articles // 3
        self.counts = {A: n_articles - 2 * share, B: share, C: share}
        self._skeletons: dict[str, _Skeleton] = {}
        self._article = functools.lru_cache(maxsize=1024)(self._make_article)
        self._staff = {p.name: self._make_staff(p) for p in PUBLISHERS}
        self.paywalled_index = self.counts[A] - 4
        self.syndicated = self._make_syndication()
        self.redirect_index = next(
            i for i in range(self.counts[B] - 2, 0, -1) if i not in self.syndicated
        )

    # --- skeleton -----------------------------------------------------------------------------

    def skeleton(self, name: str) -> _Skeleton:
        sk = self._skeletons.get(name)
        if sk is None:
            sk = self._skeletons[name] = self._make_skeleton(self.by_name[name])
        return sk

    def _make_skeleton(self, pub: Publisher) -> _Skeleton:
        m = self.counts[pub.name]
        days = max(2, math.ceil(m / PER_DAY))
        step = days * 86400 / m
        end = int(self.anchor.timestamp())
        rng = random.Random(f"{self.seed}/{pub.name}/skeleton")
        times = array("q")
        sections = bytearray()
        n_sections = len(pub.sections)
        weights = [6, 5, 4, 3, 3, 2][:n_sections]
        by_section = [array("I") for _ in range(n_sections)]
        for i in range(m):
            t = end - (m - i) * step + rng.random() * step * 0.8
            times.append(int(t) // 60 * 60)
            s = rng.choices(range(n_sections), weights)[0]
            sections.append(s)
            by_section[s].append(i)
        return _Skeleton(m, times, sections, by_section)

    def published(self, name: str, index: int) -> datetime:
        pub = self.by_name[name]
        return datetime.fromtimestamp(self.skeleton(name).times[index], pub.tz)

    def _make_staff(self, pub: Publisher) -> tuple[str, ...]:
        rng = random.Random(f"{self.seed}/{pub.name}/staff")
        names: list[str] = []
        while len(names) < 36:
            name = text.person_name(rng, pub.language)
            if name not in names:
                names.append(name)
        return tuple(names)

    def _make_syndication(self) -> dict[int, int]:
        """B index -> A index: every 20th B article is an A story republished a few hours later."""
        a_times = self.skeleton(A).times
        b_times = self.skeleton(B).times
        out: dict[int, int] = {}
        used: set[int] = set()
        for i in range(10, self.counts[B], 20):
            j = bisect.bisect_left(a_times, b_times[i] - 3 * 3600) - 1
            while j >= 0 and (j == self.paywalled_index or j in used):
                j -= 1
            if j >= 0:
                out[i] = j
                used.add(j)
        return out

    # --- paths --------------------------------------------------------------------------------

    def article_path(self, name: str, index: int) -> str:
        art = self.article(name, index)
        return art.path

    def _path(self, pub: Publisher, index: int, slug: str, section: str, when: datetime) -> str:
        ident = pub.id_base + index
        if pub.style == "jsonld":
            return f"/{when:%Y/%m/%d}/{slug}-{ident}/"
        if pub.style == "opengraph":
            return f"/news/{section}/{slug}-{ident}"
        return f"/article/{slug}-{ident}.html"

    def index_of(self, name: str, ident: int) -> int | None:
        index = ident - self.by_name[name].id_base
        return index if 0 <= index < self.counts[name] else None

    # --- articles -----------------------------------------------------------------------------

    def article(self, name: str, index: int) -> Article:
        if not 0 <= index < self.counts[name]:
            raise IndexError(f"{name} has no article {index}")
        return self._article(name, index)

    def _make_article(self, name: str, index: int) -> Article:
        pub = self.by_name[name]
        sk = self.skeleton(name)
        seed = f"{self.seed}/{name}/{index}"
        rng = random.Random(seed)
        published = self.published(name, index)
        sec_slug, sec_label = pub.sections[sk.sections[index]]
        modified = None
        if rng.random() < 0.35:
            candidate = published + timedelta(minutes=rng.randint(20, 30 * 60))
            if candidate < self.anchor:
                modified = candidate
        m = self.counts[name]
        related = tuple(rng.sample(range(m), 5))
        related = tuple(r for r in related if r != index)[:4]
        if name == B and index in self.syndicated:
            orig = self.article(A, self.syndicated[index])
            title = text.title_case(orig.title)
            slug = text.slugify(title)
            return Article(
                publisher=pub, index=index, id=pub.id_base + index,
                path=self._path(pub, index, slug, sec_slug, published), title=title,
                description=orig.description, authors=orig.authors, published_at=published,
                modified_at=None, section=sec_slug, section_label=sec_label, tags=orig.tags,
                paragraphs=orig.paragraphs, is_paywalled=False, image_path=orig.image_path,
                image_base=A, copy_of=(A, orig.index), related=related, rng_seed=seed,
            )
        topic = text.topic(rng, pub.language)
        title = text.headline(rng, pub.language, topic)
        if pub.style == "opengraph":
            title = text.title_case(title)
        description = text.standfirst(rng, pub.language, topic)
        staff = self._staff[name]
        authors = tuple(rng.sample(staff, 2 if rng.random() < 0.18 else 1))
        tag_pool = FR_TAGS if pub.language == "fr" else EN_TAGS
        tags = tuple(rng.sample(tag_pool, rng.randint(2, 4)))
        paragraphs = text.paragraphs(rng, pub.language, topic)
        paywalled = name == A and index == self.paywalled_index
        if paywalled:
            paragraphs = paragraphs[:2]
        n_comments = rng.randint(0, 9) if pub.style != "opengraph" else 0
        comments = tuple(
            (text.person_name(rng, pub.language), text.sentence(rng, pub.language, topic))
            for _ in range(n_comments)
        )
        slug = text.slugify(title)
        path = self._path(pub, index, slug, sec_slug, published)
        if pub.style == "jsonld":
            image = f"/wp-content/uploads/{published:%Y/%m}/{slug[:40]}-1200x800.jpg"
        elif pub.style == "opengraph":
            image = f"/img/media/{rng.getrandbits(64):016x}/master/1200.jpg"
        else:
            image = f"/images/{published:%Y%m}/{pub.id_base + index}-large.jpg"
        return Article(
            publisher=pub, index=index, id=pub.id_base + index, path=path, title=title,
            description=description, authors=authors, published_at=published, modified_at=(
                modified.astimezone(pub.tz) if modified else None),
            section=sec_slug, section_label=sec_label, tags=tags, paragraphs=tuple(paragraphs),
            is_paywalled=paywalled, image_path=image, related=related, comments=comments,
            rng_seed=seed,
        )

    def truth(self, name: str, index: int, bases: dict[str, str]) -> ArticleTruth:
        art = self.article(name, index)
        url = bases[name] + art.path
        copy_of = None
        canonical = url
        if art.copy_of:
            orig_pub, orig_index = art.copy_of
            copy_of = canonical = bases[orig_pub] + self.article(orig_pub, orig_index).path
        return ArticleTruth(
            publisher=name, url=url, canonical_url=canonical, title=art.title,
            description=art.description, authors=art.authors, published_at=art.published_at,
            modified_at=art.modified_at, section=art.section_label, tags=art.tags,
            language=art.publisher.language, body="\n".join(art.paragraphs),
            is_paywalled=art.is_paywalled, copy_of=copy_of,
            image_url=bases[art.image_base or name] + art.image_path,
        )

    def iter_truth(self, bases: dict[str, str]) -> Iterator[ArticleTruth]:
        for pub in self.publishers:
            for index in range(self.counts[pub.name]):
                yield self.truth(pub.name, index, bases)

    # --- discovery ----------------------------------------------------------------------------

    def latest(self, name: str, count: int) -> range:
        """Indices of the newest `count` articles, newest first."""
        m = self.counts[name]
        return range(m - 1, max(-1, m - 1 - count), -1)

    def news_range(self, name: str) -> range:
        """Indices published within NEWS_SITEMAP_DAYS of the anchor, newest first."""
        times = self.skeleton(name).times
        cutoff = self.anchor.timestamp() - NEWS_SITEMAP_DAYS * 86400
        first = bisect.bisect_left(times, cutoff)
        return range(self.counts[name] - 1, first - 1, -1)

    def sitemap_chunks(self, name: str) -> int:
        return max(1, math.ceil(self.counts[name] / SITEMAP_SIZE))

    def listing_pages(self, name: str, section_no: int) -> int:
        return max(1, math.ceil(len(self.skeleton(name).by_section[section_no]) / PAGE_SIZE))

    def max_listing_pages(self, name: str) -> int:
        pub = self.by_name[name]
        return min(1000, max(self.listing_pages(name, s) for s in range(len(pub.sections))))

    def most_read(self, name: str, key: str) -> tuple[int, ...]:
        """Eight recent articles for a sidebar, chosen per page so sidebars differ."""
        pool = self.latest(name, 100)
        return tuple(random.Random(f"{self.seed}/{name}/mostread/{key}").sample(pool, 8))

    def listing(self, name: str, section_no: int, page: int) -> Listing | None:
        pub = self.by_name[name]
        if not 0 <= section_no < len(pub.sections):
            return None
        pages = self.listing_pages(name, section_no)
        if not 1 <= page <= pages:
            return None
        members = self.skeleton(name).by_section[section_no]
        stop = len(members) - (page - 1) * PAGE_SIZE
        start = max(0, stop - PAGE_SIZE)
        articles = tuple(reversed(members[start:stop]))
        slug = pub.sections[section_no][0]
        featured = "live" if (name == A and section_no == 0 and page == 1) else None
        most_read = self.most_read(name, f"{slug}/{page}")
        return Listing(slug, page, pages, articles, most_read, featured)

    # --- the traps ----------------------------------------------------------------------------

    live_publisher = A  # a live-blog shell that matches the article pattern
    not_found_publisher = A  # a feed item whose page is gone
    redirect_publisher = B  # a feed item with an old slug that 301s to the article

    def _anchor_day(self, name: str) -> str:
        return f"{self.anchor.astimezone(self.by_name[name].tz):%Y/%m/%d}"

    def live_path(self) -> str:
        pub = self.by_name[A]
        return f"/{self._anchor_day(A)}/live-updates-{pub.id_base + self.counts[A] + 3}/"

    def not_found_path(self) -> str:
        pub = self.by_name[A]
        ident = pub.id_base + self.counts[A] + 1
        return f"/{self._anchor_day(A)}/officials-withdraw-statement-on-bridge-repairs-{ident}/"

    def redirect_path(self) -> str:
        art = self.article(B, self.redirect_index)
        slug = art.path.rsplit("/", 1)[1].rsplit("-", 1)[0]
        old_slug = "breaking-" + "-".join(slug.split("-")[:4])
        return f"/news/{art.section}/{old_slug}-{art.id}"

    def latest_time(self, name: str) -> str:
        return self.published(name, self.counts[name] - 1).isoformat()
