"""The story's HTML from a page's embedded application state, for pages rendered in the browser.

Some sites (Next.js, Nuxt, React Query hydration) send an empty shell and the story as HTML
inside a JSON object in a `<script>` (`window.__NEXT_DATA__ = {...}`, `queries.push({...})`),
under a key such as `content`, `contentHtml`, `body` or `articleHtml`. trafilatura sees no text
there. `story_html` finds the longest such string that is rich text (two paragraphs or more);
`body` treats it like a JSON-LD `articleBody`.

Found by regex rather than by parsing each script as JSON: the state is often a JavaScript
statement around the JSON, not JSON itself, and only the string literals matter. The pattern is
linear (its two alternatives start with different characters).
"""

from __future__ import annotations

import json
import re

from lxml import etree

# A JSON string literal of 300 characters or more under a key that names content.
_STORY_FIELD = re.compile(
    r'"[A-Za-z_]*(?:content|body|html|text)[A-Za-z_]*"\s*:\s*("(?:[^"\\]|\\.){300,}")',
    re.IGNORECASE)
# Paragraph markup as JSON writes it inside a script: raw or escaped (`\u003cp`).
_ESCAPED_PARAGRAPH = ("<p", "\\u003cp", "\\u003Cp", "\\x3cp")
_PARAGRAPH = re.compile(r"<p[\s>]", re.IGNORECASE)
MIN_PARAGRAPHS = 2
MIN_SCRIPT_CHARS = 600  # a script shorter than this holds no story


def story_html(tree: etree._Element) -> str | None:
    """The longest rich-text string under a content-like key in the page's scripts, or None."""
    best = ""
    for script in tree.iter("script"):
        code = script.text
        if (not code or len(code) < MIN_SCRIPT_CHARS
                or not any(p in code for p in _ESCAPED_PARAGRAPH)):
            continue
        for match in _STORY_FIELD.finditer(code):
            if len(match.group(1)) <= len(best):
                continue
            try:
                value = json.loads(match.group(1))
            except ValueError:
                continue
            if len(_PARAGRAPH.findall(value)) >= MIN_PARAGRAPHS and len(value) > len(best):
                best = value
    return best or None
