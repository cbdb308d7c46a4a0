"""The gate on trafilatura's second opinions: skipped only where they cannot change the body
(the fast path gives the full mode's text), run where readability wins, recorded on the
article; the seam it wraps is checked, and trafilatura outside the gate runs as shipped."""

from __future__ import annotations

import inspect

import pytest
import trafilatura
import trafilatura.core as trafilatura_core
from trafilatura.baseline import html2txt as shipped_html2txt
from trafilatura.external import compare_extraction

from bench.corpus_scoring import DEFAULT_CORPUS
from pipeline.demo_site.replay_pages import read_corpus
from pipeline.extraction import trafilatura_gate as gate
from pipeline.extraction.extract import extract_article
from tests.test_extract import PARAGRAPHS, page

URL = "https://example.com/news/council-budget"
OPTIONS = {"url": URL, "with_metadata": False, "include_comments": False, "include_tables": True}

# The publisher's container holds a teaser; the story sits in a sibling: trafilatura's own rules
# take the teaser, readability the story (more than twice as long), so the full mode's body is
# readability's.
TEASER_BESIDE_STORY = (
    '<html><body><div class="post-content"><p>' + PARAGRAPHS[0][:120] + "</p></div>"
    '<div class="entry">' + "".join(f"<p>{p}</p>" for p in PARAGRAPHS * 3) + "</div></body></html>"
)


def full_mode(html: str) -> str:
    """trafilatura's full mode as shipped (no gate: called outside `recording`)."""
    return trafilatura.bare_extraction(html, **OPTIONS).text


def gated(html: str) -> tuple[str, list[str]]:
    with gate.recording() as paths:
        text = trafilatura.bare_extraction(html, **OPTIONS).text
    return text, paths


def test_a_body_the_fallback_cannot_beat_takes_the_fast_path_with_the_full_modes_text():
    html = page()
    text, paths = gated(html)
    assert paths == [gate.FAST]
    assert text == full_mode(html)
    assert extract_article(html, URL).extras["body_path"] == gate.FAST


def test_where_readability_wins_the_second_opinion_runs_and_gives_the_full_modes_text():
    fast_only = trafilatura.bare_extraction(TEASER_BESIDE_STORY, fast=True, **OPTIONS).text
    full = full_mode(TEASER_BESIDE_STORY)
    assert len(full) > 2 * len(fast_only)  # readability's body won in the full mode
    text, paths = gated(TEASER_BESIDE_STORY)
    assert paths == [gate.SECOND_OPINION]
    assert text == full
    article = extract_article(TEASER_BESIDE_STORY, URL)
    assert article.extras["body_path"] == gate.SECOND_OPINION
    assert PARAGRAPHS[3] in article.body


def test_the_seam_is_trafilaturas_comparison_and_is_wrapped():
    # Fails when a trafilatura upgrade renames, re-signs or stops calling the comparison:
    # the gate would then silently never skip (safe, but the saving gone).
    assert gate.INSTALLED, "trafilatura is not the release the gate's rules were read against"
    assert trafilatura_core.compare_extraction.wrapped is compare_extraction
    assert gate.seam_matches(compare_extraction)
    assert gate.SEAM in trafilatura_core._extract_and_compare.__code__.co_names


def test_a_missing_or_changed_seam_leaves_trafilatura_as_shipped(monkeypatch):
    monkeypatch.delattr(trafilatura_core, gate.SEAM)
    assert not gate.install()
    monkeypatch.setattr(trafilatura_core, gate.SEAM, lambda tree, body, text, options: None,
                        raising=False)
    assert not gate.install()
    assert gate.body_path([]) == gate.SECOND_OPINION  # nothing skipped: the full mode ran


def test_outside_the_gate_the_comparison_always_runs():
    calls = []

    def comparison(*args):
        calls.append(args)
        return "compared", ""

    wrapped = gate._wrap(comparison)
    assert wrapped(None, None, None, "text", None) == ("compared", "")
    assert len(calls) == 1


def test_a_page_mostly_outside_the_body_gets_the_second_opinion():
    # The same article under a long list of links: its body is less than half the page's text,
    # so readability could find more; the gate cannot rule it out.
    links = "".join(f'<p><a href="/{i}">Another story number {i} worth reading</a></p>'
                    for i in range(120))
    html = page().replace("<footer>", f'<div class="more">{links}</div><footer>')
    text, paths = gated(html)
    assert paths[0] == gate.SECOND_OPINION
    assert text == full_mode(html)


def test_embedded_videos_count_in_the_bound_on_readabilitys_text():
    # readability writes "VIDEO" into each embedded video's iframe, text the page does not hold:
    # with the story repeated in a hidden sibling and five videos, readability's text passes
    # twice trafilatura's own only by those words. A bound without them took the fast path and
    # gave half the full mode's body (found by review).
    videos = "".join(f'<iframe src="https://youtube.com/embed/v{i}"></iframe>' for i in range(5))
    story = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = (f"<html><body><article>{story}{videos}</article>"
            f'<div class="hidden">{story}</div></body></html>')
    text, _ = gated(html)
    assert text == full_mode(html)


