"""Sources YAML validation: every error names the file, the source and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.sources.config import (
    SourcesError,
    default_sources_path,
    get_sources,
    load_sources,
    peek_queues,
)

GOOD = """\
sources:
  - name: example
    homepage: https://example.com/
    feeds: [https://example.com/feed/]
    listings:
      - url: https://example.com/world/
        article_pattern: '/\\d{4}/'
"""


def write(tmp_path: Path, text: str, name: str = "sources.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_valid_file_loads_with_defaults(tmp_path):
    (source,) = load_sources(write(tmp_path, GOOD))
    assert source.name == "example"
    assert source.active and not source.allow_private_addresses
    assert source.listings[0].max_pages == 5
    assert source.domains == ["example.com"]


def test_packaged_default_sources_are_valid(monkeypatch):
    monkeypatch.delenv("NEWSDESK_SOURCES", raising=False)
    sources = load_sources(default_sources_path())
    assert len(sources) >= 12
    assert all(s.feeds or s.sitemaps for s in sources)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "name: ex\n    homepage: https://e.com/\n    feeds: [https://e.com/a, nope]",
            "source 'ex': feeds[1]: not an http(s) URL",
        ),
        (
            "name: ex\n    homepage: https://e.com/\n    sitemap: [https://e.com/s.xml]",
            "source 'ex': unknown key 'sitemap', did you mean 'sitemaps'?",
        ),
        ("homepage: https://e.com/", "sources[0]: name: required field is missing"),
        ("name: Bad Name\n    homepage: https://e.com/", "source 'Bad Name': name:"),
        (
            "name: ex\n    homepage: https://e.com/\n    timezone: Mars/Olympus",
            "source 'ex': timezone: unknown IANA time zone 'Mars/Olympus'",
        ),
        (
            "name: ex\n    homepage: https://e.com/\n    listings: [{url: 'https://e.com/', "
            "article_pattern: '(['}]",
            "source 'ex': listings[0].article_pattern: not a valid regular expression",
        ),
        (
            "name: ex\n    homepage: https://e.com/\n    politeness: {delay: -1}",
            "source 'ex': politeness.delay:",
        ),
    ],
)
def test_invalid_entries_name_file_source_and_field(tmp_path, entry, expected):
    path = write(tmp_path, f"sources:\n  - {entry}\n")
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert expected in message
    assert "\n" not in message


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "sources:\n  - name: ex\n    feeds: [unclosed\n")
    with pytest.raises(SourcesError, match=rf"^{path}: line \d+: not valid YAML"):
        load_sources(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourcesError, match="sources file not found"):
        load_sources(tmp_path / "absent.yaml")


def test_folder_of_files_and_duplicate_names(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD.replace("example", "other"), "b.yml")
    assert [s.name for s in load_sources(tmp_path)] == ["example", "other"]
    write(tmp_path, GOOD, "c.yaml")
    with pytest.raises(SourcesError, match=r"c\.yaml: source 'example': name already used in"):
        load_sources(tmp_path)


def test_queues_are_peeked_without_validating_and_invalid_ones_left_out(tmp_path):
    path = write(tmp_path, "sources:\n  - {name: a, homepage: x, queue: eu}\n  - {name: b}\n"
                 "  - {name: c, queue: 'E U'}\n  - {name: Bad}\n  - just text\n")
    assert peek_queues(path) == {"a": "eu", "b": None}  # the file would not validate
    queued = GOOD.replace("    feeds:", "    queue: eu-west_1\n    feeds:")
    (source,) = load_sources(write(tmp_path, queued))
    assert source.queue == "eu-west_1"


def test_unknown_source_suggests_the_closest(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(SourcesError, match="unknown source 'exampel'; did you mean 'example'"):
        get_sources(["exampel"], path)


ENTRY = "name: ex\n    homepage: https://e.com/\n    "


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            "allowed_domains: ['https://cdn.e.com/x']",
            "source 'ex': allowed_domains[0]: not a host name ('https://cdn.e.com/x'); "
            "write the host alone, e.g. 'cdn.e.com'",
        ),
        (
            "allowed_domains: ['bad host']",
            "source 'ex': allowed_domains[0]: not a host name ('bad host')",
        ),
        (
            "include: ['(']",
            "source 'ex': include[0]: not a valid regular expression "
            "(missing ), unterminated subpattern at position 0)",
        ),
        (
            "exclude: ['/video/', '[']",
            "source 'ex': exclude[1]: not a valid regular expression "
            "(unterminated character set at position 0)",
        ),
        (
            "limits: {max_pages_per_run: 0}",
            "source 'ex': limits.max_pages_per_run: Input should be greater than or equal to 1",
        ),
        (
            "limits: {max_age_days: 0}",
            "source 'ex': limits.max_age_days: Input should be greater than 0",
        ),
        (
            "limits: {max_age: 3}",
            "source 'ex': limits: unknown key 'max_age', did you mean 'max_age_days'?",
        ),
        (
            "limit: {max_pages_per_run: 3}",
            "source 'ex': unknown key 'limit', did you mean 'limits'?",
        ),
        (
            "politeness: {contact: 'ops@e.com'}",
            "source 'ex': politeness.contact: not an http(s) URL or mailto: address",
        ),
        (
            "politeness: {delai: 2}",
            "source 'ex': politeness: unknown key 'delai', did you mean 'delay'?",
        ),
        (
            "listings: [{url: 'https://e.com/', next_selector: 'a[rel=next'}]",
            "source 'ex': listings[0].next_selector: not a valid CSS selector "
            "(Expected ']', got <EOF at 10>)",
        ),
        (
            "listings: [{url: 'https://e.com/', max_page: 3}]",
            "source 'ex': listings[0]: unknown key 'max_page', did you mean 'max_pages'?",
        ),
        (
            "queue: EU",
            "source 'ex': queue: String should match pattern '^[a-z0-9][a-z0-9_-]{0,62}$'",
        ),
        (
            "listings: [{url: 'https://e.com/', max_pages: 0}]",
            "source 'ex': listings[0].max_pages: Input should be greater than or equal to 1",
        ),
    ],
)
def test_new_fields_errors_are_exact(tmp_path, field, expected):
    path = write(tmp_path, f"sources:\n  - {ENTRY}{field}\n")
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_new_fields_defaults_and_helpers(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        f"sources:\n  - {ENTRY}allowed_domains: [CDN.Example.org]\n"
        "    include: ['/news/']\n    exclude: ['/news/video/']\n"
        "    limits: {max_pages_per_run: 50, max_age_days: 2.5}\n",
    )
    (source,) = load_sources(path)
    assert source.domains == ["cdn.example.org", "e.com"]
    assert source.limits.max_pages_per_run == 50 and source.limits.max_age_days == 2.5
    assert source.wants("https://e.com/news/a") and not source.wants("https://e.com/news/video/a")
    assert not source.wants("https://e.com/sport/a")
    monkeypatch.delenv("NEWSDESK_CONTACT_URL", raising=False)
    assert source.contact == "https://github.com/newsdesk/newsdesk"
    monkeypatch.setenv("NEWSDESK_CONTACT_URL", "mailto:ops@example.org")
    assert source.contact == "mailto:ops@example.org"
    (default,) = load_sources(write(tmp_path, GOOD))
    assert default.limits.max_age_days is None and default.wants("https://example.com/x")
