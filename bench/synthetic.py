"""Synthetic plans for scale tests, recombined from the real ones.

Each synthetic plan takes a real plan as its template (clean or OCR, never mixed) and rebuilds it item by
item: numbered items of a part may come from the same part of another real plan of the same kind, the items of
"TỔ CHỨC THỰC HIỆN" are shuffled, a few items are dropped, and items are renumbered.  Then the plan's identity is
varied: a new locality (provinces and communes from the gazetteer :mod:`ingest.places`, plus names
recombined from its syllables when more communes are asked for), a new number, a new date, a new signer,
commune agencies permuted, target percentages moved a few points.  The output is plain text that the real
ingest pipeline parses.

Every plan carries its *provenance*: which span of which real plan each piece of its text came from, so that
benchmarks can derive a stand-in vector for a synthetic chunk from the real chunk it was copied from.

    python -m bench.synthetic --chunks 200000 --out var/synth/plans
"""

from __future__ import annotations

import argparse
import bisect
import logging
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ingest.chunking import ChunkSettings, chunk_document
from ingest.pipeline import load_document
from ingest.places import gazetteer
from ingest.records import Chunk, Document, Section
from ingest.textnorm import fold

log = logging.getLogger("bench.synthetic")

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SWAP_P = 0.35  # an item comes from another plan's same part
DROP_P = 0.08  # an item is left out (parts keep at least two)
SHUFFLE_P = 0.5  # the "organisation" part's items are shuffled
OCR_TEMPLATE_P = 0.25
PERCENT_P = 0.5
_PART_KEYS = (("nhiem vu", "tasks"), ("muc tieu", "goals"), ("muc dich", "purpose"),
              ("to chuc thuc hien", "organisation"), ("kinh phi", "budget"))
_ITEM_NUM_RE = re.compile(r"^(\s*)(\d{1,2})(?=\s*[.\-)])")
_DATE_RE = re.compile(r"(ng[aà]y\s*)(\d{1,2})(\s*th\w{0,4}ng\s*)(\d{1,2})(\s*n\w{0,2}m\s*)(20\d\d)", re.IGNORECASE)
_NUMBER_RAW_RE = re.compile(r"(S[ốoóòô]|S[6obé0&]|\$6)(\s*:?\s*)(\d{1,4})(?=\s*[-–])")
_PERCENT_RE = re.compile(r"(?<![\d,.])(\d{1,3})((?:,\d+)?)(\s?%)")
_AGENCIES = ("Phòng Kinh tế", "Phòng Văn hóa - Xã hội", "Phòng Văn hoá - Xã hội", "Trạm Y tế", "Trung tâm Y tế",
             "Trung tâm Dịch vụ sự nghiệp công", "Văn phòng Đảng ủy", "Ban Xây dựng Đảng", "Công an xã")
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
           "Lò", "Quàng", "Hà", "Lường")
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Hữu", "Thanh", "Quốc", "Ngọc", "Hồng", "Xuân", "Mạnh", "Thu")
_GIVEN = ("An", "Bình", "Cường", "Dũng", "Giang", "Hạnh", "Hải", "Hòa", "Hùng", "Hương", "Khánh", "Lan", "Long",
          "Mai", "Nam", "Nga", "Phong", "Quang", "Sơn", "Tâm", "Thảo", "Thắng", "Trung", "Tú", "Tuấn", "Yến")


@dataclass(frozen=True)
class Span:
    """``text[start:end]`` of a synthetic plan was made from ``source``'s ``text[src_start:src_end]``."""

    start: int
    end: int
    source: str
    src_start: int
    src_end: int


@dataclass
class SyntheticPlan:
    doc_id: str
    source_file: str
    text: str
    template: str
    locality: str
    provenance: list[Span] = field(default_factory=list)

    def source_of(self, offset: int) -> tuple[str, int]:
        """(real doc id, offset in it) that the character at ``offset`` was copied from (proportionally)."""
        starts = [s.start for s in self.provenance]
        sp = self.provenance[max(0, bisect.bisect_right(starts, offset) - 1)]
        frac = (offset - sp.start) / max(sp.end - sp.start, 1)
        return sp.source, sp.src_start + int(frac * (sp.src_end - sp.src_start))


