"""Syllable trigram language model for OCR diacritic restoration.

Built from clean Vietnamese administrative text by a command::

    python -m ingest.restore_model build --out ingest/data/restore_lm.json.gz \\
        --corpus corpus --plans-dev ../shared/external/plans-dev \\
        --alqac ../shared/external/alqac2024/docs --xquad ../shared/external/xquad-vi/xquad.vi.json

Stored as gzip JSON (no pickle): ``{"format", "version", "sha256", "payload"}`` where ``sha256`` is the
digest of the canonical JSON of ``payload`` (counts, sources, settings).  :func:`load_model` recomputes
it, so a truncated or edited file is refused with :class:`ModelError`.  Scoring is stupid backoff
(Brants et al. 2007) over counts pruned to keep the committed file small.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import math
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.restore_channel import DEFAULT_CONFUSION_PATH, Channel, align_tokens, fit_confusion, ocr_words
from ingest.syllables import is_syllable

log = logging.getLogger(__name__)

MODEL_FORMAT = "kehoach-restore-lm"
MODEL_VERSION = "restore-lm-v1"
DEFAULT_MODEL_PATH = Path(__file__).parent / "data" / "restore_lm.json.gz"
BOS, EOS, NUM = "<s>", "</s>", "<num>"
# Stupid-backoff factor (Brants et al.): the standard 0.4.
BACKOFF = 0.4
# Pruning: n-grams seen fewer times than this are dropped (keeps the file < ~15 MB).
MIN_BIGRAM, MIN_TRIGRAM = 1, 2
# Plans are the target domain: their counts weigh more than statutes and encyclopaedia text.
PLAN_WEIGHT = 3

_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)*|[.;:!?\n]")
_BREAK = frozenset(".;:!?\n")


class ModelError(ValueError):
    """The restorer's model file is missing, unreadable or fails its checksum."""


def lm_tokens(text: str) -> list[str]:
    """Lower-case NFC syllables of ``text`` with numbers as <num> and sentence breaks as </s>."""
    out: list[str] = []
    for tok in _TOKEN_RE.findall(unicodedata.normalize("NFC", text).lower()):
        if tok in _BREAK:
            if out and out[-1] != EOS:
                out.append(EOS)
        elif tok[0].isdigit():
            out.append(NUM)
        else:
            out.append(tok)
    return out


# A text is OCR-garbled when many tokens are not syllables or few carry diacritics.  Clean Vietnamese
# plans measure <= 4 % invalid and <= 17 % diacritic-free tokens; the OCR plans >= 40 % and >= 75 %.
GARBLED_INVALID_SHARE = 0.15
GARBLED_PLAIN_SHARE = 0.45


def garble_stats(text: str) -> tuple[float, float, int]:
    """(share of tokens that are not valid syllables, share without any diacritic, token count)."""
    toks = [t for t in lm_tokens(text) if t not in (EOS, NUM) and len(t) > 1]
    if not toks:
        return 0.0, 0.0, 0
    bad = sum(1 for t in toks if not is_syllable(t))
    plain = sum(1 for t in toks if t.isascii())
    return bad / len(toks), plain / len(toks), len(toks)


def looks_garbled(text: str) -> bool:
    """True when ``text`` reads like OCR output with broken diacritics."""
    bad, plain, n = garble_stats(text)
    return n > 0 and (bad > GARBLED_INVALID_SHARE or plain > GARBLED_PLAIN_SHARE)


@dataclass
class LanguageModel:
    """Pruned syllable n-gram counts with stupid-backoff scoring (log10-free natural logs)."""

    unigrams: dict[str, int]
    bigrams: dict[str, int]
    trigrams: dict[str, int]
    sources: list[dict] = field(default_factory=list)
    version: str = MODEL_VERSION
    sha256: str = ""

    def __post_init__(self) -> None:
        self.total = sum(self.unigrams.values()) or 1
        self._context: Counter[str] = Counter()
        for key, count in self.bigrams.items():
            self._context[key.split(" ", 1)[0]] += count
        self._context2: Counter[str] = Counter()
        for key, count in self.trigrams.items():
            self._context2[key.rsplit(" ", 1)[0]] += count
        self.oov_logp = math.log(0.5 / self.total)

    def unigram_logp(self, w: str) -> float:
        c = self.unigrams.get(w, 0)
        return math.log(c / self.total) if c else self.oov_logp

    def logp(self, u: str, v: str, w: str) -> float:
        """Stupid-backoff log score of ``w`` after ``u v``."""
        c3 = self.trigrams.get(f"{u} {v} {w}")
        if c3:
            return math.log(c3 / self._context2[f"{u} {v}"])
        c2 = self.bigrams.get(f"{v} {w}")
        if c2:
            return math.log(BACKOFF * c2 / self._context[v])
        return math.log(BACKOFF * BACKOFF) + self.unigram_logp(w)

    def knows(self, w: str) -> bool:
        return w in self.unigrams


