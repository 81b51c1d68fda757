"""A reading view of a plan's text: hard line wraps joined, Markdown emphasis dropped, offsets kept.

Plans converted from web pages or word processors wrap lines every 50–80 characters ("Sở Khoa\\nhọc và
Công nghệ"), put ``**bold**`` and ``*italics*`` marks anywhere, and flatten tables into one cell per run of
lines separated by lines holding only ``|``.  :class:`View` gives the text as a reader sees it — one line
per block (paragraph, bullet, numbered or lettered item, heading, table cell) — with a map from every
character of the view back to its offset in the original, so spans found in the view cite the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A line that starts a new block: bullets, "1." / "1.2." / "a)" / "đ)" items, "I." / "A." headings, table bars.
BLOCK_START_RE = re.compile(
    r"^\s*(?:[-+•–]\s|\d{1,2}(?:\.\d{1,2})*\s*[.)/-]\s*|\(?[a-zđ]\)\s|[IVXLC]{1,6}\s*[.\-–]\s|[A-ZĐ]\.\s"
    r"|\||\*\s|Điều\s+\d)"
)
_EMPHASIS_RE = re.compile(r"\*\*|\*(?!\s)|(?<=\S)\*")


@dataclass(frozen=True)
class View:
    text: str  # the reading view
    offsets: tuple[int, ...]  # offsets[i] = offset in the original of text[i]; one extra entry for the end

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Original span of ``text[a:b]`` (``b`` exclusive)."""
        if b <= a:
            return self.offsets[a], self.offsets[a]
        return self.offsets[a], self.offsets[b - 1] + 1

    def blocks(self) -> list[tuple[int, int]]:
        """(start, end) of every non-blank line of the view."""
        out, pos = [], 0
        for line in self.text.split("\n"):
            stripped = line.strip()
            if stripped:
                lead = len(line) - len(line.lstrip())
                out.append((pos + lead, pos + lead + len(stripped)))
            pos += len(line) + 1
        return out


def _kept(text: str) -> list[bool]:
    """Which characters of ``text`` survive: Markdown emphasis marks are dropped (a bullet "* " stays)."""
    keep = [True] * len(text)
    for m in _EMPHASIS_RE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start:m.start()].strip() == "" and text[m.end():m.end() + 1] == " " and m.group(0) == "*":
            continue  # "* Phân công …": a bullet
        for k in range(m.start(), m.end()):
            keep[k] = False
    return keep


def _joins(lines: list[str], k: int) -> bool:
    """Whether line ``k`` continues line ``k - 1`` (a hard wrap) rather than starting a block."""
    prev, cur = lines[k - 1].strip(), lines[k].strip()
    if not prev or not cur or prev == "|" or cur == "|":
        return False
    return BLOCK_START_RE.match(cur) is None


def reading_view(text: str) -> View:
    """The reading view of ``text`` (see the module docstring)."""
    keep = _kept(text)
    chars: list[str] = []
    offs: list[int] = []
    raw_lines = text.split("\n")
    clean_lines = []
    pos = 0
    for line in raw_lines:
        clean_lines.append("".join(c for j, c in enumerate(line) if keep[pos + j]))
        pos += len(line) + 1
    pos = 0
    for k, line in enumerate(raw_lines):
        if k:
            chars.append(" " if _joins(clean_lines, k) else "\n")
            offs.append(pos - 1)
        for j, c in enumerate(line):
            if keep[pos + j]:
                chars.append(c)
                offs.append(pos + j)
        pos += len(line) + 1
    view = "".join(chars)
    squeezed, squeezed_offs = _squeeze(view, offs)
    return View(squeezed, tuple(squeezed_offs) + (len(text),))


def _squeeze(text: str, offs: list[int]) -> tuple[str, list[int]]:
    """Runs of spaces and tabs to one space (offsets follow the first)."""
    out: list[str] = []
    out_offs: list[int] = []
    for c, o in zip(text, offs, strict=True):
        if c in " \t" and out and out[-1] in " \t":
            continue
        out.append(" " if c == "\t" else c)
        out_offs.append(o)
    return "".join(out), out_offs
