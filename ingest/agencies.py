"""Agency names: a canonical lexicon and OCR-robust matching.

The lexicon (``ingest/data/agencies.json``) lists each agency once under its
proper Vietnamese name with its aliases ("UBND" = "Ủy ban nhân dân").  Names are
matched on the folded, OCR-repaired form of the text (:func:`ingest.metadata.repaired`,
same length as the input, so spans index the original), token by token:

* on clean text only exact token matches count ("Phòng Văn hóa- Xã hội" and
  "Phòng Văn hoá - Xã hội" are the same tokens once folded);
* on OCR text (most words without diacritics) a token may also match approximately
  (``difflib`` ratio; OCR readings listed in the lexicon, such as "ty"/"ly"/"ity" for
  "ủy"; Đ read as P or B); in short texts (a name, a cell) words that OCR joined or
  split are aligned too ("SoYte", "S&Khoahoc", "N&i v,u");
* in a narrow OCR table cell (``cell=True``) the thresholds are looser and a long name may
  lose its last word.

A name may carry an administrative level ("Trạm Y tế xã", "Công an tỉnh") and,
for party organs, the committee it belongs to ("Ban Xây dựng Đảng Đảng ủy");
both are kept in the canonical name.  :func:`agency_key` folds a canonical name
into the key used to group and filter assignments by agency.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from importlib import resources

from ingest.textnorm import collapse_ws, fold, is_ocr_text, nfc, repaired

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_DPB = frozenset("dpb")
EXACT = 0.99
TRUNCATED_MIN = 6  # in table cells, names of this many words may be read without their last word
COMPACT_MAX_TOKENS = 60  # texts up to this size (names, cells) are also matched with spaces ignored


@dataclass(frozen=True)
class Entry:
    name: str
    keys: tuple[tuple[str, ...], ...]  # folded token tuples of the name and its aliases
    levels: bool
    owner: bool
    generic: bool


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[Entry, ...]
    levels: dict[str, str]  # folded level words → proper ("tinh" → "tỉnh")
    owners: dict[str, str]  # folded owner committee → proper ("dang uy" → "Đảng ủy")
    variants: dict[str, frozenset[str]]  # folded token → OCR readings of it


@dataclass(frozen=True)
class AgencyMatch:
    name: str  # canonical name, with level and owner when printed
    start: int  # span in the matched text
    end: int
    score: float  # 1.0 exact; lower for approximate (OCR) matches
    generic: bool  # a collective addressee ("Các cơ quan liên quan")
    takes_level: bool = False  # the name may carry an administrative level
    level: str = ""  # the level printed with it ("xã"), if any


Token = tuple[str, int, int]


def _tokens(text: str) -> list[Token]:
    """Folded, OCR-repaired words of ``text`` with their spans (valid in ``text``)."""
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(repaired(text))]


def _entry(raw: dict) -> Entry:
    names = [raw["name"], *raw.get("aliases", [])]
    keys = tuple(dict.fromkeys(tuple(t for t, _, _ in _tokens(nfc(n))) for n in names))
    return Entry(nfc(raw["name"]), keys, bool(raw.get("levels")), bool(raw.get("owner")), bool(raw.get("generic")))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The lexicon of ``ingest/data/agencies.json``, parsed once."""
    data = json.loads(resources.files("ingest").joinpath("data/agencies.json").read_text("utf-8"))
    entries = tuple(_entry(raw) for raw in data["agencies"])
    variants = {k: frozenset(v) for k, v in data["ocr_token_variants"].items()}
    return Lexicon(entries, {k: nfc(v) for k, v in data["levels"].items()},
                   {k: nfc(v) for k, v in data["owners"].items()}, variants)


@lru_cache(maxsize=200_000)
def token_similarity(tok: str, ref: str) -> float:
    """How well an OCR'd folded token ``tok`` reads as the folded token ``ref`` (0..1)."""
    if tok == ref:
        return 1.0
    if tok in lexicon().variants.get(ref, ()):
        return 0.9
    if len(tok) > 1 and tok[1:] == ref[1:] and {tok[0], ref[0]} <= _DPB:
        return 0.9
    if min(len(tok), len(ref)) <= 2:
        if tok[0] != ref[0]:
            return 0.0
        return 0.6 if abs(len(tok) - len(ref)) <= 1 else 0.5
    return SequenceMatcher(None, tok, ref).ratio()


