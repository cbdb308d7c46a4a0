"""The vote step of bench/body_ensemble.py: block votes from the cached extractor outputs, a
vote learned with cross-validation by site, and the scores (see that module's docstring)."""

from __future__ import annotations

import argparse
import functools
import re
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.corpus_scoring import f1, pr, shingles
from pipeline.extraction import body as body_rules
from pipeline.extraction import extract as ex
from pipeline.text.cleaning import word_count

EXTRACTORS = ("traf_fast", "traf_default", "traf_precision", "traf_recall", "readability",
              "resiliparse", "justext", "newsdesk")
FOLDS = 5
ALL = EXTRACTORS
# (name, block features too, the extractors that vote, only edit today's blocks where they differ)
VARIANTS = (
    ("vote: all", False, ALL, False),
    ("vote: all + block features", True, ALL, False),
    ("vote: newsdesk, fast, resiliparse + features", True, ("newsdesk", "traf_fast",
                                                            "resiliparse"), False),
    ("vote: trafilatura modes + newsdesk + features", True, ("traf_fast", "traf_default",
                                                             "traf_precision", "traf_recall",
                                                             "newsdesk"), False),
    ("vote: all but justext, readability + features", True, ("traf_fast", "traf_default",
                                                            "traf_precision", "traf_recall",
                                                            "resiliparse", "newsdesk"), False),
    ("edits: today's blocks, the vote where all + features differ", True, ALL, True),
)


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def block_votes(blocks: list[str], output: str) -> np.ndarray:
    """Each block's share of its 4-token shingles found in `output`; a block under four tokens
    ("Share", "Related stories") counts only as a whole line of the output (such words are
    found inside any story)."""
    tokens = _tokens(output)
    lines = {tuple(_tokens(line)) for line in output.split("\n")}
    found = {tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3)}
    votes = np.zeros(len(blocks))
    for i, block in enumerate(blocks):
        toks = _tokens(block)
        if len(toks) < 4:
            votes[i] = float(tuple(toks) in lines)
        else:
            grams = [tuple(toks[j:j + 4]) for j in range(len(toks) - 3)]
            votes[i] = sum(g in found for g in grams) / len(grams)
    return votes


def page_arrays(record: dict) -> dict:
    """Votes (blocks x extractors), block features, and each block's shingles against the
    answer (for the fast approximate page P/R used while learning)."""
    texts = [b["text"] for b in record["blocks"]]
    truth = shingles(record["truth"])
    votes = np.column_stack([block_votes(texts, record["outputs"][e]) for e in EXTRACTORS]) \
        if texts else np.zeros((0, len(EXTRACTORS)))
    n = len(texts)
    # Each token of a kept block adds about one shingle to the body (a short block's tokens
    # join its neighbours' in shingles across the line): a block counts by its tokens, and its
    # hits are its share of shingles in the answer (containment for a short block).
    answer = f" {' '.join(_tokens(record['truth']))} "
    sizes = np.array([len(_tokens(t)) for t in texts], dtype=float)
    hits = np.array([len(_tokens(t)) * (
        len(shingles(t) & truth) / max(1, len(_tokens(t)) - 3) if len(_tokens(t)) >= 4
        else float(f" {' '.join(_tokens(t))} " in answer)) for t in texts], dtype=float)
    chars = np.array([max(1, len(t)) for t in texts], dtype=float)
    tags = [b["tag"] for b in record["blocks"]]
    features = np.column_stack([
        np.log1p(sizes),  # tokens
        np.array([b["link"] for b in record["blocks"]], dtype=float) / chars,
        np.arange(n) / max(1, n),
        np.array([t in ("h1", "h2", "h3", "h4", "h5", "h6") for t in tags], dtype=float),
        np.array([t == "li" for t in tags], dtype=float),
        np.array([t in ("td", "th") for t in tags], dtype=float),
    ]) if n else np.zeros((0, 6))
    # The mean vote of the blocks either side: a story runs on, furniture sits in islands.
    mean = votes.mean(axis=1) if n else np.zeros(0)
    padded = np.concatenate([[0.0], mean, [0.0]])
    features = np.column_stack([features, (padded[:-2] + padded[2:]) / 2]) if n \
        else np.zeros((0, 7))
    return {"texts": texts, "votes": votes, "features": features, "sizes": sizes,
            "hits": hits, "truth_size": len(truth)}


