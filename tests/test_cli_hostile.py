"""Every `newsdesk` subcommand, given hostile arguments, answers with one line and a non-zero
exit, never a traceback (issue 19).

The subcommands are read from the argparse parser itself: a new one missing from HOSTILE fails
`test_every_subcommand_has_hostile_cases`. The cases run in this process against a real, migrated
Postgres; commands that would crawl, serve or start Airflow get arguments that fail validation
before anything starts (a case that started one would hang or fail the exit-status check).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.cli import crawl
from pipeline.cli import main as cli_main
from pipeline.cli.main import build_parser, main
from tests.cli import newsdesk

# Placeholders, made real paths per test by _expand: a folder, a path under a plain file, and a
# name with a newline and a terminal escape in it.
DIR, UNDER_FILE, CONTROL = "<dir>", "<file>/x", "<dir>/a\nb\x1b[31m"
NOWHERE, PROC = "/nonexistent/newsdesk/x", "/proc/self/newsdesk"
PATHS = [DIR, UNDER_FILE, CONTROL, NOWHERE, PROC]
OUT_PATHS = [DIR, UNDER_FILE, PROC]  # an output's missing folders are made, any name is fine
URLS = ["http://[::1", "javascript:alert(1)", "http://" + "a" * 100_000 + ".example/",
        "http://example.com:99999/", "http://exa\nmple.com/"]
DATES = ["2026-13-45", "0000-00-00", "yesterday", "2026-01-01T25:00"]
NUMBERS = ["-1", "2147483648", "1e309", "NaN", "x"]
COUNTS = ["0", *NUMBERS]  # where 0 is as wrong as -1 (a crawl's --limit 0 is not: discovery only)
NAMES = ["../x", "a;drop", "a\nb\x1b[31m", "pg_read_all_data"]


def _each(option: str, values: list[str], *rest: str) -> list[list[str]]:
    return [[option, value, *rest] for value in values]


#: Leaf command (as typed) -> argument lists that are each bad input.
HOSTILE: dict[tuple[str, ...], list[list[str]]] = {
    ("run",): [*_each("--limit", NUMBERS), *_each("--workers", COUNTS),
               *_each("--sources", PATHS), *_each("--source", NAMES)],
    ("crawl",): [*_each("--limit", NUMBERS), *_each("--sources", PATHS),
                 *_each("--source", NAMES)],
    ("process",): [*_each("--workers", COUNTS), *_each("--sources", PATHS),
                   *_each("--source", NAMES)],
    ("reprocess",): [*_each("--since", DATES), *_each("--workers", COUNTS),
                     *_each("--sources", PATHS), *_each("--source", NAMES)],
    ("dedupe",): _each("--batch-size", COUNTS),
    ("extract",): [*([path, "--url", "http://example.com/a"] for path in PATHS),
                   *(["<page>", "--url", url] for url in URLS),
                   *_each("--workers", COUNTS), *_each("--source", NAMES)],
    ("sources", "list"): _each("--sources", PATHS),
    ("sources", "validate"): _each("--sources", PATHS),
    ("sources", "check"): [*([name] for name in NAMES), *(["bbc", "--articles", n] for n in COUNTS),
                           *(["bbc", "--sources", path] for path in PATHS)],
    ("sources", "discover"): [*([url] for url in URLS),
                              *(["http://example.com/", "--delay", n] for n in NUMBERS)],
    ("sources", "boilerplate"): [[name] for name in ["", *NAMES]],
    ("pages", "merged"): _each("--source", NAMES),
    ("search",): [[""], *_each("--limit", COUNTS, "x"), *_each("--since", DATES, "x"),
                  *_each("--source", NAMES, "x")],
    ("export",): [*_each("--out", OUT_PATHS), *_each("--since", DATES, "--out", "<dir>/a.jsonl"),
                  *_each("--source", NAMES, "--out", "<dir>/a.jsonl"),
                  ["--format", "xlsx", "--out", "<dir>/a.xlsx"]],
    ("export-warc",): [*_each("--out", OUT_PATHS),
                       *_each("--since", DATES, "--out", "<dir>/a.warc.gz"),
                       *_each("--source", NAMES, "--out", "<dir>/a.warc.gz")],
    ("import-warc",): [*([path] for path in PATHS), *_each("--workers", COUNTS, "<page>"),
                       *_each("--source", NAMES, "<page>")],
    ("report",): [*_each("--date", DATES), *_each("--out", OUT_PATHS)],
    ("db", "migrate"): [["extra"]],
    ("db", "status"): [["extra"]],
    ("db", "url"): [["extra"]],
    ("db", "stop"): [["extra"]],
    ("db", "grant-analyst"): [[""], ["pg_read_all_data"],
                              ["reader", "--password-env", "NEWSDESK_UNSET_VARIABLE"]],
    ("db", "schema-doc"): _each("--out", OUT_PATHS),
    ("db", "backup"): [[path] for path in OUT_PATHS],
    ("db", "restore"): [*([path] for path in PATHS), ["<page>"], ["<page>", "--replace"]],
    ("takedown",): [[], *([url] for url in URLS), *_each("--source", NAMES),
                    *_each("--sources", PATHS, "--source", "bbc")],
    ("demo",): [*_each("--articles", COUNTS), *_each("--port", ["-1", "65536", "1e309"]),
                *_each("--seed", NUMBERS), *_each("--workers", COUNTS),
                *_each("--corpus", PATHS)],
    ("demo-site", "serve"): [*_each("--articles", COUNTS), *_each("--port", ["-1", "65536"]),
                             *_each("--seed", NUMBERS), *_each("--anchor", DATES)],
    ("airflow",): [*_each("--port", ["0", "65536", "NaN"]), *_each("--articles", COUNTS),
                   *_each("--crawl-slots", COUNTS), *_each("--sources", PATHS)],
    ("airflow", "worker"): [*_each("--concurrency", COUNTS),
                            *_each("--log-port", ["0", "65536", "NaN"]),
                            *_each("--sources", PATHS), *_each("--api-server", URLS),
                            ["--queues", " , "]],
}


def _leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every runnable command path, e.g. ("sources", "check"), as the parser defines them; one
    with subcommands runs too when it has a handler of its own (`airflow`, `airflow worker`)."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers or (path and parser.get_default("handler")):
        yield path
    if not subparsers:
        return
    for name, child in subparsers[0].choices.items():
        yield from _leaf_commands(child, (*path, name))


def test_every_subcommand_has_hostile_cases() -> None:
    assert set(_leaf_commands(build_parser())) == set(HOSTILE)


def _expand(arg: str, tmp: Path) -> str:
    """A placeholder made a real path: <dir> a folder, <file> a plain file, <page> an HTML page
    (a valid input, for cases whose other argument is the hostile one)."""
    return arg.replace("<dir>", str(tmp / "folder")).replace(
        "<file>", str(tmp / "plain.txt")).replace("<page>", str(tmp / "page.html"))


def _run(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, str]:
    """(exit status, stderr) of one command in this process; argparse's usage errors included."""
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    return status, capsys.readouterr().err


