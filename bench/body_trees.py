"""The `trees` step of bench/body_ensemble.py: gradient-boosted trees on the unit votes (issue 21,
third round; the units are bench/body_units.py's).

The second round found the same votes mean different things on the two sets (units only the
non-trafilatura extractors keep are mostly furniture on news pages, body as often as not on
other pages), which one linear vote cannot serve. Here a small non-linear learner (LightGBM)
sees, beside each unit's votes and layout cues, cues that tell kinds of pages apart: whether the
page publishes its body (JSON-LD articleBody or the app state) and how much of the unit it
covers, the page's visible text length, each extractor's body length against it, the
neighbouring units' votes and the block's tag. Labels are tokens: a unit weighs as its tokens in
the answer (kept) and its tokens not in it (dropped). Cross-validated by site (the folds of
bench/body_vote.py); inside each training fold the threshold is chosen on exact page F1 of
out-of-fold predictions (an inner 4-fold split by site), then one model is fitted on the whole
training fold. Variants: the learner on every unit, or only where the extractors differ; and
the learner only on pages a cheap gate marks unsure, today's body on the rest. For the best
variant it counts the tokens it gains and loses against today's body, by kind of unit.
"""

from __future__ import annotations

import argparse
import pickle
import zlib
from collections import Counter, defaultdict

import numpy as np

from bench.body_ensemble import BLOCK_TAGS
from bench.body_units import ExactF1, covered, kept_text, page_stream, unit_arrays
from bench.body_vote import EXTRACTORS, FOLDS, SIGNALS, Tally, finish, fold_of

TAGS = sorted(BLOCK_TAGS)
TRAFILATURA = [EXTRACTORS.index(e) for e in EXTRACTORS if e.startswith("traf_")]
OTHERS = [EXTRACTORS.index(e) for e in ("readability", "resiliparse", "justext")]
TODAY = EXTRACTORS.index("newsdesk")
INNER = 4
# Small trees, many units per leaf: a site's units are alike, and what must carry is what holds
# across sites.
PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15,
          "min_data_in_leaf": 400, "feature_fraction": 0.8, "bagging_fraction": 0.8,
          "bagging_freq": 1, "lambda_l2": 1.0, "num_threads": 1, "seed": 21,
          "deterministic": True, "verbose": -1}
ROUNDS = 200
WIDTH = 1 + 3 + 2 * len(EXTRACTORS) + 2 * len(EXTRACTORS) + 1  # page_cues' columns


def page_cues(record: dict, a: dict) -> np.ndarray:
    """Per-unit columns that tell kinds of pages apart, and the unit's neighbours and tag."""
    _, stream = page_stream(record)
    n, visible = len(a["sizes"]), max(1, len(stream))
    if not n:
        return np.zeros((0, WIDTH))
    offsets = np.concatenate([[0], np.cumsum(a["sizes"]).astype(int)])
    publisher = record["ld_body"] or record["app_body"] or ""
    held = covered(stream, publisher) if publisher else np.zeros(len(stream), dtype=bool)
    share = np.add.reduceat(held, offsets[:-1]) / a["sizes"]
    lengths = np.array([len(record["outputs"][e].split()) for e in EXTRACTORS], dtype=float)
    block = np.cumsum(a["starts"]) - 1  # every block has a unit, its first marked in `starts`
    tags = np.array([TAGS.index(record["blocks"][b]["tag"]) for b in block], dtype=float)
    padded = np.vstack([np.zeros(len(EXTRACTORS)), a["votes"], np.zeros(len(EXTRACTORS))])
    page = np.concatenate([[bool(publisher), np.log1p(len(publisher.split())), np.log1p(visible)],
                           lengths / visible, np.log1p(lengths)])
    return np.column_stack([share, np.broadcast_to(page, (n, len(page))), padded[:-2],
                            padded[2:], tags])


def design(a: dict, extra: np.ndarray) -> np.ndarray:
    return np.column_stack([a["votes"], a["features"], extra])