@dataclass
class Template:
    doc: Document
    ocr: bool
    level: str  # "xã" | "tỉnh" | ...
    place: str  # "Định Hóa"
    segments: list[tuple[str, str | None, Section | None, int, int]]  # (kind, part key, section, start, end)
    items: dict[str, list[tuple[int, int]]]  # part key → item spans


# ---- templates ---------------------------------------------------------------------------------
def _part_key(title: str) -> str:
    key = fold(title)
    return next((name for words, name in _PART_KEYS if words in key), key)


def _segments(doc: Document) -> tuple[list[tuple[str, str | None, Section | None, int, int]],
                                      dict[str, list[tuple[int, int]]]]:
    """The plan cut into header / item / other pieces that tile its text."""
    segs: list[tuple[str, str | None, Section | None, int, int]] = []
    items: dict[str, list[tuple[int, int]]] = {}
    tops = [s for s in doc.sections if len(s.path) == 1]
    pos = 0
    for top in tops:
        if top.start > pos:
            segs.append(("other", None, None, pos, top.start))
        kids = [s for s in doc.sections if len(s.path) == 2 and s.path[0] == top.path[0]
                and top.start <= s.start < top.end]
        key = _part_key(top.title) if top.kind == "part" else None
        if kids and key:
            segs.append(("head", key, top, top.start, kids[0].start))
            for k, nxt in zip(kids, [*kids[1:], None], strict=True):
                end = nxt.start if nxt else top.end
                segs.append(("item", key, k, k.start, end))
                items.setdefault(key, []).append((k.start, end))
        else:
            segs.append(("preamble" if top.kind == "preamble" else "other", key, top, top.start, top.end))
        pos = top.end
    if pos < len(doc.text):
        segs.append(("other", None, None, pos, len(doc.text)))
    return segs, items


def load_templates(corpus_dir: Path = DEFAULT_CORPUS) -> list[Template]:
    """The real plans of ``corpus_dir`` (text files), parsed by the real pipeline."""
    out = []
    for path in sorted(p for p in Path(corpus_dir).iterdir() if p.suffix.lower() in (".txt", ".md")):
        doc = load_document(path)
        loc = doc.meta.locality or "xã Không Tên"
        level, _, place = loc.partition(" ")
        segs, items = _segments(doc)
        out.append(Template(doc, doc.meta.ocr, level, place or level, segs, items))
    if not out:
        raise FileNotFoundError(f"{corpus_dir}: no plan text files to recombine")
    return out


# ---- names -------------------------------------------------------------------------------------
def _gazetteer() -> dict[str, list[str]]:
    """Province and commune names of the gazetteer (:mod:`ingest.places`: the 2025 units and the pre-2025
    provinces), each list sorted."""
    gaz = gazetteer()
    provinces = sorted({p.name for p in gaz.places if p.level in ("tỉnh", "thành phố")} | set(gaz.old.values()))
    communes = sorted({p.name for p in gaz.places if p.level not in ("tỉnh", "thành phố")} - set(provinces))
    return {"provinces": provinces, "communes": communes}


def commune_names(n: int = 3000, seed: int = 0) -> list[str]:
    """``n`` names of communes: the gazetteer's, in a deterministic order, then two-syllable names
    recombined from its place names when more are asked for."""
    g = _gazetteer()
    rng = random.Random(seed)
    names = list(g["communes"])
    rng.shuffle(names)
    names = names[:n]
    sylls = sorted({w for name in g["provinces"] + g["communes"] for w in name.split()})
    seen = set(names) | set(g["provinces"])
    while len(names) < n:
        cand = f"{rng.choice(sylls)} {rng.choice(sylls)}"
        if cand.split()[0] != cand.split()[1] and cand not in seen:
            seen.add(cand)
            names.append(cand)
    return names


def _keep_case_fold(text: str) -> str:
    return "".join(f.upper() if c.isupper() else f for c, f in zip(text, fold(text), strict=True))


def _place_variants(name: str) -> list[str]:
    plain = _keep_case_fold(name)
    forms = {name, name.upper(), plain, plain.upper(), plain.replace("D", "P"), plain.upper().replace("D", "P")}
    return sorted(forms, key=len, reverse=True)


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


