"""How much of a text is readable Vietnamese: decides whether a PDF page's text layer is kept or OCR'd.

A scanned page often carries a hidden text layer from the scanner's own OCR: empty, a few words of an
e-signature stamp, or mangled Vietnamese with its diacritics lost ("CONG HOA xA HQI CilU NGHIA"). "Has text"
is therefore no test.  We measure two things on the letters-only words of the page:

* the share of words that are *well-formed Vietnamese syllables* (onset + vowel cluster + final consonant,
  at most one tone mark), which broken OCR fails ("hqi", "cilu", "vivt");
* the share of syllables that carry a Vietnamese mark (tone, ă â ê ô ơ ư or đ): running Vietnamese text has
  marks on most syllables, diacritic-free OCR has almost none.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD_RE = re.compile(r"[^\W\d_]+")
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng
_SHAPE_MARKS = {"\u0306": "ă", "\u0302": "^", "\u031b": "'"}  # breve, circumflex, horn
_SYLLABLE_RE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"([aăâeêioôơuưy]{1,3})"
    r"(ch|ng|nh|[cmnpt])?$"
)


@dataclass(frozen=True)
class TextQuality:
    words: int  # letters-only words measured
    letters: int
    valid_share: float  # well-formed Vietnamese syllables / words
    marked_share: float  # syllables carrying a Vietnamese mark / words

    def to_json(self) -> dict[str, float | int]:
        return {"words": self.words, "letters": self.letters, "valid_share": round(self.valid_share, 3),
                "marked_share": round(self.marked_share, 3)}


@dataclass(frozen=True)
class QualityRule:
    """Thresholds of a usable text layer (measured on vn-docs: docs/EVALUATION.md "OCR")."""

    min_valid_share: float = 0.8
    min_marked_share: float = 0.5
    min_words: int = 5


def _shape(word: str) -> tuple[str, int, bool]:
    """(base spelling with vowel shapes kept and tones removed, tone-mark count, has any Vietnamese mark)."""
    out: list[str] = []
    tones = 0
    for ch in unicodedata.normalize("NFD", word.lower()):
        if ch in _TONES:
            tones += 1
        elif ch in _SHAPE_MARKS and out:
            base = out.pop()
            out.append(unicodedata.normalize("NFC", base + ch))
        else:
            out.append(ch)
    base = "".join(out)
    marked = tones > 0 or any(c in "ăâêôơưđ" for c in base)
    return base, tones, marked


def is_syllable(word: str) -> bool:
    """True for a well-formed Vietnamese syllable ("Nghị", "hoạch", "xã"); False for "HQI", "CilU"."""
    base, tones, _ = _shape(word)
    return tones <= 1 and _SYLLABLE_RE.match(base) is not None


def measure(text: str) -> TextQuality:
    """Word counts and the two shares of :class:`TextQuality` for ``text``."""
    words = _WORD_RE.findall(unicodedata.normalize("NFC", text))
    if not words:
        return TextQuality(0, 0, 0.0, 0.0)
    valid = marked = 0
    for w in words:
        base, tones, has_mark = _shape(w)
        valid += tones <= 1 and _SYLLABLE_RE.match(base) is not None
        marked += has_mark
    n = len(words)
    return TextQuality(n, sum(map(len, words)), valid / n, marked / n)


def is_readable(q: TextQuality, rule: QualityRule | None = None) -> bool:
    """True when a text layer is good Vietnamese: enough words, mostly valid syllables, mostly marked."""
    rule = rule or QualityRule()
    return (q.words >= rule.min_words and q.valid_share >= rule.min_valid_share
            and q.marked_share >= rule.min_marked_share)