def fit(x: np.ndarray, sizes: np.ndarray, hits: np.ndarray):
    """Trees on tokens: each unit twice, as its tokens in the answer and its tokens not."""
    import lightgbm as lgb
    rows = np.vstack([x, x])
    label = np.concatenate([np.ones(len(x)), np.zeros(len(x))])
    weight = np.concatenate([hits, sizes - hits])
    used = weight > 0
    data = lgb.Dataset(rows[used], label[used], weight=weight[used],
                       categorical_feature=[x.shape[1] - 1], free_raw_data=True)
    return lgb.train(PARAMS, data, num_boost_round=ROUNDS)


def scores(model, a: dict, extra: np.ndarray, scope: str) -> np.ndarray:
    """Unit probabilities; outside the scope, today's choice (2 kept, -1 dropped)."""
    p = model.predict(design(a, extra)) if len(a["sizes"]) else np.zeros(0)
    return np.where(a["scope"][scope], p, np.where(a["ours"], 2.0, -1.0))


def train(pages: list[int], arrays: list[dict], extras: list[np.ndarray], scope: str):
    used = [arrays[i]["scope"][scope] for i in pages]
    x = np.vstack([design(arrays[i], extras[i])[u] for i, u in zip(pages, used, strict=True)])
    sizes = np.concatenate([arrays[i]["sizes"][u] for i, u in zip(pages, used, strict=True)])
    hits = np.concatenate([arrays[i]["hits"][u] for i, u in zip(pages, used, strict=True)])
    return fit(x, sizes, hits)


def learn(pages: list[int], records: list[dict], arrays: list[dict], extras: list[np.ndarray],
          scope: str, exact: ExactF1):
    """A model fitted on the pages, and the threshold that maximises exact page F1 on
    predictions the pages were not fitted on (an inner split by site: trees fit their own
    training units too well for a threshold chosen on them to carry)."""
    inner = {i: zlib.crc32(f"inner:{records[i]['site']}".encode()) % INNER for i in pages}
    held: dict[int, np.ndarray] = {}
    for k in range(INNER):
        model = train([i for i in pages if inner[i] != k], arrays, extras, scope)
        held.update({i: scores(model, arrays[i], extras[i], scope)
                     for i in pages if inner[i] == k})
    out = [held[i] for i in pages]
    best = max(np.linspace(0.2, 0.8, 7), key=lambda t: exact.f1(pages, out, t))
    for step in (0.05, 0.025):
        best = max((best - step, best, best + step), key=lambda t: exact.f1(pages, out, t))
    return train(pages, arrays, extras, scope), float(best)


def kind(votes: np.ndarray) -> str:
    """A unit's kind by who keeps it: today, trafilatura's modes, the other extractors."""
    said = votes > 0.5

    def share(columns: list[int]) -> str:
        n = said[columns].sum()
        return "all" if n == len(columns) else "none" if n == 0 else "some"

    return (f"today {'keeps' if said[TODAY] else 'drops'}, trafilatura modes "
            f"{share(TRAFILATURA)}, others {share(OTHERS)}")


def why(records: list[dict], arrays: list[dict], keeps: list[np.ndarray]) -> None:
    """Tokens the variant keeps and today drops (gained), and the reverse (lost), by kind of
    unit: right when they are in the answer (for a gain) or not (for a loss)."""
    for subset in ("fundus", "wcxb"):
        tally: dict[str, Counter] = defaultdict(Counter)
        for record, a, keep in zip(records, arrays, keeps, strict=True):
            if record["set"] != subset:
                continue
            for i in np.flatnonzero(keep != a["ours"]):
                name = kind(a["votes"][i])
                right = a["hits"][i] if keep[i] else a["sizes"][i] - a["hits"][i]
                move = "gained" if keep[i] else "dropped"
                tally[name][f"{move} right"] += right
                tally[name][f"{move} wrong"] += a["sizes"][i] - right
        print(f"\n{subset}: tokens against today's units, by kind of unit\n"
              "| kind | gained, in answer | gained, not | dropped, not in answer | "
              "dropped, in answer |\n|---|---|---|---|---|")
        total: Counter = Counter()
        for name, c in sorted(tally.items(), key=lambda kv: -sum(kv[1].values())):
            total.update(c)
            print(f"| {name} | {c['gained right']:.0f} | {c['gained wrong']:.0f} | "
                  f"{c['dropped right']:.0f} | {c['dropped wrong']:.0f} |")
        print(f"| all | {total['gained right']:.0f} | {total['gained wrong']:.0f} | "
              f"{total['dropped right']:.0f} | {total['dropped wrong']:.0f} |")