# ---- one plan ----------------------------------------------------------------------------------
@dataclass
class _Identity:
    place: str
    number: int
    date: tuple[int, int, int]
    signer: str
    agencies: dict[str, str]


def _identity(t: Template, rng: random.Random, communes: list[str], provinces: list[str]) -> _Identity:
    place = rng.choice(provinces) if t.level == "tỉnh" else rng.choice(communes)
    year = rng.choice((2025, 2026))
    month = rng.randint(10, 12) if year == 2025 else rng.randint(1, 4)
    pool = [a for a in _AGENCIES if a in t.doc.text]
    perm = pool[:]
    rng.shuffle(perm)
    return _Identity(place, rng.randint(1, 180), (rng.randint(1, 28), month, year), _person(rng),
                     dict(zip(pool, perm, strict=True)))


def _pick_segments(t: Template, peers: list[Template], rng: random.Random
                   ) -> list[tuple[Template, str, int, int, int | None]]:
    """(source template, kind, start, end, new item number or None) in the new plan's order."""
    out: list[tuple[Template, str, int, int, int | None]] = []
    i = 0
    segs = t.segments
    while i < len(segs):
        kind, key, _, a, b = segs[i]
        if kind != "item":
            out.append((t, kind, a, b, None))
            i += 1
            continue
        run = []
        while i < len(segs) and segs[i][0] == "item" and segs[i][1] == key:
            run.append(segs[i])
            i += 1
        out.extend(_recombine_items(t, key or "", run, peers, rng))
    return out


def _recombine_items(t: Template, key: str, run: list, peers: list[Template], rng: random.Random
                     ) -> list[tuple[Template, str, int, int, int | None]]:
    picked: list[tuple[Template, int, int]] = []
    for j, (_, _, _, a, b) in enumerate(run):
        donors = [p for p in peers if p is not t and len(p.items.get(key, ())) > j]
        if donors and rng.random() < SWAP_P:
            d = rng.choice(donors)
            picked.append((d, *d.items[key][j]))
        else:
            picked.append((t, a, b))
    if key == "organisation" and rng.random() < SHUFFLE_P:
        rng.shuffle(picked)
    if len(picked) > 2:
        picked = [p for p in picked if rng.random() >= DROP_P] or picked[:2]
    return [(src, "item", a, b, n) for n, (src, a, b) in enumerate(picked, start=1)]


class _Rewriter:
    """Every substitution for one plan as a single regex pass (no replacement is rewritten again)."""

    def __init__(self, t: Template, templates: list[Template], ident: _Identity, rng: random.Random) -> None:
        self.rng = rng
        new_plain = _keep_case_fold(ident.place)
        table: dict[str, str] = {}
        for other in templates:
            for form in _place_variants(other.place):
                if form == other.place:
                    table[form] = ident.place
                elif form == other.place.upper():
                    table[form] = ident.place.upper()
                else:
                    table[form] = new_plain.upper() if form.isupper() else new_plain
        meta = t.doc.meta
        if meta.number:
            kind = meta.number.split("-", 1)[1]
            table[meta.number] = f"{ident.number:02d}-{kind}"
        if meta.number_raw:
            raw = _NUMBER_RAW_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{ident.number:02d}", meta.number_raw, 1)
            table[meta.number_raw] = raw
        if meta.signer:
            table[meta.signer] = ident.signer if not t.ocr else _keep_case_fold(ident.signer)
        table.update(ident.agencies)
        table = {_ws(k): v for k, v in table.items() if k and k != v}
        self.table = table
        # a name may be broken across lines in the file ("xa Ha\nPong"): spaces match any whitespace run
        alternatives = (r"\s+".join(map(re.escape, k.split(" "))) for k in sorted(table, key=len, reverse=True))
        self.pattern = re.compile("|".join(alternatives)) if table else None
        self.date = ident.date

    def rewrite(self, text: str, kind: str) -> str:
        if self.pattern is not None:
            text = self.pattern.sub(lambda m: self.table[_ws(m.group(0))], text)
        if kind == "preamble":
            d, mth, y = self.date
            text = _DATE_RE.sub(lambda m: f"{m.group(1)}{d:02d}{m.group(3)}{mth}{m.group(5)}{y}", text, 1)
        return _PERCENT_RE.sub(self._percent, text)

    def _percent(self, m: re.Match) -> str:
        if self.rng.random() >= PERCENT_P:
            return m.group(0)
        value = min(100, max(1, int(m.group(1)) + self.rng.randint(-5, 5)))
        return f"{value}{m.group(2)}{m.group(3)}"


