"""The performance benches' own machinery: the per-step profile names a step whose function is
gone instead of printing it as zero, and each bench rewrites only its own block of the report."""

from __future__ import annotations

from pathlib import Path

from bench import extraction_steps
from bench.performance import write_report
from pipeline.dedupe.config import DedupeConfig


def test_each_step_is_timed_found_by_function_or_named_missing(monkeypatch) -> None:
    steps = (
        extraction_steps.STEPS[0],
        ("metadata harvest", "pipeline.extraction.metadata:harvest"),
        ("a lazy guess", "pipeline.extraction.fallback_metadata:TrafilaturaMetadata._declared"),
        ("learned boilerplate", "pipeline.extraction.boilerplate:strip_lines"),
        ("a step that moved away", "pipeline.extraction.metadata:no_such_step"),
        ("a module that moved away", "pipeline.extraction.gone:harvest"),
    )
    monkeypatch.setattr(extraction_steps, "STEPS", steps)
    pages = extraction_steps.demo_pages(6)
    plain_ms, stats, articles = extraction_steps.profile(pages, DedupeConfig())
    assert articles == 6 and plain_ms > 0
    got = {row[0]: row for row in extraction_steps.rows(stats, len(pages))}

    stage = got[steps[0][0]]
    assert (stage[2], stage[4]) == ("6", "100%")
    harvest = got["metadata harvest"]
    assert harvest[2] == "6" and 0 < float(harvest[3]) < float(stage[3])
    assert got["a lazy guess"][2] != ""  # a method is found through its class
    # boilerplate is only stripped when a source has learned some: present, never run
    assert got["learned boilerplate"][2:4] == ("0", "not called")
    for gone in ("a step that moved away", "a module that moved away"):
        assert got[gone][3] == "**missing**"


def test_each_bench_rewrites_only_its_own_block(tmp_path: Path) -> None:
    report = tmp_path / "performance.md"
    report.write_text("# Performance\n\nkept\n\n<!-- a: begin -->\nold a\n<!-- a: end -->\n"
                      "\nkept too\n", encoding="utf-8")
    write_report(report, "new b\n", "<!-- b: begin -->", "<!-- b: end -->")  # added at the end
    write_report(report, "new a\n", "<!-- a: begin -->", "<!-- a: end -->")
    write_report(report, "newer b\n", "<!-- b: begin -->", "<!-- b: end -->")
    assert report.read_text(encoding="utf-8") == (
        "# Performance\n\nkept\n\n<!-- a: begin -->\nnew a\n<!-- a: end -->\n\nkept too\n\n"
        "<!-- b: begin -->\nnewer b\n<!-- b: end -->\n")
