"""The extraction worker pool shared by the process stage and reprocessing: the page record a
worker gets, the per-worker state (sources, learned boilerplate and title affixes, dedupe
settings) and the functions the workers run.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from pipeline.article import Article
from pipeline.dedupe.config import DedupeConfig
from pipeline.dedupe.matching import index_keys
from pipeline.errors import NewsdeskError
from pipeline.extraction import title_affixes
from pipeline.extraction.extract import extract_article
from pipeline.sources.config import Source


@dataclass(frozen=True)
class Page:
    """What a worker needs to extract one page (picklable, compressed body)."""

    id: int
    source: str
    url: str
    html_gz: bytes
    fetched_at: datetime
    hints: dict  # see `hints`


def hints(discovery: dict | None, content_type: str | None) -> dict:
    """What the extractor may use beyond the HTML: the feed/sitemap entry and the charset."""
    found = dict(discovery or {})
    found["via"] = found.get("discovered_via")
    found["content_type"] = content_type
    return found


# Sources by name, their learned boilerplate line keys and title affixes, and the dedupe
# settings, set once per worker process by the pool initialiser.
_SOURCES: dict[str, Source] = {}
_BOILERPLATE: dict[str, frozenset[str]] = {}
_TITLE_AFFIXES: dict[str, title_affixes.Affixes] = {}
_DEDUPE = DedupeConfig()


def _init_worker(sources: dict[str, Source], learned: dict[str, frozenset[str]],
                 affixes: dict[str, title_affixes.Affixes], dedupe: DedupeConfig,
                 parent: int | None = None) -> None:
    global _DEDUPE
    if parent is not None:
        threading.Thread(target=_exit_without, args=(parent,), daemon=True).start()
    _SOURCES.clear()
    _SOURCES.update(sources)
    _BOILERPLATE.clear()
    _BOILERPLATE.update(learned)
    _TITLE_AFFIXES.clear()
    _TITLE_AFFIXES.update(affixes)
    _DEDUPE = dedupe


def _exit_without(parent: int) -> None:
    """End this worker once the process that started the pool is gone (SIGKILLed, say): a pool
    worker holds both ends of its task pipe, so it would otherwise wait for work forever."""
    while True:
        time.sleep(1)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)


def extract_page(page: Page) -> tuple[int, Article | None, str | None]:
    """Extract one page; a page that yields no article returns its reason instead."""
    try:
        html = gzip.decompress(page.html_gz)
        article = extract_article(
            html,
            page.url,
            source=_SOURCES.get(page.source),
            fetched_at=page.fetched_at,
            hints=page.hints,
            boilerplate=_BOILERPLATE.get(page.source),
            title_affixes=_TITLE_AFFIXES.get(page.source),
        )
    except NewsdeskError as exc:
        return page.id, None, str(exc)
    except Exception as exc:  # one bad page must not sink the batch; its error is stored
        return page.id, None, f"extractor crashed: {type(exc).__name__}: {exc}"[:500]
    article.source = page.source
    return page.id, article, None


Extracted = tuple[int, Article | None, str | None, list[int] | None]


def extract_for_load(pages: list[Page]) -> list[Extracted]:
    """Worker side of the process stage: extract a chunk of pages, with each article's dedupe
    index keys (extraction's leftovers, computed where the cores are)."""
    out = []
    for page in pages:
        page_id, article, error = extract_page(page)
        keys = index_keys(article.body, _DEDUPE) if article is not None else None
        out.append((page_id, article, error, keys))
    return out


class _InlineExecutor(Executor):
    """Runs each call at once in this process: `workers=1` means one core, no pool."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # raised where a pool's would be: at result()
            future.set_exception(exc)
        return future


@contextmanager
def extraction_pool(workers: int, sources: dict[str, Source],
                    learned: dict[str, frozenset[str]],
                    affixes: dict[str, title_affixes.Affixes]) -> Iterator[Executor]:
    """Executor whose calls see `sources`, `learned` boilerplate, learned title `affixes` and
    the dedupe settings: `workers` processes, or this process when `workers` is 1."""
    # Read here, so a bad NEWSDESK_DEDUPE_* is one clear error, not a broken pool.
    initargs = (sources, learned, affixes, DedupeConfig.from_env())
    if workers == 1:
        _init_worker(*initargs)
        yield _InlineExecutor()
        return
    # forkserver: workers start clean (no inherited DB sockets or threads) and import the
    # extractor once, before forking each worker from that warm process.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.processing.worker_preload"])
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(*initargs, os.getpid())) as pool:
        yield pool