def generate_plan(i: int, templates: list[Template], seed: int = 0, communes: list[str] | None = None
                  ) -> SyntheticPlan:
    """Synthetic plan number ``i`` (deterministic in ``seed`` and ``i``)."""
    rng = random.Random(seed * 1_000_003 + i)
    clean = [t for t in templates if not t.ocr]
    ocr = [t for t in templates if t.ocr]
    pool = ocr if ocr and (not clean or rng.random() < OCR_TEMPLATE_P) else clean
    t = rng.choice(pool)
    ident = _identity(t, rng, communes or commune_names(), _gazetteer()["provinces"])
    rw = _Rewriter(t, templates, ident, rng)
    parts: list[str] = []
    spans: list[Span] = []
    pos = 0
    for src, kind, a, b, number in _pick_segments(t, pool, rng):
        piece = src.doc.text[a:b]
        if number is not None:
            piece = _ITEM_NUM_RE.sub(lambda m, n=number: f"{m.group(1)}{n}", piece, count=1)
        piece = rw.rewrite(piece, kind)
        if not piece:
            continue
        spans.append(Span(pos, pos + len(piece), src.doc.doc_id, a, b))
        parts.append(piece)
        pos += len(piece)
    doc_id = f"syn{i:06d}"
    return SyntheticPlan(doc_id, f"{doc_id}.txt", "".join(parts), t.doc.doc_id, f"{t.level} {ident.place}", spans)


def generate_plans(n: int, seed: int = 0, corpus_dir: Path = DEFAULT_CORPUS, start: int = 0
                   ) -> Iterator[SyntheticPlan]:
    templates = load_templates(corpus_dir)
    communes = commune_names(seed=seed)
    for i in range(start, start + n):
        yield generate_plan(i, templates, seed, communes)


def synthetic_corpus(out_dir: Path, target_chunks: int | None = None, n_plans: int | None = None, seed: int = 0,
                     corpus_dir: Path = DEFAULT_CORPUS, settings: ChunkSettings | None = None,
                     progress: bool = True) -> Iterator[tuple[SyntheticPlan, Document, list[Chunk]]]:
    """Write plans to ``out_dir`` and parse each with the real pipeline, until ``target_chunks`` chunks (or
    ``n_plans`` plans) exist.  Streams: one plan in memory at a time besides what the caller keeps."""
    if target_chunks is None and n_plans is None:
        raise ValueError("give target_chunks or n_plans")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = settings or ChunkSettings()
    total = 0
    bar = tqdm(total=target_chunks or n_plans, desc="synthetic", unit="chunk" if target_chunks else "plan",
               disable=not progress, mininterval=2)
    for i, plan in enumerate(generate_plans(10**9, seed, corpus_dir)):
        if (n_plans is not None and i >= n_plans) or (target_chunks is not None and total >= target_chunks):
            break
        path = out_dir / plan.source_file
        path.write_text(plan.text, "utf-8")
        doc = load_document(path)
        chunks = chunk_document(doc, settings)
        total += len(chunks)
        bar.update(len(chunks) if target_chunks else 1)
        yield plan, doc, chunks
    bar.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.synthetic", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the plan files")
    ap.add_argument("--chunks", type=int, default=None, help="generate until this many chunks")
    ap.add_argument("--plans", type=int, default=None, help="or this many plans")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="real plans to recombine")
    args = ap.parse_args(argv)
    if args.chunks is None and args.plans is None:
        args.plans = 10
    n = chunks = 0
    for _, _, cs in synthetic_corpus(args.out, args.chunks, args.plans, args.seed, args.corpus):
        n += 1
        chunks += len(cs)
    print(f"wrote {n} synthetic plans ({chunks} chunks) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
