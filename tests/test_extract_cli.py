"""`newsdesk extract`: one file in, one JSON object out; JSON Lines in, JSON Lines out, in order."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from pipeline.cli import extract as extract_command

PARAGRAPHS = [
    f"Paragraph {n} of the story: the regional council met again on Tuesday to discuss the "
    "new transport plan, and members from every party asked detailed questions about its cost."
    for n in range(1, 5)
]


def article_html(title: str) -> str:
    meta = ('<meta property="article:published_time" content="2026-03-17T09:15:00Z">'
            f'<meta property="og:title" content="{title}">')
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f'<html lang="en"><head><title>{title}</title>{meta}</head>'
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def newsdesk(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "extract", *args], input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_single_file_html_and_gz(tmp_path: Path) -> None:
    plain = tmp_path / "page.html"
    plain.write_text(article_html("Council meets again"), encoding="utf-8")
    zipped = tmp_path / "page.html.gz"
    zipped.write_bytes(gzip.compress(article_html("Council meets again").encode()))
    for path in (plain, zipped):
        result = newsdesk(str(path), "--url", "https://example.com/a?utm_source=x")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["title"] == "Council meets again"
        assert data["canonical_url"] == "https://example.com/a"
        assert data["published_at"] == "2026-03-17T09:15:00+00:00"
        assert data["body"].splitlines() == PARAGRAPHS
        assert "extras" not in data


def test_single_missing_file_is_one_line_error(tmp_path: Path) -> None:
    result = newsdesk(str(tmp_path / "nope.html"), "--url", "https://example.com/a")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.html" in lines[0] and "Traceback" not in result.stderr


def test_single_not_an_article_is_one_line_error(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text("<html><body><script>app()</script></body></html>")
    result = newsdesk(str(page), "--url", "https://example.com/x")
    assert result.returncode == 1
    assert "https://example.com/x" in result.stderr and "Traceback" not in result.stderr


def test_batch_from_stdin_keeps_order_ids_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.html.gz"
    good.write_bytes(gzip.compress(article_html("From a file").encode()))
    lines = [
        json.dumps({"id": "a", "url": "https://example.com/a", "html_path": str(good)}),
        json.dumps({"id": 2, "url": "https://example.com/b", "html": article_html("Inline")}),
        "{not json",
        json.dumps({"id": "gone", "url": "https://example.com/c",
                    "html_path": str(tmp_path / "missing.html")}),
        json.dumps({"id": "stub", "url": "https://example.com/d",
                    "html": "<html><body><p>Too short.</p></body></html>"}),
        json.dumps({"id": "nourl", "html": article_html("x")}),
    ]
    result = newsdesk(stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 2, None, "gone", "stub", "nourl"]
    assert out[0]["title"] == "From a file" and "error" not in out[0]
    assert out[1]["title"] == "Inline"
    assert "line 3" in out[2]["error"] and "JSON" in out[2]["error"]
    assert "missing.html" in out[3]["error"]
    assert "too short" in out[4]["error"]
    assert "url" in out[5]["error"]


def test_batch_in_parallel_preserves_order(tmp_path: Path) -> None:
    """Enough lines to use worker processes; the output must still follow the input."""
    n = extract_command.SERIAL_BELOW * 3
    lines = []
    for i in range(n):
        html = article_html(f"Story number {i}") if i % 7 else "<html><body></body></html>"
        lines.append(json.dumps({"id": i, "url": f"https://example.com/{i}", "html": html}))
    out = list(extract_command.extract_lines(iter(lines), None, workers=2))
    assert [o["id"] for o in out] == list(range(n))
    for i, o in enumerate(out):
        if i % 7:
            assert o["title"] == f"Story number {i}"
        else:
            assert "error" in o
