"""Body ensemble measurement: which of a page's blocks each extractor keeps, and what a vote
among them would score (issue 21).

Extract once, then vote as often as needed without extracting again:

    .venv/bin/python bench/body_ensemble.py extract [--corpus DIR] [--limit N] [--cache FILE]
    .venv/bin/python bench/body_ensemble.py vote [--cache FILE]
    .venv/bin/python bench/body_ensemble.py units [--cache FILE]
    .venv/bin/python bench/body_ensemble.py trees [--cache FILE]

`extract` parses each dev-corpus page once (newsdesk's own parse, consent banners dropped), cuts
it into blocks (the text of each block element -- paragraph, list item, heading, table cell,
quote, div -- without its nested blocks, split at `<br>`), runs every extractor, and caches
their outputs, the blocks and CPU seconds per extractor to a pickle. `vote` matches each
output to the blocks by normalised text (a block's share of 4-token shingles found in the
output; a block under four tokens only as a whole line of it), then scores, cross-validated by
site (group k-fold over the page's host, never a page scored with weights learned on its own
site): each extractor alone, bare trafilatura, today's newsdesk, learned votes, the ceilings
with hindsight, and when the second opinions would run (bench/body_vote.py). The figures and
what they say: docs/quality.md, "Body ensemble". `units` votes on the runs inside blocks
instead (bench/body_units.py), `trees` learns gradient-boosted trees on those units
(bench/body_trees.py). Needs the `bench` extra (readability-lxml, resiliparse, lightgbm).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import pickle
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `bench.corpus_scoring` when run as a script
    sys.path.insert(0, str(ROOT))

from bench.corpus_scoring import DEFAULT_CORPUS  # noqa: E402
from pipeline.extraction import extract as ex  # noqa: E402
from pipeline.extraction import page as page_parsing  # noqa: E402
from pipeline.extraction.metadata import harvest  # noqa: E402

CACHE = Path("/tmp/body-ensemble-cache.pkl")

BLOCK_TAGS = frozenset([
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "blockquote", "pre", "dd", "dt",
    "figcaption", "caption", "div", "section", "article", "main", "header", "footer", "aside",
    "nav", "form", "ul", "ol", "dl", "table", "tr", "tbody", "thead", "body", "figure",
    "address", "details", "summary", "center"])
SKIP_TAGS = frozenset([
    "script", "style", "noscript", "template", "svg", "head", "iframe", "select", "option",
    "button", "textarea", "object", "video", "audio", "canvas"])


# --- blocks ---------------------------------------------------------------------------------

def blocks(tree: etree._Element) -> list[dict]:
    """The page's visible text as blocks in document order: text, tag, link characters."""
    found: list[dict] = []

    def flush(buf: dict) -> None:
        text = " ".join("".join(buf["parts"]).split())
        if re.search(r"\w", text):
            found.append({"text": text, "tag": buf["tag"], "link": buf["link"]})
        buf["parts"], buf["link"] = [], 0

    def walk(el: etree._Element, buf: dict, in_link: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else None
        if tag in SKIP_TAGS or tag is None:
            pass
        elif tag == "br":
            flush(buf)
        elif tag in BLOCK_TAGS:
            flush(buf)
            inner = {"parts": [], "link": 0, "tag": tag}
            _content(el, inner, in_link)
            flush(inner)
        else:
            _content(el, buf, in_link or tag == "a")
        if el.tail:
            buf["parts"].append(el.tail)
            if in_link:
                buf["link"] += len(el.tail.strip())

    def _content(el: etree._Element, buf: dict, in_link: bool) -> None:
        if el.text:
            buf["parts"].append(el.text)
            if in_link:
                buf["link"] += len(el.text.strip())
        for child in el:
            walk(child, buf, in_link)

    body = tree.find(".//body")
    root = {"parts": [], "link": 0, "tag": "body"}
    walk(body if body is not None else tree, root, False)
    flush(root)
    return found


# --- extractors -----------------------------------------------------------------------------

def _traf(tree: etree._Element, url: str, **mode) -> str:
    doc = trafilatura.bare_extraction(tree, url=url, with_metadata=False,
                                      include_comments=False, include_tables=True, **mode)
    return (doc.text or "") if doc is not None else ""


def _readability(markup: str) -> str:
    from readability import Document
    summary = Document(markup).summary(html_partial=True)
    return "\n".join(b["text"] for b in blocks(etree.fromstring(
        summary, etree.HTMLParser()))) if summary.strip() else ""


def _resiliparse(markup: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text
    return extract_plain_text(markup, main_content=True)


@functools.cache
def _stoplist() -> frozenset[str]:
    from trafilatura.external import jt_stoplist_init
    return frozenset(jt_stoplist_init())  # every language's stopwords, as trafilatura's fallback


def _justext(markup: str) -> str:
    import justext
    return "\n".join(p.text for p in justext.justext(markup.encode(), _stoplist())
                     if not p.is_boilerplate)


def page_record(html: bytes, url: str) -> dict:
    """Blocks, every extractor's output and its CPU seconds for one page."""
    outputs: dict[str, str] = {}
    cpu: dict[str, float] = {}

    def timed(name, fn, *args, **kwargs):
        start = time.process_time()
        try:
            outputs[name] = fn(*args, **kwargs) or ""
        except Exception as exc:
            print(f"  {name} failed on {url}: {exc!r}", file=sys.stderr)
            outputs[name] = ""
        cpu[name] = time.process_time() - start

    start = time.process_time()
    tree, markup = page_parsing.parse(html, None)
    page = harvest(tree)
    page_parsing.drop_consent_banners(tree)
    cpu["parse"] = time.process_time() - start
    record = {"blocks": blocks(tree), "ld_body": ex._article_body(page),
              "app_body": ex._app_state_body(tree)}
    timed("traf_fast", _traf, tree, url, fast=True)
    timed("traf_default", _traf, tree, url)
    timed("traf_precision", _traf, tree, url, favor_precision=True)
    timed("traf_recall", _traf, tree, url, favor_recall=True)
    timed("readability", _readability, markup)
    timed("resiliparse", _resiliparse, markup)
    timed("justext", _justext, markup)

    def bare() -> str:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        return (doc.text or "") if doc is not None else ""

    timed("trafilatura_bare", bare)
    start = time.process_time()
    try:
        article = ex.extract_article(html, url)
        outputs["newsdesk"], record["title"] = article.body, article.title
    except ex.NotAnArticle:
        outputs["newsdesk"], record["title"] = "", None
    cpu["newsdesk"] = time.process_time() - start
    record["outputs"], record["cpu"] = outputs, cpu
    return record


def extract(args: argparse.Namespace) -> int:
    files = sorted(args.corpus.glob("*/*.html.gz"))
    if args.limit:
        files = files[:: max(1, len(files) // args.limit)][: args.limit]
    records = []
    for i, file in enumerate(files):
        truth = json.loads(file.with_name(file.name.removesuffix(".html.gz") + ".json").read_text())
        url = truth.get("url") or ""
        record = page_record(gzip.decompress(file.read_bytes()), url)
        record.update(set=file.parent.name, id=file.name, url=url, truth=truth["body"],
                      site=(urlsplit(url).hostname or file.name).removeprefix("www."))
        records.append(record)
        if i % 50 == 0:
            print(f"{i}/{len(files)}", file=sys.stderr)
    args.cache.write_bytes(pickle.dumps(records))
    print(f"{len(records)} pages cached to {args.cache}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    one = sub.add_parser("extract")
    one.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    one.add_argument("--limit", type=int)
    two = sub.add_parser("vote")
    three = sub.add_parser("units")
    four = sub.add_parser("trees")
    for p in (one, two, three, four):
        p.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    if args.step == "extract":
        return extract(args)
    if args.step == "trees":
        from bench.body_trees import trees
        return trees(args)
    if args.step == "units":
        from bench.body_units import units
        return units(args)
    from bench.body_vote import vote
    return vote(args)


if __name__ == "__main__":
    sys.exit(main())
