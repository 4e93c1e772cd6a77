"""List markers: which words start a list item (bullets, dashes, enumerators, symbol-font bullets read as
letters). Pure string rules, used by `layout` to cut paragraphs and to keep a marker set apart with its text."""

from __future__ import annotations

import re

BULLETS = "•◦▪▫●○■□▶►▸▹‣⁃※✓✔✗➢➤➔→◆◇★☐☑∙·*"  # a word starting with one of these is a list item
DASHES = ("-", "–", "—")  # a marker only as a word of its own: a leading dash may be a wrapped word
ENUMERATOR = re.compile(r"^(\(?\d{1,3}[.)]|\(?[A-Za-z][.)]|\(?[ivxlcIVXLC]{1,5}[.)]|[\u2460-\u24ff\u2776-\u2793])$")


def is_marker(word: str) -> bool:
    """Whether a word is a list marker: a bullet glyph (private-use glyphs of symbol fonts included), a dash
    on its own, or an enumerator ("1.", "2)", "(a)", "iv.", "①")."""
    return bool(word) and (
        word[0] in BULLETS or 0xE000 <= ord(word[0]) <= 0xF8FF or word in DASHES or bool(ENUMERATOR.match(word))
    )


LOOSE_BULLETS = ("o", "§", "Ø", "ü", "v", "q")  # symbol-font bullets read as letters: markers when set apart
