"""Per-source selector overrides in the sources YAML: validation and their effect on extraction."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extraction.extract import extract_article
from pipeline.sources.config import Source, SourcesError, load_sources
from pipeline.sources.overrides import ExtractionOverrides
from tests.test_extract import FETCHED, PARAGRAPHS, page

BASE = "sources:\n  - name: ex\n    homepage: https://ex.com/\n    feeds: [https://ex.com/feed]\n"


def load(tmp_path: Path, extraction: str) -> Source:
    path = tmp_path / "sources.yaml"
    path.write_text(BASE + "    extraction:\n" + extraction)
    (source,) = load_sources(path)
    return source


def test_yaml_overrides_load(tmp_path: Path) -> None:
    source = load(tmp_path, "      title: h2.kicker-title\n      date: //span[@class='when']\n"
                            "      drop: ['.newsletter', 'aside']\n")
    assert source.extraction.title == "h2.kicker-title"
    assert source.extraction.drop == [".newsletter", "aside"]
    assert Source(name="x", homepage="https://x.com/").extraction.empty


@pytest.mark.parametrize(
    ("extraction", "message"),
    [
        ("      title: 'h1[['\n", "source 'ex': extraction.title: not a valid CSS selector"),
        ("      date: '//span[@class='\n", "source 'ex': extraction.date: not a valid XPath"),
        ("      drop: ['.ok', 'div >> p']\n",
         "source 'ex': extraction.drop[1]: not a valid CSS selector"),
        ("      titel: h1\n",
         "source 'ex': extraction: unknown key 'titel', did you mean 'title'?"),
    ],
)
def test_bad_selectors_name_file_source_and_field(tmp_path: Path, extraction: str,
                                                  message: str) -> None:
    with pytest.raises(SourcesError) as raised:
        load(tmp_path, extraction)
    assert str(raised.value).startswith(f"{tmp_path / 'sources.yaml'}: {message}")


def source_with(**rules) -> Source:
    return Source(name="ex", homepage="https://ex.com/", extraction=ExtractionOverrides(**rules))


TEMPLATE_PAGE = page(
    head='<meta property="og:title" content="Generic site title">'
         '<meta name="author" content="Ex Newsroom Bot">',
    body_top='<h2 class="real-title">Council approves the transport budget</h2>'
             '<p class="dateline">Filed: 17 March 2026, 09:15</p>'
             '<span class="who">Jane Doe</span><span class="who">John Smith</span>'
             '<div class="newsletter"><p>Sign up to the Ex morning newsletter for a summary of '
             'the day, every day, straight into your inbox, free of charge for readers.</p></div>',
)


def test_overrides_win_over_the_generic_path() -> None:
    source = source_with(title="h2.real-title", date=".dateline", author="span.who",
                         drop=[".newsletter"])
    art = extract_article(TEMPLATE_PAGE, "https://ex.com/a", source=source, fetched_at=FETCHED)
    assert art.title == "Council approves the transport budget"
    assert art.published_at.date().isoformat() == "2026-03-17"
    assert art.date_source == "override"
    assert art.authors == ["Jane Doe", "John Smith"]
    assert "newsletter" not in art.body


def test_body_selector_and_xpath() -> None:
    html = page(body_top='<div id="story"><p>' + "</p><p>".join(PARAGRAPHS[:2]) + "</p></div>",
                paragraphs=PARAGRAPHS[2:])
    source = source_with(body="//div[@id='story']")
    art = extract_article(html, "https://ex.com/a", source=source, fetched_at=FETCHED)
    assert art.body.splitlines() == PARAGRAPHS[:2]


def test_selector_matching_nothing_falls_back() -> None:
    source = source_with(title="h5.nope", date=".nope", author=".nope", body=".nope")
    art = extract_article(TEMPLATE_PAGE, "https://ex.com/a", source=source, fetched_at=FETCHED)
    plain = extract_article(TEMPLATE_PAGE, "https://ex.com/a", fetched_at=FETCHED)
    assert (art.title, art.authors, art.body) == (plain.title, plain.authors, plain.body)