def _count(sequences: Iterable[tuple[list[str], int]]) -> tuple[Counter, Counter, Counter]:
    uni: Counter[str] = Counter()
    bi: Counter[str] = Counter()
    tri: Counter[str] = Counter()
    for toks, weight in sequences:
        seq = [BOS, BOS] + toks + [EOS]
        for i in range(2, len(seq)):
            w = seq[i]
            if w == BOS:
                continue
            uni[w] += weight
            bi[f"{seq[i - 1]} {w}"] += weight
            tri[f"{seq[i - 2]} {seq[i - 1]} {w}"] += weight
    return uni, bi, tri


def _prune(uni: Counter, bi: Counter, tri: Counter) -> tuple[dict, dict, dict]:
    keep_uni = {w: c for w, c in uni.items() if is_syllable(w) or c >= 3 or w in (EOS, NUM)}
    keep_bi = {k: c for k, c in bi.items() if c >= MIN_BIGRAM and k.split(" ")[-1] in keep_uni}
    keep_tri = {k: c for k, c in tri.items() if c >= MIN_TRIGRAM and k.split(" ", 1)[1] in keep_bi}
    return keep_uni, keep_bi, keep_tri


def _payload(lm_counts: tuple[dict, dict, dict], sources: list[dict]) -> dict:
    uni, bi, tri = lm_counts
    return {"version": MODEL_VERSION, "backoff": BACKOFF, "sources": sources,
            "unigrams": dict(sorted(uni.items())), "bigrams": dict(sorted(bi.items())),
            "trigrams": dict(sorted(tri.items()))}


def _digest(payload: dict) -> str:
    canon = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def save_model(payload: dict, out: Path) -> str:
    """Write ``payload`` as deterministic gzip JSON with its checksum; return the checksum."""
    digest = _digest(payload)
    doc = {"format": MODEL_FORMAT, "version": payload["version"], "sha256": digest, "payload": payload}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    raw = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    tmp.replace(out)
    return digest


def _read_doc(path: Path) -> dict:
    if not path.is_file():
        raise ModelError(f"restore model not found: {path} (build it: python -m ingest.restore_model build)")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"restore model {path} is not a readable gzip JSON file: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
        raise ModelError(f"restore model {path} is not a {MODEL_FORMAT} file")
    return doc


def load_model(path: Path | str = DEFAULT_MODEL_PATH, expect_sha256: str | None = None) -> LanguageModel:
    """Load and verify a model file; :class:`ModelError` with a readable reason when it is bad."""
    path = Path(path)
    doc = _read_doc(path)
    payload = doc.get("payload")
    if not isinstance(payload, dict) or doc.get("version") != MODEL_VERSION:
        raise ModelError(f"restore model {path} has version {doc.get('version')!r}, expected {MODEL_VERSION!r}")
    digest = _digest(payload)
    if digest != doc.get("sha256"):
        raise ModelError(f"restore model {path} fails its checksum (stored {doc.get('sha256')}, computed {digest})")
    if expect_sha256 and digest != expect_sha256:
        raise ModelError(f"restore model {path} has checksum {digest}, the index expects {expect_sha256}")
    try:
        return LanguageModel(payload["unigrams"], payload["bigrams"], payload["trigrams"],
                             payload.get("sources", []), payload["version"], digest)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"restore model {path} lacks its n-gram tables: {exc}") from exc


# ---- training text -------------------------------------------------------------------------------

def _plan_texts(folder: Path, exclude: set[str]) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.glob("*.txt")):
        if path.name in exclude:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if looks_garbled(text):
            log.info("restore_model: skipping %s (OCR text with broken diacritics)", path.name)
            continue
        yield path.name, text