def _threshold(key: tuple[str, ...], cell: bool) -> float:
    """Least mean similarity an approximate reading of ``key`` needs."""
    if sum(len(t) for t in key) < 6:
        return 0.9
    base = 0.85 if len(key) <= 3 else 0.8 if len(key) <= 5 else 0.75
    return base - (0.05 if cell else 0.0)


Unit = tuple[float, int, int]  # (similarity, key tokens read, letters in them)
_STEPS = ((1, 1), (2, 1), (3, 1), (1, 2))  # (key tokens, text tokens): OCR may join or split words


def _units_direct(toks: list[Token], i: int, key: tuple[str, ...]) -> tuple[list[Unit], int] | None:
    if i + len(key) > len(toks):
        return None
    return [(token_similarity(toks[i + k][0], ref), 1, len(ref)) for k, ref in enumerate(key)], len(key)


def _opening(toks: list[Token], i: int, key: tuple[str, ...]) -> float:
    """Best similarity of the first part of ``key`` read at token ``i`` (one word, joined or split)."""
    best = 0.0
    for da, db in _STEPS:
        if da <= len(key) and i + db <= len(toks):
            sim = token_similarity("".join(t for t, _, _ in toks[i:i + db]), "".join(key[:da]))
            best = max(best, sim if da == 1 or sim >= 0.85 else 0.0)
    return best


def _units_aligned(toks: list[Token], i: int, key: tuple[str, ...]) -> tuple[list[Unit], int] | None:
    """Best alignment of ``key`` on the text from token ``i`` when OCR joined or split words."""
    if _opening(toks, i, key) < 0.5:  # no reading can pass _score
        return None
    n, width = len(key), min(len(toks) - i, len(key) + 2)
    best: dict[tuple[int, int], tuple[float, list[Unit]]] = {(0, 0): (0.0, [])}
    for a in range(n):
        for b in range(width):
            cur = best.get((a, b))
            if cur is None:
                continue
            for da, db in _STEPS:
                if a + da > n or b + db > width:
                    continue
                printed = "".join(t for t, _, _ in toks[i + b:i + b + db])
                sim = token_similarity(printed, "".join(key[a:a + da]))
                if da > 1 and sim < 0.85:  # one printed word for several: it must read almost exactly
                    sim = 0.0
                cand = (cur[0] + sim * da, [*cur[1], (sim, da, sum(len(k) for k in key[a:a + da]))])
                if cand[0] > best.get((a + da, b + db), (-1.0, []))[0]:
                    best[(a + da, b + db)] = cand
    ends = [(v[0], -b, b, v[1]) for (a, b), v in best.items() if a == n]
    if not ends:
        return None
    _, _, used, units = max(ends)
    return units, used


def _score(units: list[Unit], key: tuple[str, ...], cell: bool) -> float:
    """Mean similarity of an alignment, or 0 when one of its parts is too far off.

    First and last parts must be close; keys of six tokens or more tolerate one
    unreadable inner token of three letters or more; short keys need every token.
    """
    sims = [u[0] for u in units]
    low = 0.5 if cell else 0.6
    if sims[0] < low or sims[-1] < low:
        return 0.0
    weak = [u for u in units if u[0] < 0.5]
    if weak and (len(key) < 6 or len(weak) > 1 or weak[0][2] < 3):
        return 0.0
    if sum(len(t) for t in key) < 6 and min(sims) < 0.9:
        return 0.0
    if len(key) <= 3 and min(sims) < (0.6 if cell else 0.75):
        return 0.0
    return sum(max(u[0], 0.3) * u[1] for u in units) / len(key)


def _best_window(toks: list[Token], i: int, key: tuple[str, ...], mode: int, cell: bool) -> tuple[float, int]:
    """(score, tokens used) of the best reading of ``key`` starting at token ``i``.

    ``mode``: 0 exact tokens; 1 approximate tokens; 2 also words that OCR joined or split.
    """
    found = _units_direct(toks, i, key)
    if found and all(u[0] >= 1.0 for u in found[0]):
        return 1.0, found[1]
    if not mode:
        return 0.0, 0
    if mode == 2:
        found = _units_aligned(toks, i, key)
    best = (_score(found[0], key, cell), found[1]) if found else (0.0, 0)
    if cell and len(key) >= TRUNCATED_MIN:  # a narrow cell may lose the last word of a long name
        cut = _units_aligned(toks, i, key[:-1])
        if cut:
            best = max(best, (_score(cut[0], key[:-1], cell) * 0.95, cut[1]))
    return best


