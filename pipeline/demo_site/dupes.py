"""A labelled evaluation set for deduplication, generated from the demo site's text generator.

Each original article comes with copies a syndication network really produces (another
template's credit line, an edited headline, added or dropped paragraphs, light copy-editing with
a wire dateline, a teaser cut after a few paragraphs) and with the traps a deduplicator must not
fall into: a different report of the same event (same person, organisation and place), short
items written from one template, and articles whose only overlap is a boilerplate block.

Items in the same `cluster` are duplicates of each other; every other pair is not. Deterministic
for a seed. Used by bench/dedupe_quality.py and tests/test_dedupe*.py.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.demo_site import text

SOURCES = ("dailyplanet", "metroherald", "lecourrier", "wirewatch", "citypost")
ANCHOR = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)

BOILERPLATE = (
    "Sign up for the morning briefing to get the day's most important stories delivered to your "
    "inbox before breakfast, with analysis from our reporters, the best of our opinion pages and "
    "a look ahead at the events that will shape the week. You can unsubscribe at any time, and we "
    "will never share your email address with third parties or use it for advertising purposes."
)

COPY_KINDS = ("template", "headline", "added", "dropped", "edited", "teaser")


@dataclass(frozen=True, slots=True)
class EvalItem:
    key: str  # unique, e.g. "o12" (original), "o12/teaser", "same12", "short3a"
    cluster: str  # items with the same cluster are duplicates of each other
    kind: str  # original, a COPY_KINDS entry, same-event, short-template, boilerplate
    source: str
    url: str
    title: str
    body: str
    published_at: datetime
    authors: tuple[str, ...] = ()


def _paras(rng: random.Random, topic: text.Topic, lo: int = 5, hi: int = 10) -> list[str]:
    return text.paragraphs(rng, "en", topic, lo, hi)


def _copies(rng: random.Random, key: str, title: str, paras: list[str], topic: text.Topic,
            when: datetime, source: str) -> Iterator[EvalItem]:
    others = [s for s in SOURCES if s != source]

    def item(kind: str, new_title: str, body: list[str], delay_h: float) -> EvalItem:
        src = rng.choice(others)
        return EvalItem(f"{key}/{kind}", key, kind, src,
                        f"https://{src}.example/{key.replace('/', '-')}-{kind}",
                        new_title, "\n".join(body), when + timedelta(hours=delay_h))

    yield item("template", text.title_case(title),
               [*paras, "This article originally appeared on Daily Planet."], 3)
    yield item("headline", f"{title.split(' ', 1)[-1].capitalize()}: what we know", paras, 5)
    extra = [text.sentence(rng, "en", topic) + " " + text.sentence(rng, "en", topic)
             for _ in range(rng.randint(1, 2))]
    at = rng.randint(1, len(paras))
    yield item("added", title, paras[:at] + extra + paras[at:], 6)
    drop = set(rng.sample(range(1, len(paras)), min(2, len(paras) - 3)))
    yield item("dropped", title, [p for i, p in enumerate(paras) if i not in drop], 8)
    edited = []
    for p in paras:
        sentences = p.split(". ")
        if len(sentences) > 1 and rng.random() < 0.3:
            sentences[rng.randrange(len(sentences))] = text.sentence(rng, "en", topic).rstrip(".")
        edited.append(". ".join(sentences))
    edited[0] = f"{topic.place.upper()} (Wirewatch) - {edited[0]}"
    yield item("edited", title, edited, 2)
    # A teaser: the opening paragraphs up to about a third of the words, then a link line.
    words, cut = sum(len(p.split()) for p in paras), []
    for p in paras:
        cut.append(p)
        if sum(len(c.split()) for c in cut) >= words * 0.35:
            break
    if len(cut) < len(paras):
        yield item("teaser", title, [*cut, "Continue reading the full story on Daily Planet."], 1)


def _short_items(rng: random.Random, n: int) -> Iterator[EvalItem]:
    """Pairs of short items from one template: different facts, same wording."""
    for i in range(n):
        place = rng.choice(text.EN_PLACES)
        for side in "ab":
            numbers = ", ".join(str(rng.randint(1, 59)) for _ in range(6))
            day = rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"))
            body = (f"The winning numbers in the {place} lottery draw on {day} were {numbers}. "
                    f"The bonus ball was {rng.randint(1, 59)}. There was no jackpot winner, so "
                    f"the prize rolls over to the next draw.\nTickets for the next draw are on "
                    f"sale until 7pm on the day of the draw.")
            yield EvalItem(f"short{i}{side}", f"short{i}{side}", "short-template",
                           SOURCES[i % 3], f"https://{SOURCES[i % 3]}.example/lottery-{i}-{side}",
                           f"{place} lottery results", body,
                           ANCHOR - timedelta(days=i % 30, hours=1 if side == "a" else 0))


def evaluation_set(seed: int = 5, n_originals: int = 120, n_short: int = 20) -> list[EvalItem]:
    """The labelled items: n_originals stories with their copies, same-event reports of some,
    boilerplate-sharing articles and n_short pairs of short template items."""
    rng = random.Random(f"dupes/{seed}")
    items: list[EvalItem] = []
    for i in range(n_originals):
        topic = text.topic(rng, "en")
        title = text.headline(rng, "en", topic)
        paras = _paras(rng, topic)
        source = SOURCES[i % 2]  # originals on dailyplanet / metroherald
        when = ANCHOR - timedelta(days=i % 30, hours=rng.randint(0, 20))
        key = f"o{i}"
        items.append(EvalItem(key, key, "original", source, f"https://{source}.example/{key}",
                              title, "\n".join(paras), when))
        items.extend(_copies(rng, key, title, paras, topic, when, source))
        if i % 3 == 0:  # a different report of the same event: same names and places
            other = _paras(rng, topic)
            src = SOURCES[2 + i % 3]
            items.append(EvalItem(f"same{i}", f"same{i}", "same-event", src,
                                  f"https://{src}.example/same-{i}",
                                  text.headline(rng, "en", topic), "\n".join(other),
                                  when + timedelta(hours=2)))
        if i % 4 == 0:  # two distinct articles whose only overlap is a newsletter block
            for side in "ab":
                t = text.topic(rng, "en")
                body = [*_paras(rng, t, 2, 3), BOILERPLATE]
                src = SOURCES[i % 5]
                items.append(EvalItem(f"boiler{i}{side}", f"boiler{i}{side}", "boilerplate", src,
                                      f"https://{src}.example/boiler-{i}-{side}",
                                      text.headline(rng, "en", t), "\n".join(body), when))
    items.extend(_short_items(rng, n_short))
    return items
