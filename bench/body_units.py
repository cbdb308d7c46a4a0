"""The `units` step of bench/body_ensemble.py: the vote on units smaller than blocks (issue 21,
second round; the first round's block vote is bench/body_vote.py).

A block is cut into units: the runs of its tokens that every extractor keeps or drops alike (the
page's tokens are aligned in order with the output's, difflib; a token counts as kept in a
common run of at least four), so a block trafilatura keeps in part is no longer
all-or-nothing. Then, cross-validated by site like the block vote:

- the ceilings: today's body rebuilt from the units it keeps (must be about today's score, or
  the units are wrong), and today's units with hindsight where the extractors differ;
- a vote on every unit, its threshold chosen on the bench's approximation or on exact page F1
  (today's rules after the body, the bench's shingle scorer);
- edits of today's body only: the vote decides only the units where the extractors differ, or
  only those that also touch today's body (continuity), with layout cues.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import re
from collections import defaultdict

import numpy as np

from bench.body_vote import (
    EXTRACTORS,
    FOLDS,
    Tally,
    approx_f1,
    cached_arrays,
    finish,
    fold_of,
    logistic,
)
from bench.corpus_scoring import f1, fold, pr, shingles

TODAY = EXTRACTORS.index("newsdesk")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# (name, extractors' votes only or with layout cues, which units the vote may change, exact F1,
# every page weighs alike in learning -- the bench averages pages -- rather than every token)
VARIANTS = (
    ("units: vote, all extractors", False, "all", False, False),
    ("units: vote, all extractors, threshold on exact F1", False, "all", True, False),
    ("units: vote, all extractors, pages weigh alike", False, "all", False, True),
    ("units: vote, all + cues", True, "all", False, False),
    ("units: vote, all + cues, threshold on exact F1", True, "all", True, False),
    ("units: today's, the vote where extractors differ", True, "differ", True, False),
    ("units: today's, the vote where extractors differ, pages weigh alike", True, "differ",
     True, True),
    ("units: today's, the vote where they differ next to today's body", True, "edge", True,
     False),
)


def page_stream(record: dict) -> tuple[list[list[re.Match]], list[str]]:
    """The page's tokens per block (matches in the block's text) and as one case-folded stream."""
    spans = [list(re.finditer(r"\w+", b["text"])) for b in record["blocks"]]
    return spans, [m.group().casefold() for block in spans for m in block]


def covered(stream: list[str], text: str) -> np.ndarray:
    """The stream's tokens in a run of at least four that the text holds in order."""
    matcher = difflib.SequenceMatcher(None, stream, re.findall(r"\w+", text.casefold()),
                                      autojunk=False)
    held = np.zeros(len(stream), dtype=bool)
    for start, _, size in matcher.get_matching_blocks():
        if size >= min(4, len(stream)):
            held[start:start + size] = True
    return held