# --- learning -------------------------------------------------------------------------------

def fold_of(site: str) -> int:
    return zlib.crc32(site.encode()) % FOLDS  # stable across runs and machines


def design(arrays: dict, extended: bool, columns: list[int]) -> np.ndarray:
    x = arrays["votes"][:, columns]
    if extended:
        x = np.column_stack([x, arrays["features"]])
    return np.column_stack([x, np.ones(len(x))])


def logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1.0,
             steps: int = 25) -> np.ndarray:
    """Weighted L2 logistic regression by Newton's method (no scikit-learn in the venv)."""
    beta = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
        grad = x.T @ (weight * (p - y)) + l2 * beta
        hess = (x * (weight * p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-6:
            break
    return beta


def approx_f1(pages: list[dict], scores: list[np.ndarray], threshold: float) -> float:
    """Page-averaged P and R from block shingles (boundaries and post rules ignored)."""
    p_sum = r_sum = 0.0
    for arrays, score in zip(pages, scores, strict=True):
        keep = score > threshold
        kept, hit = arrays["sizes"][keep].sum(), arrays["hits"][keep].sum()
        p, r = pr_counts(kept, hit, arrays["truth_size"])
        p_sum, r_sum = p_sum + p, r_sum + r
    return f1(p_sum / len(pages), r_sum / len(pages))


def pr_counts(kept: float, hit: float, truth: int) -> tuple[float, float]:
    if not kept and not truth:
        return 1.0, 1.0
    return (hit / kept if kept else 0.0), (min(1.0, hit / truth) if truth else 0.0)


def differ(arrays: dict) -> np.ndarray:
    """The blocks where the extractors do not all say the same."""
    said = arrays["votes"] >= 0.5
    return said.any(axis=1) & ~said.all(axis=1)


def predict(arrays: dict, beta: np.ndarray, extended: bool, columns: list[int],
            edits: bool) -> np.ndarray:
    """Block scores; with `edits`, today's blocks (+-50) except where the extractors differ."""
    score = design(arrays, extended, columns) @ beta
    if not edits:
        return score
    ours = np.where(arrays["votes"][:, EXTRACTORS.index("newsdesk")] >= 0.5, 50.0, -50.0)
    return np.where(differ(arrays), score, ours)


def learn(pages: list[dict], extended: bool, columns: list[int],
          edits: bool = False) -> tuple[np.ndarray, float]:
    """Weights (logistic regression on block labels: most of the block's shingles are in the
    answer, weighted by its shingles; with `edits`, on the blocks where the extractors differ
    only) and the threshold that maximises the pages' F1."""
    xs = [design(a, extended, columns) for a in pages]
    used = [differ(a) if edits else np.ones(len(a["sizes"]), dtype=bool) for a in pages]
    x = np.vstack([xi[u] for xi, u in zip(xs, used, strict=True)])
    sizes = np.concatenate([a["sizes"][u] for a, u in zip(pages, used, strict=True)])
    hits = np.concatenate([a["hits"][u] for a, u in zip(pages, used, strict=True)])
    y = (hits >= 0.5 * np.maximum(sizes, 1)).astype(float)
    beta = logistic(x, y, np.maximum(sizes, 0.5))
    scores = [predict(a, beta, extended, columns, edits) for a in pages]
    grid = np.linspace(-3, 3, 25)
    best = max(grid, key=lambda t: approx_f1(pages, scores, t))
    return beta, float(best)


# --- exact scoring --------------------------------------------------------------------------

def kept_text(texts: list[str], keep: np.ndarray) -> str:
    return "\n".join(t for t, k in zip(texts, keep, strict=True) if k)


def finish(text: str, record: dict) -> str:
    """newsdesk's rules after its body text: the publisher's body, the title line, promos,
    placeholders, and the minimum length."""
    text = body_rules.prefer_publisher_body(text, record["ld_body"], record["app_body"],
                                            min_words=ex.MIN_WORDS)
    body = ex._body(text, record["title"])
    return body if word_count(body) >= ex.MIN_WORDS else ""


@functools.cache
def _page_pr(body: str, truth: str) -> tuple[float, float]:
    return pr(shingles(body), shingles(truth))


class Tally:
    def __init__(self) -> None:
        self.p = self.r = 0.0
        self.n = 0

    def add(self, body: str, truth: str) -> None:
        p, r = _page_pr(body, truth)
        self.p, self.r, self.n = self.p + p, self.r + r, self.n + 1

    def f1(self) -> float:
        return f1(self.p / max(1, self.n), self.r / max(1, self.n))

    def row(self, name: str) -> str:
        p, r = self.p / max(1, self.n), self.r / max(1, self.n)
        return f"| {name} | {self.f1():.4f} | {p:.4f} | {r:.4f} |"


def cached_arrays(cache: Path, suffix: str, make) -> tuple[list, list]:
    """The cache's records and `make(record)` of each, the latter kept beside the cache (with
    `suffix`) while the cache is unchanged."""
    import pickle
    records = pickle.loads(cache.read_bytes())
    saved = cache.with_suffix(suffix)
    if saved.exists() and saved.stat().st_mtime > cache.stat().st_mtime:
        return records, pickle.loads(saved.read_bytes())
    arrays = [make(r) for r in records]
    saved.write_bytes(pickle.dumps(arrays))
    return records, arrays


def vote(args: argparse.Namespace) -> int:
    records, arrays = cached_arrays(args.cache, ".arrays.pkl", page_arrays)
    tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))

    def add(name: str, record: dict, body: str) -> None:
        for key in (record["set"], "all"):
            tallies[key][name].add(body, record["truth"])

    for record, a in zip(records, arrays, strict=True):
        for name in (*EXTRACTORS, "trafilatura_bare"):
            add(name, record, record["outputs"][name])
        oracle = a["hits"] >= 0.5 * np.maximum(a["sizes"], 1)
        add("block vote with hindsight", record,
            finish(kept_text(a["texts"], oracle), record))
        # What the blocks cost: today's body rebuilt from the blocks it keeps; and the best any
        # vote over these extractors can do, today's blocks with hindsight only where they differ.
        ours = a["votes"][:, EXTRACTORS.index("newsdesk")] >= 0.5
        add("newsdesk rebuilt from its blocks", record, finish(kept_text(a["texts"], ours), record))
        add("newsdesk + hindsight where extractors differ", record,
            finish(kept_text(a["texts"], np.where(differ(a), oracle, ours)), record))

    for record in records:
        add("fast + newsdesk rules", record, finish(record["outputs"]["traf_fast"], record))
    predicted: dict[str, list[str]] = {}
    for name, extended, chosen, edits in VARIANTS:
        columns = [EXTRACTORS.index(e) for e in chosen]
        bodies = predicted[name] = [""] * len(records)
        for fold in range(FOLDS):
            train = [a for r, a in zip(records, arrays, strict=True) if fold_of(r["site"]) != fold]
            beta, threshold = learn(train, extended, columns, edits)
            print(f"{name} fold {fold}: weights {np.round(beta, 2).tolist()} "
                  f"threshold {threshold:.2f}")
            for i, (record, a) in enumerate(zip(records, arrays, strict=True)):
                if fold_of(record["site"]) == fold:
                    keep = predict(a, beta, extended, columns, edits) > threshold
                    bodies[i] = finish(kept_text(a["texts"], keep), record)
        for record, body in zip(records, bodies, strict=True):
            add(name, record, body)
    for subset, by_name in sorted(tallies.items()):
        print(f"\n{subset} ({next(iter(by_name.values())).n} pages)\n"
              "| extractor | body F1 | P | R |\n|---|---|---|---|")
        print("\n".join(t.row(name) for name, t in by_name.items()))
    # the gate for the vote whose second opinions are cheapest to pay (no readability, justext)
    for name, _, chosen, _ in VARIANTS[4:5]:
        print(f"\n## gate for {name}")
        gate_report(records, arrays, predicted[name],
                    tuple(e for e in SLOW_EXTRAS if e in chosen))
    return 0


