"""Article pages that are not what they claim, through the whole job on the real stack.

One `newsdesk run` (module fixture: the demo site over HTTP, the crawl, the process stage,
Postgres) of a source whose one feed lists pages in different, wrongly declared or undeclared
encodings, with its own entries' text in mixed encodings, beside empty, blank, skeleton and
script-only pages at article URLs. The stored text must be right and the junk must not become
articles, without failing the run.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import psycopg
import pytest

from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.demo_site.faults import Fault
from tests.cli import newsdesk
from tests.test_faults_http import PUB, sources_for

pytestmark = pytest.mark.slow  # crawls and processes the demo site

RU = "Городской совет утвердил новый бюджет на следующий год после долгих обсуждений. " * 8
JA = "東京都は来年度の予算案を発表し、教育と防災への投資を大幅に増やす方針を示した。" * 8
FR = "Le café est très populaire à Paris et les habitants adorent y passer du temps. " * 8
DE = "Die Bürgerinnen und Bürger äußerten große Sorgen über die neue Straßenbahnlinie. " * 8
ES = "El niño comió piñas en la mañana junto al río, según contó su señora abuela. " * 8


def _page(title: str, body: str, head: str = "") -> str:
    return (
        f"<html><head>{head}<title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>{body}</p><p>{body}</p></article></body></html>"
    )


#: name -> (bytes served, Content-Type served, the article's title, a sentence of its body)
ENCODINGS = {
    "windows_1251_labelled_utf8": (
        _page("Новый бюджет города", RU).encode("cp1251"),
        "text/html; charset=utf-8",
        "Новый бюджет города",
        RU.split(". ")[0],
    ),
    "shift_jis_undeclared": (
        _page("東京都の予算案", JA).encode("shift_jis"),
        "text/html",
        "東京都の予算案",
        JA.split("。")[0],
    ),
    "utf8_bom": (
        b"\xef\xbb\xbf" + _page("Café à Paris", FR).encode(),
        "text/html",
        "Café à Paris",
        FR.split(". ")[0],
    ),
    "latin1_undeclared": (
        _page("Sorgen über die Straßenbahn", DE).encode("latin-1"),
        "text/html",
        "Sorgen über die Straßenbahn",
        DE.split(". ")[0],
    ),
    "utf8_declaring_latin1": (
        _page("El niño y las piñas", ES, '<meta charset="iso-8859-1">').encode(),
        "text/html",
        "El niño y las piñas",
        ES.split(", ")[0],
    ),
}

#: Pages at article URLs that are not articles (text/html, 200): name -> (body, refused how).
#: The crawl refuses empty and blank bodies ("crawl") and counts a page asking for JavaScript as
#: a bot wall ("blocked"); it stores a skeleton or a script-only app shell, which the process
#: stage finds no article in ("process").
NOT_ARTICLES = {
    "empty": (b"", "crawl"),
    "blank": (b" \r\n\t \n", "crawl"),
    "asks_for_javascript": (
        b"<html><head><title>Loading</title><script>window.location='/app/'</script></head>"
        b"<body><noscript>Please enable JavaScript to read this site.</noscript></body></html>",
        "blocked",
    ),
    "skeleton": (b"<!DOCTYPE html><html><head></head><body></body></html>", "process"),
    "script_only": (
        b"<html><head><title>News</title><script src='/static/app.js' defer></script>"
        b"<script>window.__STATE__={\"page\":\"article\",\"id\":42};</script></head>"
        b"<body><div id='root'></div><script>boot(document.getElementById('root'))</script>"
        b"</body></html>",
        "process",
    ),
}
REFUSED_BY_CRAWL = {name for name, (_, by) in NOT_ARTICLES.items() if by != "process"}


def refused(how: str) -> int:
    return sum(by == how for _, by in NOT_ARTICLES.values())


def mixed_feed(base: str, entries: list[tuple[str, str, str]]) -> bytes:
    """An RSS feed declared UTF-8 whose entries' titles are each encoded as given: one in
    latin-1 makes the document's bytes mixed (legacy text pasted into a UTF-8 CMS)."""
    items = b"".join(
        f"<item><title>{escape(title)}</title><link>{escape(url)}</link></item>".encode(codec)
        for url, title, codec in entries
    )
    return (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        + f"<title>mixed</title><link>{base}/</link>".encode()
        + items
        + b"</channel></rss>"
    )


