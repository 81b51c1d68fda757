"""OCR confusion (channel) model: how a true syllable comes out of OCR.

Character-level weighted edit distance between a printed token and a candidate syllable.  General
rules live here (a lost tone or vowel mark is cheap, a symbol or digit standing for a letter of the
same shape is fairly cheap, anything else is dear); a confusion table fitted from aligned
(printed, corrected) pairs (:func:`fit_confusion`, stored as JSON in ``ingest/data/ocr_confusion.json``)
refines those costs with what OCR engines actually do ("ii" for "ủ", "tr" for "ức", "w" for "ư").
:class:`CandidateIndex` proposes candidate syllables whose letter skeleton is within a small edit
distance of the token's, so the weighted distance is computed for a few dozen syllables only.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

CONFUSION_FORMAT = "kehoach-ocr-confusion"
DEFAULT_CONFUSION_PATH = Path(__file__).parent / "data" / "ocr_confusion.json"
EPS = ""
# Symbols and digits OCR prints for letters of a similar shape (general, engine-independent).
SHAPE_LETTERS: dict[str, str] = {
    "€": "e", "¢": "ceo", "&": "e", "§": "o", "$": "so", "©": "co", "®": "r", "¥": "y", "ø": "o",
    "ß": "b", "0": "o", "6": "o", "8": "o", "9": "g", "1": "li", "l": "i", "i": "l", "3": "a", "4": "a",
    "5": "s", "2": "a", "|": "il", "!": "i", "w": "u", "y": "u", "u": "y", "d": "a", "a": "d", "p": "d",
    "v": "y", "@": "ad",
}
OCR_SYMBOLS = "€¢&§$©®¥ø|@"
# A printed word: letters and digits, possibly with look-alike symbols inside ("v€", "B§", "$6").
_LONE_SYMBOLS = OCR_SYMBOLS.replace("|", "")  # a lone "|" is a table rule, not a letter
OCR_WORD = rf"[^\W_]+(?:[{re.escape(OCR_SYMBOLS)}][^\W_]*)*|[{re.escape(_LONE_SYMBOLS)}][^\W_]*"
_WORD_RE = re.compile(OCR_WORD)


def ocr_words(text: str) -> list[str]:
    """Printed words of ``text``: tokens with a letter or look-alike symbol, and digit runs of <= 3
    (OCR prints "13" for "là"); longer numbers are left out."""
    return [w for w in _WORD_RE.findall(text) if not w.isdigit() or len(w) <= 3]


# Rule costs (negative natural-log probabilities) used where the fitted table has no evidence.
COST_MARK_LOST = 0.7      # printed the bare letter: "e" for "ệ"
COST_MARK_CHANGED = 1.2   # printed another mark of the same letter: "é" for "ế"
COST_SHAPE = 2.5          # printed a look-alike symbol or digit: "€" for "ề", "6" for "ố"
COST_OTHER = 6.0          # any other substitution
COST_INDEL = 5.0          # a letter added or dropped
# Weight of the rule prior against fitted counts (pseudo-observations per true character).
PRIOR_WEIGHT = 3.0


@lru_cache(maxsize=4096)
def base_char(ch: str) -> str:
    """Lower-case letter without any mark ("ệ" → "e", "đ" → "d")."""
    low = ch.lower()
    if low == "đ":
        return "d"
    return unicodedata.normalize("NFD", low)[0] if low else low


@lru_cache(maxsize=4096)
def _marks(ch: str) -> int:
    return len(unicodedata.normalize("NFD", ch.lower())) - 1 + (ch.lower() == "đ")


def skeleton(token: str) -> str:
    """Letters of ``token`` without marks, lower case ("Được" → "duoc")."""
    return "".join(base_char(c) for c in token)


def rule_cost(o: str, t: str) -> float:
    """Cost of OCR printing ``o`` for true ``t`` (either may be EPS) by the general rules."""
    if o == t:
        return 0.0
    if o == EPS or t == EPS:
        return COST_INDEL
    bo, bt = base_char(o), base_char(t)
    if bo == bt:
        return COST_MARK_LOST * (_marks(t) - _marks(o)) if _marks(o) == 0 else COST_MARK_CHANGED
    if bt in SHAPE_LETTERS.get(o.lower(), "") or bt in SHAPE_LETTERS.get(bo, ""):
        return COST_SHAPE + 0.3 * _marks(t)
    return COST_OTHER


class Channel:
    """Edit costs from the general rules, refined by fitted (true → printed) counts."""

    def __init__(self, counts: dict[str, dict[str, int]] | None = None,
                 rewrites: dict[str, dict[str, int]] | None = None) -> None:
        self.counts = {t: dict(row) for t, row in (counts or {}).items()}
        # printed skeleton substring -> {true skeleton substring: count}, e.g. "ii" -> {"u": 12}
        self.rewrites = {p: dict(row) for p, row in (rewrites or {}).items()}
        self._totals = {t: sum(row.values()) for t, row in self.counts.items()}
        self._cache: dict[tuple[str, str], float] = {}

    def sub_cost(self, o: str, t: str) -> float:
        key = (o, t)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._fitted_cost(o, t)
            self._cache[key] = hit
        return hit

    def _fitted_cost(self, o: str, t: str) -> float:
        prior = math.exp(-rule_cost(o, t))
        row = self.counts.get(t)
        if not row:
            return -math.log(prior)
        p = (row.get(o, 0) + PRIOR_WEIGHT * prior) / (self._totals[t] + PRIOR_WEIGHT)
        return -math.log(p)

    def cost(self, printed: str, true: str) -> float:
        """Weighted edit distance from lower-case ``true`` syllable to lower-case ``printed`` token."""
        return _distance(printed, true, self.sub_cost)

    def to_json(self) -> dict:
        return {"format": CONFUSION_FORMAT, "counts": self.counts, "rewrites": self.rewrites}

    def skeleton_variants(self, sk: str, limit: int = 8) -> list[str]:
        """``sk`` and the skeletons one fitted multi-letter rewrite away ("ciia" → "cua")."""
        out = [sk]
        for printed, row in self.rewrites.items():
            start = sk.find(printed)
            while start >= 0 and len(out) < limit:
                for true in row:
                    out.append(sk[:start] + true + sk[start + len(printed):])
                start = sk.find(printed, start + 1)
        return list(dict.fromkeys(out))[:limit]


def _distance(printed: str, true: str, cost) -> float:
    """Weighted Levenshtein distance, two rows at a time (no alignment)."""
    prev = [0.0]
    for t in true:
        prev.append(prev[-1] + cost(EPS, t))
    for o in printed:
        ins = cost(o, EPS)
        cur = [prev[0] + ins]
        for j, t in enumerate(true):
            cur.append(min(prev[j] + cost(o, t), prev[j + 1] + ins, cur[j] + cost(EPS, t)))
        prev = cur
    return prev[-1]


def _edit(printed: str, true: str, cost) -> tuple[float, list[tuple[str, str]]]:
    """Levenshtein DP with ``cost(o, t)``; returns the distance and the (printed, true) alignment."""
    n, m = len(printed), len(true)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = d[i - 1][0] + cost(printed[i - 1], EPS)
    for j in range(1, m + 1):
        d[0][j] = d[0][j - 1] + cost(EPS, true[j - 1])
    for i in range(1, n + 1):
        o = printed[i - 1]
        for j in range(1, m + 1):
            t = true[j - 1]
            d[i][j] = min(d[i - 1][j - 1] + cost(o, t), d[i - 1][j] + cost(o, EPS), d[i][j - 1] + cost(EPS, t))
    return d[n][m], _backtrace(d, printed, true, cost)


def _backtrace(d: list[list[float]], printed: str, true: str, cost) -> list[tuple[str, str]]:
    i, j, pairs = len(printed), len(true), []
    while i > 0 or j > 0:
        if i > 0 and j > 0 and math.isclose(d[i][j], d[i - 1][j - 1] + cost(printed[i - 1], true[j - 1])):
            pairs.append((printed[i - 1], true[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and math.isclose(d[i][j], d[i - 1][j] + cost(printed[i - 1], EPS)):
            pairs.append((printed[i - 1], EPS))
            i -= 1
        else:
            pairs.append((EPS, true[j - 1]))
            j -= 1
    return pairs[::-1]


def align(printed: str, true: str, channel: Channel | None = None) -> list[tuple[str, str]]:
    """Character alignment of a printed token to its true form as (printed char, true char) pairs."""
    return _edit(printed, true, (channel or Channel()).sub_cost)[1]


def fit_confusion(pairs: Iterable[tuple[str, str]], rounds: int = 2) -> Channel:
    """Fit true→printed character counts from (printed token, true token) pairs (lower case)."""
    pairs = list(pairs)
    channel = Channel()
    for _ in range(rounds):
        counts: dict[str, Counter] = defaultdict(Counter)
        for printed, true in pairs:
            for o, t in align(printed, true, channel):
                counts[t][o] += 1
        channel = Channel({t: dict(row) for t, row in counts.items()})
    channel.rewrites = _fit_rewrites(pairs, channel)
    return channel


# A multi-letter rewrite is kept when seen this often in the fitting pairs.
MIN_REWRITE_COUNT = 2


def _fit_rewrites(pairs: list[tuple[str, str]], channel: Channel) -> dict[str, dict[str, int]]:
    """Runs of non-identical aligned letters (printed skeleton → true skeleton) longer than one letter."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for printed, true in pairs:
        run_p, run_t = [], []
        for o, t in align(printed, true, channel) + [("#", "#")]:
            if base_char(o) == base_char(t) and o != EPS:
                p_sk, t_sk = ocr_skeleton("".join(run_p)), skeleton("".join(run_t))
                if max(len(run_p), len(run_t)) > 1 and run_p and p_sk != t_sk:
                    counts[p_sk][t_sk] += 1
                run_p, run_t = [], []
            else:
                run_p.append(o)
                run_t.append(t)
    return {p: {t: c for t, c in row.items() if c >= MIN_REWRITE_COUNT}
            for p, row in sorted(counts.items()) if any(c >= MIN_REWRITE_COUNT for c in row.values())}


