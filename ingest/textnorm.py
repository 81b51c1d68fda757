"""Text normalisation shared by ingest, index and retriever.

Three forms of a text exist side by side:

* the original (NFC) text, kept for display and citation;
* the *folded* text: lower case, diacritics removed, đ→d.  :func:`fold` is
  length-preserving (one output character per input character), so a regex
  match on the folded text gives offsets into the original;
* search tokens: folded syllables with common OCR confusions repaired
  ("Pang" → "dang", "s6" → "so", "x4" → "xa"), used by the lexical index.

Index and queries must use the same functions; the index manifest records
:data:`NORMALISATION_VERSION` so a mismatch is detected on load.
"""

from __future__ import annotations

import re
import unicodedata

NORMALISATION_VERSION = "nfc+fold+ocr-v1"

# Symbols OCR produced in place of accented vowels ("v€" = về, "B§" = Bộ, "S&" = Sở).
_SYMBOL_MAP = {
    "€": "e", "¢": "c", "§": "o", "&": "e", "$": "s", "©": "c", "®": "r", "¥": "y",
    "ø": "o", "ß": "b", "|": " ", "“": '"', "”": '"', "‘": "'", "’": "'",
}
# Digits OCR produced inside words ("s6" = số, "1am" = làm, "x4" = xã, "t8" = tổ).
_DIGIT_IN_WORD = str.maketrans({"0": "o", "6": "o", "8": "o", "1": "l", "4": "a", "3": "a", "5": "s"})
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_HAS_DIGIT = re.compile(r"\d")
_HAS_ALPHA = re.compile(r"[a-z]")


def nfc(text: str) -> str:
    """Unicode NFC, the one form every entry point converts to."""
    return unicodedata.normalize("NFC", text)


def _fold_char(ch: str) -> str:
    if ch in ("đ", "Đ"):
        return "d"
    mapped = _SYMBOL_MAP.get(ch)
    if mapped is not None:
        return mapped
    if ord(ch) < 128:
        return ch.lower()
    base = unicodedata.normalize("NFD", ch)[0]
    low = base.lower()
    return low if len(low) == 1 else base


_FOLD_CACHE: dict[str, str] = {}


def fold(text: str) -> str:
    """Lower-case, strip diacritics, map đ→d; exactly one output char per input char."""
    out = []
    for ch in text:
        f = _FOLD_CACHE.get(ch)
        if f is None:
            f = _fold_char(ch)
            _FOLD_CACHE[ch] = f
        out.append(f)
    return "".join(out)


def repair_token(tok: str) -> str:
    """Undo frequent OCR confusions in one folded syllable.

    Vietnamese has no native syllable starting with "p" other than "ph", and a
    leading "Đ" is often read as "P" ("Pang" = Đảng, "Pén" = Đến).  Digits inside
    a word stand for letters ("s6" = số, "1am" = làm); pure numbers are kept.
    """
    if _HAS_DIGIT.search(tok) and _HAS_ALPHA.search(tok):
        tok = tok.translate(_DIGIT_IN_WORD)
    if len(tok) > 1 and tok[0] == "p" and tok[1] != "h":
        tok = "d" + tok[1:]
    return tok


def search_tokens(text: str) -> list[str]:
    """Folded, OCR-repaired syllables of ``text`` (the lexical index's terms)."""
    return [repair_token(t) for t in _TOKEN_RE.findall(fold(nfc(text)))]


def search_form(text: str) -> str:
    """The tokens of :func:`search_tokens` joined by single spaces."""
    return " ".join(search_tokens(text))


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese diacritic or đ."""
    return any(ord(c) > 127 and c.isalpha() for c in text)


def collapse_ws(text: str) -> str:
    """Every run of whitespace to one space, stripped."""
    return re.sub(r"\s+", " ", text).strip()