def gate_cpu(records: list[dict], slow: np.ndarray) -> float:
    """Extraction CPU against today's (the cache's CPU seconds): the gate's two cheap extractors
    (trafilatura fast, resiliparse) on every page, the other second opinions on the slow ones."""
    today = sum(r["cpu"]["newsdesk"] for r in records)
    gate = sum(r["cpu"]["traf_fast"] + r["cpu"]["resiliparse"] for r in records)
    rest = sum(r["cpu"][e] for r, s in zip(records, slow, strict=True) if s
               for e in EXTRACTORS if e not in ("newsdesk", "traf_fast", "resiliparse"))
    return (today + gate + rest) / today


def trees(args: argparse.Namespace) -> int:
    records = pickle.loads(args.cache.read_bytes())
    saved = args.cache.with_suffix(".units.pkl")  # bench/body_units.py's, when still current
    if saved.exists() and saved.stat().st_mtime > args.cache.stat().st_mtime:
        arrays = pickle.loads(saved.read_bytes())
    else:
        arrays = [unit_arrays(r) for r in records]
        saved.write_bytes(pickle.dumps(arrays))
    cues = args.cache.with_suffix(".trees.pkl")
    if cues.exists() and cues.stat().st_mtime > saved.stat().st_mtime:
        extras = pickle.loads(cues.read_bytes())
    else:
        extras = [page_cues(r, a) for r, a in zip(records, arrays, strict=True)]
        cues.write_bytes(pickle.dumps(extras))
    tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))

    def add(name: str, record: dict, body: str) -> None:
        for key in (record["set"], "all"):
            tallies[key][name].add(body, record["truth"])

    for record in records:
        add("trafilatura_bare", record, record["outputs"]["trafilatura_bare"])
        add("newsdesk", record, record["outputs"]["newsdesk"])
    exact = ExactF1(records, arrays)
    kept: dict[str, list[np.ndarray]] = {}
    bodies: dict[str, list[str]] = {}
    for scope in ("all", "differ"):
        name = f"trees on units in scope '{scope}'"
        kept[name], bodies[name] = [np.zeros(0)] * len(records), [""] * len(records)
        for f in range(FOLDS):
            pages = [i for i, r in enumerate(records) if fold_of(r["site"]) != f]
            model, threshold = learn(pages, records, arrays, extras, scope, exact)
            print(f"{name} fold {f}: threshold {threshold:.3f}", flush=True)
            for i, record in enumerate(records):
                if fold_of(record["site"]) == f:
                    keep = scores(model, arrays[i], extras[i], scope) > threshold
                    kept[name][i] = keep
                    bodies[name][i] = finish(kept_text(arrays[i], keep), record)
        for record, body in zip(records, bodies[name], strict=True):
            add(name, record, body)
    best = max(bodies, key=lambda n: tallies["fundus"][n].f1() + tallies["wcxb"][n].f1())
    # The learner only where a cheap gate (no answers used) marks the page unsure, today's body
    # on the rest: the least confident pages by rank.
    for signal in ("fast~resiliparse", "fast/visible words"):
        values = np.array([SIGNALS[signal](r, a) for r, a in zip(records, arrays, strict=True)])
        for share in (0.1, 0.2, 0.3, 0.5):
            slow = np.zeros(len(records), dtype=bool)
            slow[np.argsort(values, kind="stable")[:round(share * len(records))]] = True
            for record, body, s in zip(records, bodies[best], slow, strict=True):
                add(f"{best}, on the {share:.0%} of pages least sure by {signal}", record,
                    body if s else record["outputs"]["newsdesk"])
            print(f"gate {signal} <= {values[slow].max():.3f} ({share:.0%} of pages): "
                  f"extraction CPU {gate_cpu(records, slow):.2f} x today's")
    for subset, by_name in sorted(tallies.items()):
        print(f"\n{subset} ({next(iter(by_name.values())).n} pages)\n"
              "| body | F1 | P | R |\n|---|---|---|---|")
        print("\n".join(t.row(name) for name, t in by_name.items()))
    print(f"\nwhy, for {best}:")
    why(records, arrays, kept[best])
    return 0