def ocr_skeleton(token: str) -> str:
    """Skeleton of a printed token, reading look-alike symbols and digits as their first letter."""
    out = []
    for ch in token:
        if ch.isalpha() and ch not in OCR_SYMBOLS:
            out.append(base_char(ch))
        else:
            out.append(SHAPE_LETTERS.get(ch, ch)[0])
    return "".join(out)


def load_channel(path: Path | str = DEFAULT_CONFUSION_PATH) -> Channel:
    """Channel with fitted counts from ``path``; rule costs alone when the file is absent."""
    path = Path(path)
    if not path.is_file():
        return Channel()
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("format") != CONFUSION_FORMAT:
        raise ValueError(f"{path} is not a {CONFUSION_FORMAT} file")
    return Channel(doc["counts"], doc.get("rewrites"))


class CandidateIndex:
    """Syllables of a vocabulary by skeleton, found by symmetric-deletion lookup (SymSpell)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.by_skeleton: dict[str, list[str]] = defaultdict(list)
        for word in vocabulary:
            self.by_skeleton[skeleton(word)].append(word)
        self._deletes: dict[str, set[str]] = defaultdict(set)
        for sk in self.by_skeleton:
            for variant in _deletions(sk, 2):
                self._deletes[variant].add(sk)

    def skeletons_near(self, sk: str, max_dist: int) -> dict[str, int]:
        """Known skeletons within ``max_dist`` edits of ``sk``, with their distance."""
        found: dict[str, int] = {}
        for variant in _deletions(sk, max_dist):
            for cand in self._deletes.get(variant, ()):
                if cand not in found:
                    found[cand] = _levenshtein(sk, cand)
        return {c: d for c, d in found.items() if d <= max_dist}

    def candidates(self, sk: str, max_dist: int) -> list[str]:
        return [w for s in self.skeletons_near(sk, max_dist) for w in self.by_skeleton[s]]


def _deletions(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance (insert, delete, substitute = 1) between two strings or word lists."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


_levenshtein = lru_cache(maxsize=262144)(edit_distance)  # syllable skeletons repeat a great deal


def _token_cost(printed: str, true: str) -> float:
    return Channel().cost(printed.lower(), true.lower()) / max(len(true), 1)


def align_tokens(printed: list[str], true: list[str], gap: float = 1.5) -> list[tuple[int | None, int | None]]:
    """Align two token sequences (Needleman–Wunsch, per-letter channel cost); pairs of indices or None."""
    n, m = len(printed), len(true)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = i * gap
    for j in range(1, m + 1):
        d[0][j] = j * gap
    sub = [[min(_token_cost(printed[i], true[j]), 3 * gap) for j in range(m)] for i in range(n)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j - 1] + sub[i - 1][j - 1], d[i - 1][j] + gap, d[i][j - 1] + gap)
    out: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and math.isclose(d[i][j], d[i - 1][j - 1] + sub[i - 1][j - 1]):
            out.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and math.isclose(d[i][j], d[i - 1][j] + gap):
            out.append((i - 1, None))
            i -= 1
        else:
            out.append((None, j - 1))
            j -= 1
    return out[::-1]
