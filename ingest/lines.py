"""The one line splitter of ingest: lines of a text with their offsets into it."""

from __future__ import annotations

Line = tuple[int, int, str]  # (start, end, text) of one line; end = start + len(text.rstrip())


def text_lines(text: str, a: int = 0, b: int | None = None, *, keep_blank: bool = False) -> list[Line]:
    """Lines of ``text[a:b]`` (line breaks dropped) with the offset of their start and of the end of their last
    non-blank character in ``text``; blank lines only with ``keep_blank``."""
    out, pos = [], a
    for raw in text[a:b].splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        if keep_blank or line.strip():
            out.append((pos, pos + len(line.rstrip()), line))
        pos += len(raw)
    return out