def _suffix(toks: list[Token], j: int, table: dict[str, str]) -> tuple[str, int]:
    """A level word or owner committee printed at token ``j``: (proper form, tokens used)."""
    for folded, proper in table.items():
        parts = folded.split()
        if j + len(parts) <= len(toks) and all(
            token_similarity(toks[j + k][0], p) >= 0.9 for k, p in enumerate(parts)
        ):
            return proper, len(parts)
    return "", 0


@lru_cache(maxsize=1)
def _keys_by_first() -> dict[str, tuple[tuple[Entry, tuple[str, ...]], ...]]:
    """Every (entry, key) of the lexicon, indexed by the key's first word."""
    out: dict[str, list[tuple[Entry, tuple[str, ...]]]] = {}
    for entry in lexicon().entries:
        for key in entry.keys:
            out.setdefault(key[0], []).append((entry, key))
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=50_000)
def _compatible(tok: str, fuzzy: bool) -> tuple[tuple[Entry, tuple[str, ...]], ...]:
    """The (entry, key) pairs whose first token ``tok`` may stand for."""
    out: list[tuple[Entry, tuple[str, ...]]] = []
    for first, pairs in _keys_by_first().items():
        if tok == first or fuzzy and (tok[0] == first[0] or token_similarity(tok, first) >= 0.4):
            out.extend(pairs)
    return tuple(out)


def _match_at(toks: list[Token], i: int, mode: int, cell: bool) -> AgencyMatch | None:
    """The best name starting at token ``i``: exact readings first, then the longest, then the closest."""
    best: tuple[tuple[bool, int, float], Entry, int, float] | None = None
    for entry, key in _compatible(toks[i][0], mode > 0):
        score, used = _best_window(toks, i, key, mode, cell)
        if score < (_threshold(key, cell) if mode else EXACT):
            continue
        rank = (score >= EXACT, toks[i + used - 1][2] - toks[i][1], score)
        if best is None or rank > best[0]:
            best = (rank, entry, used, score)
    if best is None:
        return None
    _, entry, used, score = best
    return _finish(toks, i, entry, used, score)


def _finish(toks: list[Token], i: int, entry: Entry, used: int, score: float) -> AgencyMatch:
    """The match of ``entry`` on ``used`` tokens from ``i``, with the level and owner printed after it."""
    j, name, level = i + used, entry.name, ""
    if entry.levels:
        level, n = _suffix(toks, j, lexicon().levels)
        name, j = (f"{name} {level}", j + n) if n else (name, j)
    if entry.owner:
        owner, n = _suffix(toks, j, lexicon().owners)
        name, j = (f"{name} {owner}", j + n) if n else (name, j)
    return AgencyMatch(name, toks[i][1], toks[j - 1][2], score, entry.generic, entry.levels, level)


def match_agencies(text: str, *, fuzzy: bool | None = None, cell: bool = False) -> list[AgencyMatch]:
    """Every agency named in ``text``, left to right, without overlaps.

    ``fuzzy`` (default: the text is OCR output) allows approximate matches; ``cell``
    loosens them further, for table cells.
    """
    text = nfc(text)
    if fuzzy is None:
        fuzzy = cell or is_ocr_text(text)
    toks = _tokens(text)
    mode = 0 if not fuzzy else 2 if cell or len(toks) <= COMPACT_MAX_TOKENS else 1
    out: list[AgencyMatch] = []
    i = 0
    while i < len(toks):
        m = _match_at(toks, i, mode, cell)
        if m is None or _later_is_better(toks, i, m, mode, cell):
            m = _glued_initial(text, toks, i) if cell else None
            if m is None:
                i += 1
                continue
        out.append(m)
        while i < len(toks) and toks[i][1] < m.end:
            i += 1
    return out