def unit_arrays(record: dict) -> dict:
    """The page's units in document order: text, votes (units x extractors), label counts
    (tokens, tokens in the answer) and layout cues."""
    title = fold(record["title"]) if record["title"] else None
    headline = next((i for i, b in enumerate(record["blocks"]) if title and fold(b["text"])
                     == title), next((i for i, b in enumerate(record["blocks"])
                                      if b["tag"] == "h1"), 0))
    # The page's tokens as one stream, aligned in order with each output's tokens: a table cell
    # or a short line is matched with its neighbours, the way an output holds it, and a sentence
    # the page repeats (a teaser, a caption, a related link) counts once, where the output has it.
    spans, stream = page_stream(record)

    cov = np.column_stack([covered(stream, record["outputs"][e]) for e in EXTRACTORS])
    hit = covered(stream, record["truth"])
    texts, votes, sizes, hits, starts, cues = [], [], [], [], [], []
    offset = 0
    for bi, (block, found) in enumerate(zip(record["blocks"], spans, strict=True)):
        text, n = block["text"], len(found)
        here = cov[offset:offset + n]
        cuts = [0] + [i for i in range(1, n) if (here[i] != here[i - 1]).any()] + [n]
        for s, t in itertools.pairwise(cuts) if n else ():
            texts.append(text[found[s].start() if s else 0:found[t].start() if t < n else None])
            votes.append(here[s])
            sizes.append(t - s)
            hits.append(hit[offset + s:offset + t].sum())
            starts.append(s == 0)
            cues.append([np.log1p(n), (t - s) / n, block["link"] / max(1, len(text)),
                         block["tag"] in HEADINGS, block["tag"] == "li",
                         block["tag"] in ("td", "th"), bi < headline,
                         np.log1p(abs(bi - headline))])
        offset += n
    votes = np.array(votes, dtype=float).reshape(-1, len(EXTRACTORS))
    sizes = np.array(sizes, dtype=float)
    ours = votes[:, TODAY] > 0.5
    # tokens between a unit and the nearest unit of today's body (0 inside it)
    before, after = np.full(len(sizes), np.inf), np.full(len(sizes), np.inf)
    gap = np.inf
    for i in range(len(sizes)):
        gap = 0.0 if ours[i] else gap + sizes[i]
        before[i] = gap
    gap = np.inf
    for i in reversed(range(len(sizes))):
        gap = 0.0 if ours[i] else gap + sizes[i]
        after[i] = gap
    distance = np.minimum(np.minimum(before, after), 1e4)
    mean = votes.mean(axis=1)
    padded = np.concatenate([[0.0], mean, [0.0]])
    cues = np.column_stack([np.array(cues, dtype=float).reshape(-1, 8), np.log1p(sizes),
                            np.arange(len(sizes)) / max(1, len(sizes)), np.log1p(distance),
                            (padded[:-2] + padded[2:]) / 2])
    kept = np.concatenate([[False], ours, [False]])
    edge = (ours & ~(kept[:-2] & kept[2:])) | (~ours & (kept[:-2] | kept[2:]))
    said = votes >= 0.5
    differ = said.any(axis=1) & ~said.all(axis=1)
    return {"texts": texts, "votes": votes, "features": cues, "sizes": sizes,
            "hits": np.array(hits, dtype=float), "truth_size": len(shingles(record["truth"])),
            "starts": np.array(starts, dtype=bool),
            "ours": ours, "scope": {"all": np.ones(len(sizes), dtype=bool), "differ": differ,
                                    "edge": differ & edge}}


def kept_text(a: dict, keep: np.ndarray) -> str:
    """The kept units as text: a unit runs on from the one before it in its block, else starts
    a line."""
    parts: list[str] = []
    previous = -1
    for i in np.flatnonzero(keep):
        joined = previous == i - 1 and not a["starts"][i]
        parts.append(a["texts"][i] if joined else "\n" + a["texts"][i])
        previous = i
    return "\n".join(line.strip() for line in "".join(parts).strip().split("\n"))


def design(a: dict, cues: bool) -> np.ndarray:
    x = np.column_stack([a["votes"], a["features"]]) if cues else a["votes"]
    return np.column_stack([x, np.ones(len(x))])


def predict(a: dict, beta: np.ndarray, cues: bool, scope: str) -> np.ndarray:
    """Unit scores; outside the scope, today's choice (+-50)."""
    score = design(a, cues) @ beta
    return np.where(a["scope"][scope], score, np.where(a["ours"], 50.0, -50.0))


class ExactF1:
    """Page F1 the way the bench scores it (today's rules after the body, shingles), memoised
    per page and kept units: a threshold only changes a few pages' units."""

    def __init__(self, records: list[dict], arrays: list[dict]) -> None:
        self.records, self.arrays = records, arrays
        self.memo: dict[tuple[int, bytes], tuple[float, float]] = {}

    def page(self, i: int, keep: np.ndarray) -> tuple[float, float]:
        key = (i, np.packbits(keep).tobytes())
        if key not in self.memo:
            body = finish(kept_text(self.arrays[i], keep), self.records[i])
            self.memo[key] = pr(shingles(body), shingles(self.records[i]["truth"]))
        return self.memo[key]

    def f1(self, pages: list[int], scores: list[np.ndarray], threshold: float) -> float:
        ps, rs = zip(*(self.page(i, s > threshold) for i, s in zip(pages, scores, strict=True)),
                     strict=True)
        return f1(sum(ps) / len(ps), sum(rs) / len(rs))