# --- when to pay for second opinions --------------------------------------------------------

def _jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y) if x | y else 1.0


SIGNALS = {
    # trafilatura fast's words against the page's visible words: a short body is unsure
    "fast/visible words": lambda r, a: word_count(r["outputs"]["traf_fast"])
    / max(1, sum(word_count(t) for t in a["texts"])),
    # agreement of the two cheap extractors (resiliparse costs a few ms)
    "fast~resiliparse": lambda r, a: _jaccard(r["outputs"]["traf_fast"],
                                              r["outputs"]["resiliparse"]),
    # for reference (not cheap: the full mode is what the fast path skips)
    "fast~default": lambda r, a: _jaccard(r["outputs"]["traf_fast"],
                                          r["outputs"]["traf_default"]),
}
SLOW_EXTRAS = ("traf_default", "traf_precision", "traf_recall", "readability", "resiliparse",
               "justext")


def gate_report(records: list[dict], arrays: list[dict], ensemble: list[str],
                extras: tuple[str, ...]) -> None:
    """Body F1 and CPU a page when only the least confident pages take the ensemble; the rest
    keep the fast path (trafilatura fast + newsdesk's rules) or today's body."""
    base = {"today": [r["outputs"]["newsdesk"] for r in records],
            "fast": [finish(r["outputs"]["traf_fast"], r) for r in records]}
    today_cpu = np.array([r["cpu"]["newsdesk"] for r in records])
    saved = np.array([r["cpu"]["traf_default"] - r["cpu"]["traf_fast"] for r in records])
    extra_cpu = np.array([sum(r["cpu"][e] for e in extras) for r in records])
    print(f"\nCPU a page (cached run, mean ms): today {today_cpu.mean() * 1000:.1f}; "
          f"second opinions {extra_cpu.mean() * 1000:.1f}; fast path saves "
          f"{saved.mean() * 1000:.1f}")
    print("| signal | base | slow share | fundus F1 (P/R) | wcxb F1 (P/R) | CPU vs today |")
    print("|---|---|---|---|---|---|")
    for signal, fn in SIGNALS.items():
        values = np.array([fn(r, a) for r, a in zip(records, arrays, strict=True)])
        for share in (0.05, 0.1, 0.2, 1.0):
            # the least confident pages by rank (ties in page order), the cut for reference
            order = np.argsort(values, kind="stable")[:round(share * len(values))]
            slow = np.zeros(len(values), dtype=bool)
            slow[order] = True
            cut = values[order[-1]]
            for base_name, bodies in base.items():
                cells = []
                for subset in ("fundus", "wcxb"):
                    t = Tally()
                    for r, b, e, s in zip(records, bodies, ensemble, slow, strict=True):
                        if r["set"] == subset:
                            t.add(e if s else b, r["truth"])
                    p, rr = t.p / t.n, t.r / t.n
                    cells.append(f"{f1(p, rr):.4f} ({p:.3f}/{rr:.3f})")
                cpu = today_cpu + slow * extra_cpu - (saved if base_name == "fast" else 0)
                print(f"| {signal} <= {cut:.2f} | {base_name} | {slow.mean():.2f} | "
                      f"{cells[0]} | {cells[1]} | {cpu.sum() / today_cpu.sum():.2f} |")