def test_the_gate_is_off_on_a_trafilatura_release_it_was_not_read_against(monkeypatch):
    monkeypatch.setattr(trafilatura_core, gate.SEAM, compare_extraction)  # unwrapped
    monkeypatch.setattr(gate, "TESTED_TRAFILATURA", "0.0.0")
    assert not gate.install()
    assert trafilatura_core.compare_extraction is compare_extraction


def test_on_real_pages_the_gated_body_is_the_full_modes():
    # The exactness claim on saved real pages (an even sample of the dev corpus): every page,
    # whichever path it takes, gets the full mode's text to the character.
    if not DEFAULT_CORPUS.is_dir():
        pytest.skip(f"no development corpus at {DEFAULT_CORPUS} (../shared/corpus)")
    pages = read_corpus(DEFAULT_CORPUS).pages[::25]
    paths_seen = set()
    for saved in pages:
        options = {**OPTIONS, "url": saved.url}
        full = trafilatura.bare_extraction(saved.html, **options)
        with gate.recording() as paths:
            ours = trafilatura.bare_extraction(saved.html, **options)
        paths_seen.update(paths)
        assert (ours.text if ours else None) == (full.text if full else None), saved.url
    assert paths_seen == {gate.FAST, gate.SECOND_OPINION}  # both paths were exercised


def test_the_escalation_measure_is_skipped_only_where_it_cannot_matter(monkeypatch):
    # trafilatura measures the whole page (html2txt) to decide on its recall escalation for a
    # body under 3,000 characters; on the fast path the gate's bounds show the body is more
    # than a fifth of the page, so that measure is not taken, and the text is the same.
    original, measured = trafilatura_core.html2txt.wrapped, []

    def html2txt(content, clean=True):
        measured.append(content)
        return original(content, clean)

    monkeypatch.setattr(trafilatura_core, "html2txt", gate._wrap_page_measure(html2txt))
    short = page()
    assert 0 < len(full_mode(short)) < 3000  # the escalation check runs for this body
    measured.clear()
    text, paths = gated(short)
    assert paths == [gate.FAST] and measured == [] and text == full_mode(short)
    # Where the second opinions ran, the measure is taken as trafilatura takes it.
    links = "".join(f'<p><a href="/{i}">Another story number {i} worth reading</a></p>'
                    for i in range(120))
    busy = page().replace("<footer>", f'<div class="more">{links}</div><footer>')
    expected = full_mode(busy)
    measured.clear()
    text, paths = gated(busy)
    assert paths[0] == gate.SECOND_OPINION and len(measured) == 1 and text == expected


def test_the_escalation_measure_is_called_once_and_only_in_that_comparison():
    # The gate answers html2txt's call with "" where the comparison cannot hold: that is only
    # sound while trafilatura.core calls it once, in this expression.
    calls = [line.strip() for line in inspect.getsource(trafilatura_core).splitlines()
             if "html2txt(" in line and not line.strip().startswith("#")]
    assert calls == ["and len(temp_text) < ESCALATION_PAGE_SHARE * len(html2txt(tree))"]
    assert trafilatura_core.html2txt.wrapped is shipped_html2txt


def test_text_the_parser_keeps_raw_gives_no_bound_so_the_second_opinion_runs():
    # readability's output goes through XML and back into the HTML parser, which keeps an
    # <xmp>'s text raw: each & of a code sample comes back as "&amp;", so readability's text
    # outgrows the page's and a bound from the page's text does not hold (found by review).
    sample = ('<table width="100%"><tr><td align="center"><div>&nbsp;<b>Hi</b> &amp; welcome'
              "</div></td></tr></table>\n") * 4
    html = (f'<html><body><div class="post-body"><p>{PARAGRAPHS[0]}</p><xmp>{sample}</xmp>'
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[1:]) + "</div></body></html>")
    text, paths = gated(html)
    assert paths == [gate.SECOND_OPINION]
    assert text == full_mode(html)


def test_the_skipped_measure_never_outlives_its_comparison():
    # A long body (3,000 characters or more) takes the fast path but never reaches the page
    # measure; a later fast-mode extraction (no comparison of its own) must still measure its
    # page and escalate as trafilatura does (found by review).
    long_story = "".join(f"<p>{p} ({i})</p>" for i in range(8) for p in PARAGRAPHS)
    lines = "".join(f"<div>Item {i}: a long line of listing text about product {i} with its "
                    "details, its price and a description of what it does.</div>"
                    for i in range(40))
    listing = (f"<html><body><article><p>{PARAGRAPHS[0][:150]}</p></article>"
               f"<div class='related'>{lines}</div></body></html>")
    alone = trafilatura.bare_extraction(listing, fast=True, **OPTIONS).text
    with gate.recording() as paths:
        assert len(trafilatura.bare_extraction(long_story, **OPTIONS).text) >= 3000
        after = trafilatura.bare_extraction(listing, fast=True, **OPTIONS).text
    assert paths == [gate.FAST]
    assert after == alone
