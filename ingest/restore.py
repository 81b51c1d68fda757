"""Restore Vietnamese diacritics in OCR-garbled text (noisy channel + syllable trigram LM).

``restore(text)`` returns a :class:`Restored`: the restored text and one :class:`Span` per changed
token, with offsets into the ORIGINAL text, so a display can show the restored reading with the
printed one a click away, and citations keep pointing at the original.

How: every token of a garbled block gets candidate syllables from :class:`~ingest.restore_channel.
CandidateIndex` (skeleton within a small edit distance), each scored by the OCR channel cost
(:class:`~ingest.restore_channel.Channel`); a beam search over the syllable trigram model
(:mod:`ingest.restore_model`) picks the sequence.  A token's confidence is the posterior of the
chosen syllable against its alternatives with the chosen neighbours fixed.  Blocks that already read
as clean Vietnamese (:func:`~ingest.restore_model.looks_garbled` is false) pass through unchanged.
Person names (a capitalised run of 3–4 words led by a common surname) are restored only when every
syllable is confident (:data:`NAME_CONFIDENCE`); otherwise the whole name is kept as printed.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ingest.restore_channel import (
    OCR_SYMBOLS,
    OCR_WORD,
    CandidateIndex,
    Channel,
    load_channel,
    ocr_skeleton,
    skeleton,
)
from ingest.restore_model import BOS, EOS, NUM, LanguageModel, load_model, looks_garbled
from ingest.syllables import is_syllable

log = logging.getLogger(__name__)

RESTORER_VERSION = "restore-v1"
# Below this posterior a restored token is flagged for the reader ("as printed" worth a look). On the
# sample's dev half 0.9 flags 2.6 % of restored syllables and catches 47 % of the wrong ones.
LOW_CONFIDENCE = 0.9
# Person names are kept as printed unless every syllable's posterior reaches this: a wrong name is worse
# than a garbled one, and names are the syllables the LM knows least.
NAME_CONFIDENCE = 0.95
# Weight of the channel log-probability against the LM's (tuned on the sample's dev half).
CHANNEL_WEIGHT = 1.5
BEAM = 12
MAX_CANDIDATES = 12
# Only the syllables of this many closest letter skeletons get the full channel cost (speed).
MAX_SKELETONS = 25
# Blocks with fewer letter tokens than this are judged together with the whole text.
MIN_BLOCK_TOKENS = 8
# Printed digit runs up to this length, standing alone, may be misread words ("13" = "là", "16n" = "lớn");
# kept as numbers unless the LM clearly prefers a word.
MAX_DIGIT_WORD = 3
_NUMBER_GLUE = frozenset("/.,%-:()")
# Extra channel cost of reading a glued one-letter syllable as its own word ("vuy" = "vụ y").
COST_SPLIT = 2.0
_GLUED_SYLLABLES = ("y",)
# Common Vietnamese surnames (general list): a capitalised run they lead is taken as a person's name.
SURNAMES = frozenset(
    "nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh doan trinh truong "
    "mai lam luong ha cao quach tong ta thai lai kieu chu la lu ton luu".split())

_TOKEN_RE = re.compile(rf"{OCR_WORD}|[.;:!?]|\n\s*\n")


@dataclass(frozen=True)
class Span:
    """One restored token: ``text[start:end] == original`` in the ORIGINAL text."""

    start: int
    end: int
    original: str
    restored: str
    confidence: float
    low_confidence: bool


@dataclass
class Restored:
    """Result of :func:`restore`: restored text, changed spans, names kept as printed."""

    text: str
    original: str
    spans: list[Span] = field(default_factory=list)
    kept_names: list[Span] = field(default_factory=list)
    garbled: bool = False

    def to_original(self, pos: int) -> int:
        """Map an offset in the restored text back to the original text."""
        shift = 0
        for sp in self.spans:
            new_start = sp.start + shift
            if pos < new_start:
                break
            if pos < new_start + len(sp.restored):
                return sp.start + min(pos - new_start, len(sp.original))
            shift += len(sp.restored) - len(sp.original)
        return pos - shift


@dataclass
class _Item:
    start: int
    end: int
    text: str
    kind: str  # "word", "num", "break", "fixed"
    cands: list[tuple[str, float]] = field(default_factory=list)  # (lower-case syllable, channel cost)


class Restorer:
    """A loaded model and channel; :meth:`restore` is thread-safe (no mutable state besides caches)."""

    def __init__(self, lm: LanguageModel, channel: Channel) -> None:
        self.lm = lm
        self.channel = channel
        vocab = [w for w in lm.unigrams if is_syllable(w)]
        self.index = CandidateIndex(vocab)
        self._skeleton_freq: dict[str, int] = {}
        for w in vocab:
            sk = skeleton(w)
            self._skeleton_freq[sk] = self._skeleton_freq.get(sk, 0) + lm.unigrams[w]
        self._cands = lru_cache(maxsize=50000)(self._candidates)

    @property
    def info(self) -> dict:
        """Versions and checksum to record in an index manifest."""
        return {"restorer": RESTORER_VERSION, "model_version": self.lm.version, "model_sha256": self.lm.sha256}

    def restore(self, text: str) -> Restored:
        text = unicodedata.normalize("NFC", text)
        items = self._items(text)
        blocks = _blocks(text, items)
        whole = looks_garbled(text)
        chosen: dict[int, tuple[str, float]] = {}
        any_garbled = False
        for block in blocks:
            if not self._block_garbled(text, block, whole):
                continue
            any_garbled = True
            chosen.update(self._decode_block(block))
        return _assemble(text, items, chosen, any_garbled)

    def _block_garbled(self, text: str, block: list[_Item], whole: bool) -> bool:
        words = [it for it in block if it.kind == "word"]
        if not words:
            return False
        if len(words) < MIN_BLOCK_TOKENS:
            return whole
        return looks_garbled(text[block[0].start:block[-1].end])

    # ---- tokens and candidates ------------------------------------------------------------------

    def _items(self, text: str) -> list[_Item]:
        items = []
        for m in _TOKEN_RE.finditer(text):
            tok = m.group()
            items.append(_Item(m.start(), m.end(), tok, _kind(text, m.start(), m.end(), tok)))
        return items

    def _candidates(self, token: str) -> tuple[tuple[str, float], ...]:
        low = token.lower()
        near: dict[str, int] = {}
        for i, sk in enumerate(self.channel.skeleton_variants(ocr_skeleton(low))):
            max_dist = (1 if len(sk) <= 2 else 2) if i == 0 else 1
            for cand, dist in self.index.skeletons_near(sk, max_dist).items():
                near[cand] = min(near.get(cand, 9), dist + (i > 0))
        closest = sorted(near, key=lambda c: (near[c], -self._skeleton_freq.get(c, 0)))[:MAX_SKELETONS]
        scored = {w: self.channel.cost(low, w) for c in closest for w in self.index.by_skeleton[c]}
        if is_syllable(low) or self.lm.knows(low):
            scored[low] = 0.0
        if low.isdigit():
            scored[NUM] = 0.0
        scored.update(self._split_candidates(low))
        best = sorted(scored.items(), key=lambda kv: kv[1] - 0.3 * self.lm.unigram_logp(kv[0]))
        return tuple(best[:MAX_CANDIDATES])

    def _split_candidates(self, low: str) -> dict[str, float]:
        """Readings of a token as a word plus a glued one-letter syllable ("biy" → "bị y")."""
        out: dict[str, float] = {}
        for tail in _GLUED_SYLLABLES:
            head = low[:-len(tail)]
            if len(head) < 2 or not low.endswith(tail) or not self.lm.knows(tail):
                continue
            for w in self.index.candidates(ocr_skeleton(head), 1):
                out[f"{w} {tail}"] = self.channel.cost(head, w) + COST_SPLIT
        return out

    # ---- decoding -------------------------------------------------------------------------------

    def _decode_block(self, block: list[_Item]) -> dict[int, tuple[str, float]]:
        words = [it for it in block if it.kind == "word"]
        for it in words:
            it.cands = list(self._cands(it.text)) or [(it.text.lower(), 0.0)]
        seq = [it for it in block if it.kind in ("word", "num", "break", "fixed")]
        path = self._beam(seq)
        out: dict[int, tuple[str, float]] = {}
        for i, it in enumerate(seq):
            if it.kind == "word":
                out[it.start] = (path[i], self._posterior(seq, path, i))
        return out

    def _chain(self, u: str, v: str, tokens: list[str]) -> tuple[float, str, str]:
        """LM log score of ``tokens`` after context ``u v``, and the new context."""
        total = 0.0
        for w in tokens:
            total += self.lm.logp(u, v, w)
            u, v = v, w
        return total, u, v

    def _beam(self, seq: list[_Item]) -> list[str]:
        beams: list[tuple[float, str, str, tuple]] = [(0.0, BOS, BOS, ())]
        for it in seq:
            options = _options(it)
            grown: dict[tuple[str, str], tuple[float, str, str, tuple]] = {}
            for score, u, v, hist in beams:
                for w, cost in options:
                    lm_score, nu, nv = self._chain(u, v, w.split(" "))
                    s = score - CHANNEL_WEIGHT * cost + lm_score
                    if (nu, nv) not in grown or grown[(nu, nv)][0] < s:
                        grown[(nu, nv)] = (s, nu, nv, (hist, w))
            beams = sorted(grown.values(), key=lambda b: -b[0])[:BEAM]
        return _unroll(beams[0][3])

    def _posterior(self, seq: list[_Item], path: list[str], i: int) -> float:
        left = [BOS, BOS] + [t for w in path[:i] for t in w.split(" ")]
        right = [t for w in path[i + 1:i + 3] for t in w.split(" ")][:2]
        scores = []
        for w, cost in seq[i].cands:
            lm_score = self._chain(left[-2], left[-1], w.split(" ") + right)[0]
            scores.append((-CHANNEL_WEIGHT * cost + lm_score, w))
        top = max(s for s, _ in scores)
        z = sum(math.exp(s - top) for s, _ in scores)
        mine = next(s for s, w in scores if w == path[i])
        return math.exp(mine - top) / z


def _kind(text: str, start: int, end: int, tok: str) -> str:
    if tok.strip() == "" or tok in ".;:!?":
        return "break"
    before = text[start - 1:start]
    after = text[end:end + 1]
    if tok.isdigit():
        standalone = len(tok) <= MAX_DIGIT_WORD and before not in _NUMBER_GLUE and after not in _NUMBER_GLUE
        return "word" if standalone else "num"
    if before == "/" or after == "/" or (tok.isupper() and before == "-"):
        return "fixed"  # parts of document numbers such as 72-NQ/TW
    if not any(c.isalpha() or c in OCR_SYMBOLS for c in tok):
        return "num"
    return "word"


def _options(it: _Item) -> list[tuple[str, float]]:
    if it.kind == "word":
        return it.cands
    if it.kind == "num":
        return [(NUM, 0.0)]
    if it.kind == "break":
        return [(EOS, 0.0)]
    return [(it.text.lower(), 0.0)]


def _unroll(hist: tuple) -> list[str]:
    out = []
    while hist:
        hist, w = hist
        out.append(w)
    return out[::-1]


def _blocks(text: str, items: list[_Item]) -> list[list[_Item]]:
    blocks: list[list[_Item]] = [[]]
    for it in items:
        if it.kind == "break" and "\n" in it.text:
            blocks.append([])
        else:
            blocks[-1].append(it)
    return [b for b in blocks if b]


def _case_like(printed: str, restored: str) -> str:
    letters = [c for c in printed if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return restored.upper()
    if printed[:1] == "I" and restored[:1] == "l":
        return restored  # capital I printed for a lower-case l ("Iuc" = "lực")
    if printed[:1].isupper() or (printed[:1] in OCR_SYMBOLS + "0123456789" and printed[1:2].isupper()):
        return restored[:1].upper() + restored[1:]
    return restored


def _name_runs(text: str, items: list[_Item]) -> list[list[_Item]]:
    """Runs of 3–4 capitalised words separated by spaces only and led by a common surname."""
    words = [it for it in items if it.kind == "word"]
    runs, i = [], 0
    while i < len(words):
        j = i + 1
        if _title_case(words[i].text):
            while j < len(words) and _title_case(words[j].text) and text[words[j - 1].end:words[j].start] == " ":
                j += 1
        run = words[i:j]
        if 3 <= len(run) <= 4 and ocr_skeleton(run[0].text.lower()) in SURNAMES:
            runs.append(run)
        i = j
    return runs


def _title_case(tok: str) -> bool:
    return tok[:1].isupper() and not tok.isupper()


def _kept_names(text: str, items: list[_Item], chosen: dict[int, tuple[str, float]]) -> set[int]:
    """Starts of name tokens to keep as printed: the whole name unless every syllable is confident."""
    kept: set[int] = set()
    for run in _name_runs(text, items):
        confs = [chosen[it.start][1] for it in run if it.start in chosen]
        if confs and min(confs) < NAME_CONFIDENCE:
            kept.update(it.start for it in run)
    return kept


def _assemble(text: str, items: list[_Item], chosen: dict[int, tuple[str, float]], garbled: bool) -> Restored:
    names = _kept_names(text, items, chosen)
    spans, kept, parts, last = [], [], [], 0
    for it in items:
        if it.start not in chosen:
            continue
        syl, conf = chosen[it.start]
        if syl == NUM:
            continue
        new = _case_like(it.text, syl)
        if new == it.text:
            continue
        span = Span(it.start, it.end, it.text, new, round(conf, 4), conf < LOW_CONFIDENCE)
        if it.start in names:
            kept.append(span)
            continue
        spans.append(span)
        parts.append(text[last:it.start])
        parts.append(new)
        last = it.end
    parts.append(text[last:])
    return Restored("".join(parts), text, spans, kept, garbled)


@lru_cache(maxsize=4)
def get_restorer(model_path: str | None = None, confusion_path: str | None = None) -> Restorer:
    """The process-wide restorer for a model file (loaded once, verified by checksum)."""
    lm = load_model(Path(model_path)) if model_path else load_model()
    channel = load_channel(Path(confusion_path)) if confusion_path else load_channel()
    log.info("restore: model %s sha256 %s, %d syllables", lm.version, lm.sha256[:12], len(lm.unigrams))
    return Restorer(lm, channel)


def restore(text: str, model_path: str | None = None) -> Restored:
    """Restore the diacritics of OCR-garbled ``text``; clean text comes back unchanged."""
    return get_restorer(model_path).restore(text)