@pytest.fixture(scope="module")
def job(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with serve_demo_site(DemoSite(seed=7, n_articles=60)) as site:
        base = site.bases[PUB]
        urls = {}
        for name, (body, content_type, _, _) in ENCODINGS.items():
            site.faults.set(PUB, f"/enc/{name}/", Fault("content", content_type=content_type,
                                                         body=body))  # fmt: skip
            urls[name] = f"{base}/enc/{name}/"
        for name, (body, _) in NOT_ARTICLES.items():
            site.faults.set(PUB, f"/junk/{name}/", Fault("content", body=body))
            urls[name] = f"{base}/junk/{name}/"
        # Every entry's title is its page's; the latin-1 page's entry is in latin-1 bytes.
        titles = {name: ENCODINGS[name][2] for name in ENCODINGS} | {n: n for n in NOT_ARTICLES}
        entries = [
            (urls[n], titles[n], "latin-1" if n == "latin1_undeclared" else "utf-8")
            for n in urls
        ]
        site.faults.set(PUB, "/mixed/feed.xml", Fault(
            "content", content_type="application/rss+xml", body=mixed_feed(base, entries)
        ))  # fmt: skip
        folder = tmp_path_factory.mktemp("pages")
        sources = sources_for(site, Path(folder) / "sources.yaml", [f"{base}/mixed/feed.xml"])
        result = newsdesk(
            "run", "--source", PUB, "--sources", str(sources), "--no-delay", "--run-key", "pages",
            env={"NEWSDESK_DATABASE_URL": module_db},
        )  # fmt: skip
        with psycopg.connect(module_db) as conn:
            raw = {
                row[0]: row[1:]
                for row in conn.execute(
                    "SELECT url, html_gz, content_sha256, discovery ->> 'title', processed_at,"
                    " process_error FROM raw_pages"
                )
            }
            articles = {
                row[0]: row[1:] for row in conn.execute("SELECT url, title, body FROM articles")
            }
            run = conn.execute(
                "SELECT status, pages_fetched, pages_failed, (stats ->> 'blocked')::int, errors"
                " FROM crawl_runs"
                " WHERE run_key = 'pages'"
            ).fetchone()
        yield {"result": result, "urls": urls, "raw": raw, "articles": articles, "run": run,
               "titles": titles}  # fmt: skip


def test_the_run_succeeds_with_the_junk_counted(job: dict) -> None:
    assert job["result"].returncode == 0, job["result"].stderr
    status, fetched, failed, blocked, errors = job["run"]
    assert status == "success"
    assert fetched == len(ENCODINGS) + refused("process")
    assert (failed, blocked, errors) == (refused("crawl"), refused("blocked"), refused("process"))
    assert not [u for u, (_, _, _, processed, _) in job["raw"].items() if processed is None]


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_pages_in_odd_encodings_are_stored_byte_for_byte(job: dict, name: str) -> None:
    html_gz, sha, *_ = job["raw"][job["urls"][name]]
    body = gzip.decompress(html_gz)
    assert body == ENCODINGS[name][0]
    assert hashlib.sha256(body).digest() == sha


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_pages_in_odd_encodings_give_the_right_text(job: dict, name: str) -> None:
    _, _, title, sentence = ENCODINGS[name]
    stored_title, body = job["articles"][job["urls"][name]]
    assert stored_title == title
    assert sentence in body and "\ufffd" not in body


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_a_feed_mixing_encodings_keeps_every_entry_title_right(job: dict, name: str) -> None:
    assert job["raw"][job["urls"][name]][2] == job["titles"][name]


@pytest.mark.parametrize("name", sorted(REFUSED_BY_CRAWL))
def test_an_empty_or_javascript_wall_page_is_refused_by_the_crawl(job: dict, name: str) -> None:
    assert job["urls"][name] not in job["raw"]
    assert job["urls"][name] not in job["articles"]


@pytest.mark.parametrize("name", sorted(set(NOT_ARTICLES) - REFUSED_BY_CRAWL))
def test_a_script_only_or_skeleton_page_is_processed_into_no_article(
    job: dict, name: str
) -> None:
    _, _, _, processed_at, error = job["raw"][job["urls"][name]]
    assert processed_at is not None  # done with, not pending for the next run
    assert error and "article text" in error  # why it is not an article
    assert job["urls"][name] not in job["articles"]
