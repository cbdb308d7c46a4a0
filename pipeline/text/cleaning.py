"""Body text hygiene: boilerplate lines, mojibake, word counts, content hash, language codes;
and control characters escaped for whatever shows text to a person."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import ftfy

# Whole lines that are page furniture, never article text (checked case-insensitively, after
# whitespace folding). Kept short and literal on purpose: a false positive deletes real text.
_BOILERPLATE_LINE = re.compile(
    r"^(?:advertisement|advertisements|anzeige|publicité|publicidad|pubblicità|werbung|ad|"
    r"sponsored|sponsored content|skip (?:to|the) (?:main )?(?:content|ad)|"
    r"share(?: this)?(?: article| story| on \w+)?|share on (?:facebook|twitter|x|whatsapp)|"
    r"(?:click|tap) here to .{0,60}|read more|read more:?.{0,0}|continue reading|"
    r"(?:also read|read also|lire aussi|à lire aussi|lesen sie auch|leer más|leggi anche|"
    r"related|related articles|more on this story|recommended)[:.]?|"
    r"sign up for .{0,80}newsletter.{0,40}|subscribe(?: now| today)?|"
    r"follow us on .{0,40}|image:? .{0,0}|getty images|photo:? getty images|"
    r"loading\.{0,3}|(?:\d+ )?comments?|print|email|e-mail|tweet|facebook|twitter|whatsapp|"
    r"linkedin|pinterest|reddit|copy link|copied!?|"
    r"\d+\s*min(?:ute)?s?\.?\s*read|reading time:?\s*\d+\s*min(?:ute)?s?)$",
    re.IGNORECASE,
)


# What UTF-8 text looks like after a publisher's CMS read it as Windows-1252 and wrote it out
# again ("Â " for a no-break space, "â€œ" for a curly quote, "Ã©" for é). Only text holding
# one of these goes to ftfy: its own badness test costs milliseconds on a long body.
_MOJIBAKE_LEADS = ("Â", "Ã", "â€")


def fix_mojibake(text: str) -> str:
    """`text` with double-encoded characters repaired (ftfy); clean text comes back as it was."""
    if any(lead in text for lead in _MOJIBAKE_LEADS):
        return ftfy.fix_encoding(text)
    return text


def clean_body(text: str | None) -> str:
    """Plain text with one paragraph per line: double-encoded characters repaired, whitespace
    folded inside lines, empty lines, boilerplate lines and immediately repeated lines
    dropped."""
    if not text:
        return ""
    lines: list[str] = []
    for line in fix_mojibake(text).splitlines():
        line = " ".join(line.replace("\u00ad", "").split())
        if not line or _BOILERPLATE_LINE.match(line):
            continue
        if lines and lines[-1] == line:
            continue
        lines.append(line)
    return "\n".join(lines)


# Chinese and Japanese write no spaces between words: each ideograph or kana counts as one word
# (the usual convention for word counts in these scripts); other scripts count runs of \w.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORDS = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")


def word_count(text: str) -> int:
    return len(_WORDS.findall(text))


def content_hash(body: str) -> str:
    """sha256 hex of the body, NFKC-normalised, case-folded and whitespace-collapsed, so that a
    re-wrapped or re-cased copy of the same text hashes the same."""
    folded = " ".join(unicodedata.normalize("NFKC", body).casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def normalise_language(value: str | None) -> str | None:
    """ISO 639-1 two letters from "en-GB", "fr_FR", "de", "eng"-free values; None otherwise."""
    if not value:
        return None
    code = re.split(r"[-_;,\s]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


# C0 and C1 control characters: ESC and CSI sequences could colour, retitle or hyperlink the
# terminal. Rich strips only BEL, BS, VT, FF and CR (rich.control).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_controls(text: str, *, keep: str = "\t\n") -> str:
    """`text` with each control character but those in `keep` written as an escape (`\\x1b`,
    `\\n`), so text a page or a user wrote can neither drive the terminal nor break a line."""
    return _CONTROL.sub(lambda m: m[0] if m[0] in keep else repr(m[0])[1:-1], text)