@pytest.fixture
def hostile_env(module_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's folder with its placeholders' targets, and the module's migrated database."""
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", module_db)
    monkeypatch.delenv("NEWSDESK_UNSET_VARIABLE", raising=False)
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain.txt").write_text("plain\n")
    (tmp_path / "page.html").write_text("<html><body><p>A page.</p></body></html>")
    return tmp_path


CASES = [(command, args) for command, cases in HOSTILE.items() for args in cases]


@pytest.mark.parametrize(("command", "args"), CASES,
                         ids=[" ".join([*c, *a])[:60] for c, a in CASES])
def test_hostile_arguments_get_one_line(hostile_env: Path, capsys, command, args) -> None:
    status, err = _run(capsys, [*command, *(_expand(a, hostile_env) for a in args)])
    assert "Traceback" not in err, err
    assert "unexpected" not in err, err  # each case is refused by its own check, not the catch-all
    assert status not in (0, None), err
    assert sum("error:" in line for line in err.splitlines()) <= 1, err
    assert "error:" in err, err


def _raise_unexpected(args: argparse.Namespace) -> int:
    raise ValueError("Invalid IPv6 URL\nsecond line")


@pytest.mark.parametrize("debug", ["", "flag", "env"])
def test_an_unexpected_error_is_one_line_and_debug_shows_its_traceback(
        capsys, monkeypatch: pytest.MonkeyPatch, debug: str) -> None:
    monkeypatch.setattr(cli_main.db, "_status", _raise_unexpected)
    monkeypatch.setenv("NEWSDESK_DEBUG", "1" if debug == "env" else "0")
    status, err = _run(capsys, [*(["--debug"] if debug == "flag" else []), "db", "status"])
    line = "newsdesk db: error: unexpected ValueError: Invalid IPv6 URL"
    hint = " (--debug or NEWSDESK_DEBUG=1 shows where)"
    assert status == 1
    if debug:
        assert err.startswith("Traceback") and err.endswith(f"\n{line}\n")
    else:
        assert err == f"{line}{hint}\n"


def test_a_keyboard_interrupt_is_still_130(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main.db, "_status", interrupted)
    assert _run(capsys, ["db", "status"]) == (130, "newsdesk db: interrupted\n")


def test_a_control_character_in_an_error_stays_on_its_line(hostile_env: Path, capsys) -> None:
    status, err = _run(capsys, ["extract", "a\nb\x1b[31m.html", "--url", "http://example.com/"])
    assert status == 1
    assert err == "newsdesk extract: error: a\\nb\\x1b[31m.html: file not found\n"


def test_a_url_argument_is_checked_before_use(hostile_env: Path, capsys) -> None:
    page = str(hostile_env / "page.html")
    status, err = _run(capsys, ["extract", page, "--url", "http://[::1"])
    assert status == 2 and err.splitlines()[-1] == (
        "newsdesk extract: error: argument --url: Invalid IPv6 URL: 'http://[::1'")


def test_a_count_past_postgres_integers_is_a_usage_error(hostile_env: Path, capsys) -> None:
    status, err = _run(capsys, ["search", "x", "--limit", "2147483648"])
    assert status == 2 and err.splitlines()[-1] == (
        "newsdesk search: error: argument --limit: must be at most 2147483647 (got 2147483648)")


def test_an_unknown_source_to_check_is_one_line(hostile_env: Path, capsys) -> None:
    status, err = _run(capsys, ["sources", "check", "nosuch"])
    assert status == 1 and len(err.splitlines()) == 1
    assert err.startswith("newsdesk sources: error: unknown source 'nosuch'")


def test_piped_tables_are_not_wrapped(module_db: str, tmp_path: Path) -> None:
    """A subprocess, stdout a pipe as in `newsdesk sources list | grep`: a row is one line."""
    homepage = "https://news.example/" + "section/" * 20
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  - name: wide\n    homepage: {homepage}\n"
                       f"    feeds: [{homepage}feed.xml]\n")
    result = newsdesk("sources", "list", "--sources", str(sources),
                      env={"NEWSDESK_DATABASE_URL": module_db, "COLUMNS": ""})
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 1 and rows[0].split("│")[1].strip() == "wide", result.stdout



def test_a_crawl_that_does_not_start_is_the_crawlers_one_line(
        hostile_env: Path, capfd, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the CLI's own checks (bypassed here), the crawler refuses to start and prints its
    line; `newsdesk crawl` adds no "see the message above" to it."""
    monkeypatch.setattr(crawl, "selected_sources", lambda args: [SimpleNamespace(name="nosuch")])
    capfd.readouterr()
    assert main(["crawl"]) == 1
    err = capfd.readouterr().err
    assert err.startswith("python -m crawlers: error: unknown source 'nosuch'")
    assert len(err.splitlines()) == 1, err
