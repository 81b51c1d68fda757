"""Text normalisation shared by ingest, index and retriever.

Three forms of a text exist side by side:

* the original (NFC) text, kept for display and citation;
* the *folded* text: lower case, diacritics removed, đ→d.  :func:`fold` is
  length-preserving (one output character per input character), so a regex
  match on the folded text gives offsets into the original;
* the *repaired* text (:func:`repaired`): the folded text with common OCR confusions
  undone ("Pang" → "dang", "s6" → "so", "x4" → "xa"), also length-preserving.  The
  repairs are for documents detected as OCR (:func:`is_ocr_text`, ``DocMeta.ocr``);
  on clean text they would damage real words ("Pú Nhi" → "du nhi", "H5N1" → "hsnl"),
  so callers that know a text is clean pass ``ocr=False``;
* search tokens (:func:`search_tokens`): syllables of the folded text, repaired only
  when the text is OCR (detected when not told), used by the lexical index.  At query
  time, to match OCR documents, ask for ``search_tokens(question, ocr=True)`` too.

Index and queries must use the same functions; the index manifest records
:data:`NORMALISATION_VERSION` so a mismatch is detected on load.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

NORMALISATION_VERSION = "nfc+fold+ocr-v2"  # v2: OCR repairs only on OCR text

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
_VI_MARKS = set("ăâêôơưđ")
_WORD_RE = re.compile(r"[^\W\d_]+")
# a number glued to a unit stays a number: "1,6cm" is not the OCR word "1,ocm"
_UNIT_NUMBER_RE = re.compile(r"\d+(?:,\d+)?(?=(?:cm|mm|km|kg|ha)\b)")


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


_FOLD_TABLE: dict[int, str] = {}


def fold(text: str) -> str:
    """Lower-case, strip diacritics, map đ→d; exactly one output char per input char."""
    for ch in set(text):
        if ord(ch) not in _FOLD_TABLE:
            _FOLD_TABLE[ord(ch)] = _fold_char(ch)
    return text.translate(_FOLD_TABLE)


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


@lru_cache(maxsize=16)
def is_ocr_text(text: str) -> bool:
    """True when most words have lost their Vietnamese diacritics (OCR output)."""
    words = Counter(w.lower() for w in _WORD_RE.findall(text))
    if not words:
        return False
    marked = sum(n for w, n in words.items()
                 if any(c in _VI_MARKS for c in w) or unicodedata.normalize("NFD", w) != w)
    return marked / sum(words.values()) < 0.5


def repaired(text: str, ocr: bool = True) -> str:
    """Folded text with each syllable OCR-repaired (``ocr=False``: folded only); same length as ``text``.

    Numbers glued to a unit ("1,6cm") are kept as numbers.
    """
    folded = fold(text)
    if not ocr:
        return folded
    out = list(_TOKEN_RE.sub(lambda m: repair_token(m.group(0)), folded))
    for m in _UNIT_NUMBER_RE.finditer(folded):
        out[m.start():m.end()] = folded[m.start():m.end()]
    return "".join(out)


def search_tokens(text: str, ocr: bool | None = None) -> list[str]:
    """Folded syllables of ``text`` (the lexical index's terms), OCR-repaired when ``text`` is OCR.

    ``ocr=None`` detects it with :func:`is_ocr_text`; ``True``/``False`` force it (a query matched
    against OCR documents uses ``True``).
    """
    text = nfc(text)
    if ocr is None:
        ocr = is_ocr_text(text)
    toks = _TOKEN_RE.findall(fold(text))
    return [repair_token(t) for t in toks] if ocr else toks


def search_form(text: str) -> str:
    """Look-up key of a short name (a place, an agency): its OCR-repaired search tokens joined by spaces, so a
    name printed clean and the same name read by OCR ("Pien Bien") give the same key."""
    return " ".join(search_tokens(text, ocr=True))


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese diacritic or đ."""
    return any(ord(c) > 127 and c.isalpha() for c in text)


def collapse_ws(text: str) -> str:
    """Every run of whitespace to one space, stripped."""
    return re.sub(r"\s+", " ", text).strip()