@lru_cache(maxsize=1)
def _one_letter_keys() -> dict[tuple[str, str], tuple[Entry, ...]]:
    """(first letter of the first word, the one-letter second word) → the entries whose name reads so
    ("Sở Y tế", "Trạm Y tế": s…y, t…y)."""
    out: dict[tuple[str, str], list[Entry]] = {}
    for entry in lexicon().entries:
        for key in entry.keys:
            if len(key) >= 2 and len(key[1]) == 1 and key[1].isalpha() and not entry.generic:
                out.setdefault((key[0][0], key[1]), []).append(entry)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def read_glued_word(word: str) -> str | None:
    """A lone capitalised word that fills a narrow OCR cell line ("Seyie") read as a glued name, its
    one-letter word in any case; None when it reads as no name or as several."""
    toks = _tokens(nfc(word))
    if len(toks) != 1 or not word.strip()[:1].isupper():
        return None
    m = _glued_initial(word, toks, 0, any_case=True)
    return m.name if m else None


def _glued_initial(text: str, toks: list[Token], i: int, any_case: bool = False) -> AgencyMatch | None:
    """OCR glues a one-letter word to its neighbours: in a narrow cell, "S6Y", "SeY1", "SdYt€", "S& Y"
    read as the start of the only lexicon name whose first word has that initial and whose second word
    is that letter (or one of its OCR readings).  Inside a token the letter must be a capital (the start
    of a glued word: "SeY", not "tuyen"); ambiguous readings (several such names) are left unread."""
    tok, start, end = toks[i]
    printed = text[start:end]
    spots = [(tok[0], tok[k]) for k in range(1, min(4, len(tok))) if any_case or printed[k].isupper()] \
        if 3 <= len(tok) <= 6 and printed[:1].isupper() else []
    if len(tok) <= 2 and printed[:1].isupper() and i + 1 < len(toks) and len(toks[i + 1][0]) <= 3:
        nxt, nxt_printed = toks[i + 1][0], text[toks[i + 1][1]:toks[i + 1][2]]
        end = toks[i + 1][2]  # "S& Y", "S(?éY": the letter is the next word, or a capital glued in it
        spots = [(tok[0], nxt)] if len(nxt) == 1 else \
            [(tok[0], nxt[k]) for k in range(len(nxt)) if nxt_printed[k:k + 1].isupper()]
    variants = lexicon().variants
    for first, letter in spots:
        entries = {e for (f, ref), es in _one_letter_keys().items() if f == first
                   and (letter == ref or letter in variants.get(ref, ())) for e in es}
        if len(entries) == 1:
            return AgencyMatch(entries.pop().name, toks[i][1], end, 0.6, False)
    return None


def _later_is_better(toks: list[Token], i: int, m: AgencyMatch, mode: int, cell: bool) -> bool:
    """An approximate match that a closer one starting one token later would cover: OCR junk
    before a name ("SeY1 S Khoa hoc ...") is left out of it."""
    if m.score >= EXACT or i + 1 >= len(toks) or toks[i + 1][1] >= m.end:
        return False
    later = _match_at(toks, i + 1, mode, cell)
    return later is not None and later.end >= m.end and later.score > m.score


def find_agencies(text: str) -> list[tuple[str, int, int]]:
    """(canonical name, start, end) for every agency named in ``text``."""
    return [(m.name, m.start, m.end) for m in match_agencies(text)]


def _clean(name: str) -> str:
    """Whitespace collapsed, list punctuation stripped, " - " spaced, first letter capitalised."""
    name = collapse_ws(nfc(name)).strip(" ,.;:-–+*•")
    name = re.sub(r"\s*-\s*", " - ", name)
    return name[:1].upper() + name[1:]


def canonical_agency(name: str) -> str:
    """The proper name of an agency as printed ("S& Y té" → "Sở Y tế", "UBND xã" →
    "Ủy ban nhân dân xã"); unknown names come back cleaned up, never invented."""
    clean = _clean(name)
    if not clean:
        return clean
    matches = match_agencies(clean, cell=is_ocr_text(clean))
    first = _tokens(clean)[:1]
    if not matches or not first or matches[0].start != first[0][1]:
        return clean
    rest = clean[matches[0].end:].strip(" ,;")
    return f"{matches[0].name} {rest}" if rest else matches[0].name


def agency_key(name: str) -> str:
    """Folded key of an agency for grouping and filtering: same for "Sở Y tế",
    "so y te", "S& Y té"; "UBND xã" and "Ủy ban nhân dân xã" share one key."""
    return " ".join(_TOKEN_RE.findall(fold(canonical_agency(name))))


def same_agency(a: str, b: str) -> bool:
    """True when two printed names denote the same agency."""
    return agency_key(a) == agency_key(b)