def learn(pages: list[int], arrays: list[dict], cues: bool, scope: str,
          exact: ExactF1 | None, per_page: bool) -> tuple[np.ndarray, float]:
    """Weights by logistic regression on the units in scope (label: most of the unit's tokens
    are in the answer, weighted by its tokens, or by its share of the page's answer) and the
    threshold that maximises the training pages' F1, exact or approximated from unit tokens."""
    used = [arrays[i]["scope"][scope] for i in pages]
    x = np.vstack([design(arrays[i], cues)[u] for i, u in zip(pages, used, strict=True)])
    sizes = np.concatenate([arrays[i]["sizes"][u] for i, u in zip(pages, used, strict=True)])
    hits = np.concatenate([arrays[i]["hits"][u] for i, u in zip(pages, used, strict=True)])
    weight = sizes / np.concatenate([np.full(u.sum(), max(50, arrays[i]["truth_size"]))
                                     for i, u in zip(pages, used, strict=True)]) \
        if per_page else sizes
    beta = logistic(x, (hits >= 0.5 * sizes).astype(float), weight)
    scores = [predict(arrays[i], beta, cues, scope) for i in pages]
    if exact is None:
        best = max(np.linspace(-3, 3, 25),
                   key=lambda t: approx_f1([arrays[i] for i in pages], scores, t))
        return beta, float(best)
    # exact F1 costs today's rules and the scorer on every page: coarse to fine, 11 thresholds
    best = max(np.linspace(-3, 3, 7), key=lambda t: exact.f1(pages, scores, t))
    for step in (0.5, 0.25):
        best = max((best - step, best, best + step), key=lambda t: exact.f1(pages, scores, t))
    return beta, float(best)


def units(args: argparse.Namespace) -> int:
    records, arrays = cached_arrays(args.cache, ".units.pkl", unit_arrays)
    print(f"{sum(len(a['sizes']) for a in arrays)} units, "
          f"{sum(len(r['blocks']) for r in records)} blocks")
    tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))

    def add(name: str, record: dict, body: str) -> None:
        for key in (record["set"], "all"):
            tallies[key][name].add(body, record["truth"])

    for record, a in zip(records, arrays, strict=True):
        add("trafilatura_bare", record, record["outputs"]["trafilatura_bare"])
        add("newsdesk", record, record["outputs"]["newsdesk"])
        add("newsdesk rebuilt from its units", record, finish(kept_text(a, a["ours"]), record))
        oracle = a["hits"] >= 0.5 * a["sizes"]
        for scope in ("differ", "edge"):
            add(f"newsdesk + hindsight on units in scope '{scope}'", record,
                finish(kept_text(a, np.where(a["scope"][scope], oracle, a["ours"])), record))
        add("unit vote with hindsight", record, finish(kept_text(a, oracle), record))
    exact = ExactF1(records, arrays)
    for name, cues, scope, on_exact, per_page in VARIANTS:
        for f in range(FOLDS):
            train = [i for i, r in enumerate(records) if fold_of(r["site"]) != f]
            beta, threshold = learn(train, arrays, cues, scope, exact if on_exact else None,
                                    per_page)
            print(f"{name} fold {f}: weights {np.round(beta, 2).tolist()} "
                  f"threshold {threshold:.2f}", flush=True)
            for i, record in enumerate(records):
                if fold_of(record["site"]) == f:
                    keep = predict(arrays[i], beta, cues, scope) > threshold
                    add(name, record, finish(kept_text(arrays[i], keep), record))
    for subset, by_name in sorted(tallies.items()):
        print(f"\n{subset} ({next(iter(by_name.values())).n} pages)\n"
              "| body | F1 | P | R |\n|---|---|---|---|")
        print("\n".join(t.row(name) for name, t in by_name.items()))
    return 0