def _xquad_texts(path: Path) -> Iterator[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    seen: set[str] = set()
    for article in data.get("data", []):
        for para in article.get("paragraphs", []):
            ctx = para.get("context", "")
            if ctx not in seen:
                seen.add(ctx)
                yield ctx


def _gazetteer_texts() -> Iterator[str]:
    try:
        from vietnam_provinces import Province, Ward
    except ImportError:
        log.info("restore_model: vietnam-provinces not installed; no gazetteer names")
        return
    for item in list(Province.iter_all()) + list(Ward.iter_all()):
        yield str(item.name)


def training_sequences(args: argparse.Namespace, sources: list[dict]) -> Iterator[tuple[list[str], int]]:
    """Token sequences with weights from every configured source; records what was read in ``sources``."""
    exclude = set(args.exclude or [])
    for folder in (args.corpus, args.plans_dev):
        if folder and Path(folder).is_dir():
            for name, text in _plan_texts(Path(folder), exclude):
                sources.append({"kind": "plan", "name": f"{Path(folder).name}/{name}"})
                yield lm_tokens(text), PLAN_WEIGHT
    if args.alqac and Path(args.alqac).is_dir():
        files = sorted(Path(args.alqac).glob("*.txt"))
        sources.append({"kind": "alqac2024", "name": Path(args.alqac).name, "files": len(files)})
        for path in files:
            yield lm_tokens(path.read_text(encoding="utf-8", errors="replace")), 1
    if args.xquad and Path(args.xquad).is_file():
        sources.append({"kind": "xquad-vi", "name": Path(args.xquad).name})
        for ctx in _xquad_texts(Path(args.xquad)):
            yield lm_tokens(ctx), 1
    if not args.no_gazetteer:
        names = list(_gazetteer_texts())
        if names:
            sources.append({"kind": "gazetteer", "name": "vietnam-provinces", "names": len(names)})
        for name in names:
            yield lm_tokens(name), 1


def build(args: argparse.Namespace) -> str:
    sources: list[dict] = []
    counts = _count(training_sequences(args, sources))
    if not counts[0]:
        raise ModelError("no training text found: check --corpus/--plans-dev/--alqac/--xquad paths")
    pruned = _prune(*counts)
    digest = save_model(_payload(pruned, sources), Path(args.out))
    log.info("restore_model: %d unigrams, %d bigrams, %d trigrams -> %s (sha256 %s)",
             len(pruned[0]), len(pruned[1]), len(pruned[2]), args.out, digest)
    return digest


# ---- confusion table from hand-corrected lines ------------------------------------------------------

def sample_split(line: int) -> str:
    """Half of a hand-corrected sample a line belongs to: alternating blocks of 20 plan lines."""
    return "dev" if (line // 20) % 2 == 0 else "test"


def read_sample(path: Path | str, split: str | None = None) -> list[dict]:
    """Rows {plan, line, printed, corrected} of a JSONL sample, optionally one half only."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
                keep = split is None or sample_split(int(row["line"])) == split
                if keep:
                    rows.append({k: row[k] for k in ("plan", "line", "printed", "corrected")})
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ModelError(f"{path}:{n}: not a sample row ({exc})") from exc
    return rows


def token_pairs(rows: Iterable[dict], channel: Channel | None = None, max_cost: float = 5.0) -> list[tuple[str, str]]:
    """(printed, corrected) lower-case word pairs aligned line by line; implausible pairs dropped."""
    channel = channel or Channel()
    out = []
    for row in rows:
        printed, true = ocr_words(row["printed"]), ocr_words(row["corrected"])
        for i, j in align_tokens(printed, true):
            if i is None or j is None:
                continue
            p, t = printed[i].lower(), unicodedata.normalize("NFC", true[j].lower())
            if channel.cost(p, t) / max(len(t), 1) <= max_cost:
                out.append((p, t))
    return out


def fit(args: argparse.Namespace) -> int:
    rows = read_sample(args.sample, args.split)
    channel = Channel()
    for _ in range(3):  # alignment and costs refine each other
        pairs = token_pairs(rows, channel)
        channel = fit_confusion(pairs)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = channel.to_json() | {"fitted_on": {"sample": Path(args.sample).name, "split": args.split,
                                             "lines": len(rows), "word_pairs": len(pairs)}}
    out.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    log.info("restore_model: confusion fitted on %d lines (%d word pairs) -> %s", len(rows), len(pairs), out)
    return len(pairs)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ingest.restore_model", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="count n-grams over clean text and write the model file")
    b.add_argument("--out", default=str(DEFAULT_MODEL_PATH))
    b.add_argument("--corpus", default="corpus", help="bundled plans (OCR plans are detected and skipped)")
    b.add_argument("--plans-dev", default="../shared/external/plans-dev")
    b.add_argument("--alqac", default="../shared/external/alqac2024/docs")
    b.add_argument("--xquad", default="../shared/external/xquad-vi/xquad.vi.json")
    b.add_argument("--exclude", action="append", help="plan file name held out of training (repeatable)")
    b.add_argument("--no-gazetteer", action="store_true", help="do not add vietnam-provinces place names")
    f = sub.add_parser("fit-confusion", help="fit the OCR confusion table from hand-corrected lines")
    f.add_argument("--sample", default="evals/ocr_restore_sample.jsonl")
    f.add_argument("--split", default="dev", choices=("dev", "test"), help="half to fit on (report the other)")
    f.add_argument("--out", default=str(DEFAULT_CONFUSION_PATH))
    i = sub.add_parser("info", help="print a model file's version and checksum")
    i.add_argument("path", nargs="?", default=str(DEFAULT_MODEL_PATH))
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    args = _parser().parse_args(argv)
    try:
        if args.cmd == "build":
            print(json.dumps({"out": args.out, "version": MODEL_VERSION, "sha256": build(args)}))
        elif args.cmd == "fit-confusion":
            print(json.dumps({"out": args.out, "word_pairs": fit(args)}))
        else:
            lm = load_model(args.path)
            print(json.dumps({"path": args.path, "version": lm.version, "sha256": lm.sha256,
                              "unigrams": len(lm.unigrams), "bigrams": len(lm.bigrams),
                              "trigrams": len(lm.trigrams), "sources": lm.sources}, ensure_ascii=False))
    except (ModelError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
