"""Run systems over a gold set, score every question, aggregate, report.

Every metric is deterministic (no LLM judge).  Retrieval is keyed on document + evidence span
(:mod:`evals.metrics`); the metrics defined here are citation accuracy, grounding and abstention
precision/recall.  The project and the baselines (:mod:`evals.baselines`) are scored by the same code.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from evals.gold import GoldItem, find_evidence_spans, load_gold, validate_gold
from evals.metrics import comparable, contains, doc_rank, first_hit_rank
from evals.timing import cpu_name, latency_stats
from index.progress import progress_bar
from index.store import IndexBundle
from ingest.textnorm import collapse_ws, repaired
from retriever.search import HybridSettings
from retriever.service import Retriever

UNANSWERABLE = "unanswerable"
CITE_K = 5  # citations asked for, as a user sees them: every metric but MRR@10 is scored on this answer
DEEP_K = 10  # a second ask with this many citations gives the rank MRR@10 needs
SUPPORT_MIN = 0.8  # share of a sentence's content tokens one cited passage must hold

# Function words and the words the answer template itself adds ("Theo …, mục …:", "Cơ quan chủ trì:",
# "So sánh giữa các văn bản:", "Người ký:", "Trích yếu:", "(chưa ghi số)"): they carry no claim to check.
NON_CONTENT = frozenset("""
va cac nhung cua o trong tai voi cho la thi ma de do den tu ve theo mot nay kia duoc se da dang
muc so sanh giua van ban co quan chu tri nguoi ky in trich yeu hanh ngay chua ghi khong thoi gian du thang
""".split())

Span = tuple[str, int, int]


class System(Protocol):
    """Anything that answers a question with an Answer-like dict (``answer``, ``abstained``, ``citations``)."""

    def ask(self, question: str, k: int = 5, qid: str | None = None) -> dict: ...


class ProjectSystem:
    """The project's :class:`Retriever` behind the :class:`System` interface."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def ask(self, question: str, k: int = 5, qid: str | None = None) -> dict:
        return self.retriever.ask(question, k=k, qid=qid).to_json(debug=True)


def default_gold_path() -> Path:
    return Path(__file__).resolve().parent / "gold" / "gold.jsonl"


# ---- grounding ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """One checkable piece of an answer: a quoted span, or a sentence of the text around the quotes."""

    text: str
    quoted: bool


def split_quotes(answer: str) -> tuple[list[str], str]:
    """Top-level “…” spans of ``answer`` and the text outside them (each quote replaced by a line break).

    Quotes nest; when they do not balance (OCR text inside a quote), each line's span from its first “ to its
    last ” is taken instead."""
    quotes, outside, buf, depth = [], [], [], 0
    for ch in answer:
        if ch == "“":
            if depth:
                buf.append(ch)
            else:
                buf = []
                outside.append("\n")
            depth += 1
        elif ch == "”" and depth:
            depth -= 1
            if depth:
                buf.append(ch)
            else:
                quotes.append("".join(buf))
        elif depth:
            buf.append(ch)
        else:
            outside.append(ch)
    if depth == 0:
        return quotes, "".join(outside)
    greedy = re.compile(r"“(.*)”")
    quotes = [m.group(1) for line in answer.splitlines() for m in greedy.finditer(line)]
    return quotes, "\n".join(greedy.sub("", line) for line in answer.splitlines())


_SENTENCE_END = re.compile(r"(?:(?<=[.;!?])|(?<=[.;!?][)\]]))\s+|\n+")
_LABEL = re.compile(r"^(?:[^\W\d_]+\s+){0,3}[^\W\d_]+\s*:(?:\s+|$)")  # "Nguồn: ", "Cơ quan chủ trì: "
_ASIDE = re.compile(r"^\([^()]*\)[.;]?$")  # "(Đọc từ bản OCR, độ tin cậy: trung bình.)"


def answer_units(answer: str) -> list[Unit]:
    """Quoted spans plus the sentences of the remaining text.

    A sentence's leading field label (one to four words and a colon: "Nguồn:", "Thời hạn:", "Cơ quan chủ trì:")
    names a field of the answer and is dropped; a sentence wholly in parentheses is an aside of the system (the
    OCR reliability note), not a claim about a plan, and is dropped; empty pieces are dropped."""
    quotes, outside = split_quotes(answer)
    units = [Unit(collapse_ws(q), True) for q in quotes if q.strip()]
    for piece in _SENTENCE_END.split(outside):
        text = _LABEL.sub("", collapse_ws(piece))
        if text.strip(" .;:()-") and not _ASIDE.match(text):
            units.append(Unit(text, False))
    return units


def content_tokens(text: str) -> set[str]:
    """Folded, OCR-repaired tokens of ``text`` that carry content (see :data:`NON_CONTENT`)."""
    return {t for t in comparable(text) if t not in NON_CONTENT}


def _folded(text: str) -> str:
    return collapse_ws(repaired(text))


def unit_supported(unit: Unit, passages: Sequence[str]) -> bool | None:
    """Supported when, folded and whitespace-collapsed, it is a substring of a cited passage, or one passage holds
    ≥ SUPPORT_MIN of its content tokens.  ``None`` when it has no content tokens (not counted)."""
    toks = content_tokens(unit.text)
    if not toks:
        return None
    needle = _folded(unit.text)
    for p in passages:
        if needle and needle in _folded(p):
            return True
        if len(toks & set(comparable(p))) / len(toks) >= SUPPORT_MIN:
            return True
    return False


def citation_passage(c: dict) -> str:
    """What a citation shows a reader: its metadata line (type, number, issuer, date, section) and its text."""
    head = " ".join(str(x) for x in (c.get("doc_type"), c.get("doc_number"), c.get("issuer"), c.get("date"),
                                     c.get("section")) if x)
    return f"{head}\n{c.get('text', '')}"


def grounding(answer: str, citations: Sequence[dict]) -> tuple[int, int]:
    """``(supported, counted)`` answer units against the cited passages."""
    passages = [citation_passage(c) for c in citations]
    verdicts = [unit_supported(u, passages) for u in answer_units(answer)]
    counted = [v for v in verdicts if v is not None]
    return sum(counted), len(counted)


def _covered(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Every character of [start, end) lies in the union of ``spans``."""
    pos = start
    for a, b in sorted(spans):
        if a > pos:
            break
        pos = max(pos, b)
        if pos >= end:
            return True
    return pos >= end


def evidence_cited(citations: Sequence[dict], spans: Sequence[Span]) -> bool:
    """Each gold file with located evidence has at least one evidence span wholly inside the union of the cited
    passages from that file (evidence strings of one file are alternatives, as for hit@k)."""
    by_file: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for f, s, e in spans:
        by_file[f].append((s, e))
    if not by_file:
        return False
    cited: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for c in citations:
        cited[c["source_file"]].append((int(c["start"]), int(c["end"])))
    return all(any(_covered(s, e, cited[f]) for s, e in ev) for f, ev in by_file.items())


# ---- citation accuracy --------------------------------------------------------------------------------------------
def citation_accuracy(citations: Sequence[dict], gold_files: Sequence[str], k: int = CITE_K) -> dict[str, float]:
    """``citation@1``: the top citation's file is a gold file; ``citation_recall``: share of the gold files among
    the files of the top-k citations (all plans of a cross_doc question); ``citation_precision``: share of the
    top-k citations that come from a gold file."""
    top = list(citations)[:k]
    gold = set(gold_files)
    files = {c["source_file"] for c in top}
    return {"citation@1": float(bool(top) and top[0]["source_file"] in gold),
            "citation_recall": len(files & gold) / len(gold) if gold else 0.0,
            "citation_precision": sum(c["source_file"] in gold for c in top) / len(top) if top else 0.0}


# ---- abstention ---------------------------------------------------------------------------------------------------
def abstention_pr(records: Iterable[dict]) -> tuple[float | None, float | None]:
    """Precision and recall of abstaining, the positive class being "should abstain" (unanswerable).
    ``None`` where undefined (no abstentions / no unanswerable questions)."""
    recs = list(records)
    tp = sum(r["abstained"] and not r["answerable"] for r in recs)
    predicted = sum(bool(r["abstained"]) for r in recs)
    actual = sum(not r["answerable"] for r in recs)
    return (tp / predicted if predicted else None), (tp / actual if actual else None)


# ---- plan number ---------------------------------------------------------------------------------------------------
def number_cited(answer: dict, numbers: Sequence[str], k: int = CITE_K) -> bool | None:
    """Every gold plan number (``174/KH-UBND``) appears, after folding, in the answer or in the document number of one
    of its first ``k`` citations; ``None`` when the question names no number.  An abstention cites nothing."""
    if not numbers:
        return None
    if answer["abstained"]:
        return False
    cited = " ; ".join(str(c.get("doc_number") or "") for c in answer["citations"][:k])
    text = f"{answer['answer']}\n{cited}"
    return all(contains(text, n) for n in numbers)


# ---- per question -------------------------------------------------------------------------------------------------
def score_item(item: GoldItem, answer: dict, spans: list[Span], deep: Sequence[dict] | None = None) -> dict:
    """Per-question record: what was asked, answered, cited, and whether each metric holds.

    ``answer`` was asked for :data:`CITE_K` citations (a cross-document answer may carry more: one per plan it
    quotes); all of its citations count for citations and grounding.  ``deep`` are the citations of the same
    question asked for :data:`DEEP_K` (default: ``answer``'s own), used only for MRR@10."""
    cits = answer["citations"]
    top = cits
    rec = {"id": item.id, "category": item.category, "accented": item.accented, "question": item.question,
           "doc_files": list(item.doc_files), "answer": answer["answer"], "abstained": answer["abstained"],
           "citations": [{k: c.get(k) for k in ("rank", "chunk_id", "source_file", "doc_number", "section", "score",
                                                "start", "end")} for c in cits]}
    sup, counted = grounding(answer["answer"], top) if not answer["abstained"] else (0, 0)
    rec.update(grounded_units=sup, checked_units=counted)
    if item.category == UNANSWERABLE:
        rec.update(answerable=False, abstain_ok=answer["abstained"])
        return rec
    rank = first_hit_rank(cits, spans)
    rec["number_cited"] = number_cited(answer, item.doc_numbers)
    rank10 = first_hit_rank(list(deep if deep is not None else cits), spans)
    drank = doc_rank(cits, item.doc_files)
    answered = not answer["abstained"]
    cite = citation_accuracy(top if answered else [], item.doc_files, k=len(top))
    rec.update(answerable=True, abstain_ok=answered, hit_rank=rank, hit_rank10=rank10, doc_rank=drank,
               hit1=rank == 1, hit5=rank is not None and rank <= 5, doc_hit5=drank is not None and drank <= 5,
               mrr10=1.0 / rank10 if rank10 and rank10 <= 10 else 0.0,
               answer_ok=answered and all(contains(answer["answer"], k) for k in item.must_include),
               missing=[k for k in item.must_include if not contains(answer["answer"], k)],
               evidence_cited=answered and evidence_cited(top, spans), **cite)
    return rec


# ---- aggregation --------------------------------------------------------------------------------------------------
def _mean(xs: Iterable[float]) -> float | None:
    xs = [float(x) for x in xs]
    return round(sum(xs) / len(xs), 4) if xs else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def aggregate(recs: list[dict]) -> dict:
    ans = [r for r in recs if r["answerable"]]
    una = [r for r in recs if not r["answerable"]]
    answered = [r for r in recs if not r["abstained"]]
    units = sum(r["checked_units"] for r in answered)
    prec, rec = abstention_pr(recs)
    return {"n": len(recs), "answerable": len(ans), "unanswerable": len(una),
            "hit@1": _mean(r["hit1"] for r in ans), "hit@5": _mean(r["hit5"] for r in ans),
            "doc_hit@5": _mean(r["doc_hit5"] for r in ans),
            "number_cited": _mean(r["number_cited"] for r in ans if r.get("number_cited") is not None),
            "mrr@10": _mean(r["mrr10"] for r in ans),
            "answer_accuracy": _mean(r["answer_ok"] for r in ans),
            "citation@1": _mean(r["citation@1"] for r in ans),
            "citation_recall": _mean(r["citation_recall"] for r in ans),
            "citation_precision": _mean(r["citation_precision"] for r in ans),
            "grounded_sentences": _round(sum(r["grounded_units"] for r in answered) / units) if units else None,
            "fully_grounded": _mean(r["grounded_units"] == r["checked_units"] for r in answered
                                    if r["checked_units"]),
            "evidence_cited": _mean(r["evidence_cited"] for r in ans),
            "abstention_precision": _round(prec), "abstention_recall": _round(rec),
            "abstention_accuracy": _mean(r["abstain_ok"] for r in recs),
            "unanswerable_abstained": _mean(r["abstain_ok"] for r in una),
            "answerable_answered": _mean(r["abstain_ok"] for r in ans),
            "answerable_refused": _mean(not r["abstain_ok"] for r in ans)}


def breakdown(recs: list[dict], key: Callable[[dict], list[str]]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in recs:
        for g in key(r):
            groups[g].append(r)
    return {g: aggregate(rs) for g, rs in sorted(groups.items())}


def summarise(recs: list[dict], times_ms: list[float]) -> dict:
    """Overall, per category, per document and accented vs accent-free aggregates of one system's records."""
    out = {"overall": aggregate(recs),
           "by_category": breakdown(recs, lambda r: [r["category"]]),
           "by_document": breakdown(recs, lambda r: r["doc_files"] or ["(none)"]),
           "by_accent": breakdown(recs, lambda r: ["accented" if r["accented"] else "accent-free"]),
           "records": recs}
    if times_ms:
        stats = latency_stats(t / 1000 for t in times_ms)  # the benchmarks' percentiles, so figures agree
        out["latency_ms"] = {"p50": stats["p50_ms"], "p95": stats["p95_ms"]}
    return out


# ---- running ------------------------------------------------------------------------------------------------------
def load_checked_gold(gold_path: Path, corpus_dir: Path) -> tuple[list[GoldItem], dict[str, list[Span]]]:
    """Gold items (validated against the corpus) and their located evidence spans."""
    items = load_gold(gold_path)
    problems = validate_gold(items, corpus_dir)
    if problems:
        raise ValueError(f"gold set {gold_path} has {len(problems)} problems, first: {problems[0]}")
    return items, {it.id: find_evidence_spans(it, corpus_dir) for it in items}


def evaluate_system(system: System, items: Sequence[GoldItem], spans: dict[str, list[Span]], name: str = "project",
                    progress: bool = True) -> dict:
    """Ask every gold question (CITE_K citations, timed; again with DEEP_K for MRR@10), score it, aggregate."""
    recs, times = [], []
    for item in progress_bar(items, f"gold · {name}", "q", progress):
        t0 = time.perf_counter()
        ans = system.ask(item.question, k=CITE_K, qid=item.id)
        times.append((time.perf_counter() - t0) * 1000)
        deep = system.ask(item.question, k=DEEP_K, qid=item.id)["citations"]
        recs.append(score_item(item, ans, spans[item.id], deep))
    return summarise(recs, times)


def write_predictions(path: Path, rows: Iterable[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


SYSTEM_LABELS = {
    "project": "project: hybrid retriever + extractive answer",
    "bm25_project_chunks": "baseline: BM25 plain syllables, project chunks",
    "bm25_fixed": "baseline: BM25 plain syllables, fixed 1000/200",
    "dense_fixed": "baseline: dense e5 + FAISS flat, fixed 1000/200",
}


def gold_systems(retriever: Retriever, corpus_dir: Path, baselines: bool = True, progress: bool = True,
                 questions: Sequence[str] = ()) -> dict[str, System]:
    """The project and (unless ``baselines`` is false) the three baseline systems over the same corpus.
    The dense baseline's query vectors for ``questions`` are computed ahead in batches."""
    systems: dict[str, System] = {"project": ProjectSystem(retriever)}
    if baselines:
        from evals.baselines import (
            BM25Baseline,
            DenseBaseline,
            fixed_passages,
            project_passages,
            read_corpus,
        )
        from index.embed_cache import CachedEncoder

        fixed = fixed_passages(read_corpus(corpus_dir))
        systems["bm25_project_chunks"] = BM25Baseline(project_passages(retriever.bundle))
        systems["bm25_fixed"] = BM25Baseline(fixed)
        encoder = CachedEncoder(retriever.encoder)
        encoder.prime(questions)
        systems["dense_fixed"] = DenseBaseline(fixed, encoder, progress=progress)
    return systems


def sibling_retriever(retriever: Retriever, bundle: IndexBundle, hybrid: HybridSettings | None = None) -> Retriever:
    """A retriever over ``bundle`` with ``retriever``'s encoder and settings (``hybrid`` overrides its search's)."""
    return Retriever(bundle, retriever.encoder, hybrid or retriever.searcher.settings, retriever.settings)


def fusion_comparison(retriever: Retriever, items: Sequence[GoldItem], spans: dict[str, list[Span]],
                      done: dict | None = None, progress: bool = True) -> dict[str, dict]:
    """Overall gold metrics of the project with weighted and with RRF fusion (other settings unchanged)."""
    from dataclasses import replace

    current: HybridSettings = retriever.searcher.settings
    out = {}
    for fusion in ("weighted", "rrf"):
        if done is not None and fusion == current.fusion:
            out[fusion] = done
            continue
        r = sibling_retriever(retriever, retriever.bundle, replace(current, fusion=fusion))
        out[fusion] = evaluate_system(ProjectSystem(r), items, spans, name=f"project/{fusion}",
                                      progress=progress)["overall"]
    return {"settings": {"lexical_weight": current.lexical_weight, "dense_weight": current.dense_weight,
                         "rrf_k": current.rrf_k, "depth": current.depth, "default": current.fusion},
            "overall": out}


def run_gold_suite(retriever: Retriever, gold_path: Path, corpus_dir: Path, baselines: bool = True,
                   compare_fusion: bool = False, progress: bool = True) -> dict:
    """The project beside the baselines on the gold set, all scored by the same metrics."""
    items, spans = load_checked_gold(gold_path, corpus_dir)
    systems = gold_systems(retriever, corpus_dir, baselines, progress, [it.question for it in items])
    results = {name: evaluate_system(s, items, spans, name=name, progress=progress) for name, s in systems.items()}
    out = {"path": str(gold_path), "n": len(items), "cite_k": CITE_K, "deep_k": DEEP_K,
           "labels": {n: SYSTEM_LABELS.get(n, n) for n in results}, "systems": results}
    if compare_fusion:
        out["fusion"] = fusion_comparison(retriever, items, spans, results["project"]["overall"], progress)
    return out


def gold_prediction_rows(suite: dict) -> Iterable[dict]:
    """Per-question records of every system, tagged with the suite and the system."""
    for name, res in suite["systems"].items():
        for r in res["records"]:
            yield {"suite": "gold", "system": name, **r}


COLUMNS = ("n", "hit@1", "hit@5", "mrr@10", "answer_accuracy", "citation@1", "grounded_sentences",
           "evidence_cited", "abstention_precision", "abstention_recall")


def format_table(rows: Sequence[tuple[str, dict]], cols: Sequence[str] = COLUMNS, width: int = 30) -> str:
    """Plain-text table of metric rows (``-`` where a metric is undefined)."""
    head = f"{'':{width}}" + "".join(f"{c[:11]:>12}" for c in cols)
    lines = [head]
    for name, m in rows:
        cells = "".join(f"{'-' if m.get(c) is None else m.get(c):>12}" for c in cols)
        lines.append(f"{name[:width]:{width}}" + cells)
    return "\n".join(lines)


# ---- a whole run: suites, metadata, predictions -------------------------------------------------------------------
def machine_info() -> dict:
    import os
    import platform

    import torch

    cpu = cpu_name() or platform.processor() or platform.machine()
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "platform": platform.platform()}


SUITE_CHOICES = ("gold", "unseen", "xquad", "alqac", "all")


def run_suites(suite: str, encoder, retriever: Retriever | None = None, gold_path: Path | None = None,
               corpus_dir: Path = Path("corpus"), xquad_path: Path | None = None, xquad_index: Path | None = None,
               baselines: bool = True, compare_fusion: bool = False, xquad_limit: int | None = None,
               progress: bool = True, command: str = "", plans_dev: Path | None = None,
               unseen_index: Path | None = None, alqac_path: Path | None = None, alqac_index: Path | None = None,
               alqac_full: bool = False) -> dict:
    """Run ``suite`` and return one dict: ``meta``, ``gold``, ``suites`` (bundled-dev, bundled-test, unseen) and/or
    ``xquad``.  "gold": the bundled gold set with baselines and its dev/test halves; "unseen": the unseen-plans
    suite; "xquad": XQuAD-vi; "alqac": ALQAC 2024 statute retrieval (CI subset, or every question with
    ``alqac_full``); "all": every one."""
    if suite not in SUITE_CHOICES:
        raise ValueError(f"unknown suite {suite!r}; choose {', '.join(SUITE_CHOICES)}")
    t0 = time.perf_counter()
    run: dict = {"meta": {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": command,
                          "machine": machine_info(), "model": getattr(encoder, "name", None), "seconds_by_suite": {}}}
    timings = run["meta"]["seconds_by_suite"]
    if suite in ("gold", "unseen", "all"):
        if retriever is None:
            raise ValueError("the gold and unseen suites need a retriever over the plans' index")
        run["meta"]["index_dir"] = str(retriever.bundle.directory)
        run["suites"] = {}
    if suite in ("gold", "all"):
        from evals.suites import bundled_split_suites

        t = time.perf_counter()
        path = gold_path or default_gold_path()
        run["gold"] = run_gold_suite(retriever, path, corpus_dir, baselines, compare_fusion, progress)
        if gold_path is None:  # the split files belong to the default gold set
            run["suites"].update(bundled_split_suites(retriever, run["gold"], path, corpus_dir, progress))
        timings["gold"] = round(time.perf_counter() - t, 1)
    if suite in ("unseen", "all"):
        from evals.suites import DEFAULT_UNSEEN_INDEX, run_unseen

        t = time.perf_counter()
        run["suites"]["unseen"] = run_unseen(retriever, corpus_dir, plans_dev, unseen_index or DEFAULT_UNSEEN_INDEX,
                                             progress=progress)
        timings["unseen"] = round(time.perf_counter() - t, 1)
    if suite in ("xquad", "all"):
        from evals.xquad import run_xquad

        t = time.perf_counter()
        run["xquad"] = run_xquad(encoder, xquad_path, xquad_index, ask=True, progress=progress, limit=xquad_limit)
        timings["xquad"] = round(time.perf_counter() - t, 1)
    if suite in ("alqac", "all"):
        _run_alqac(run, encoder, alqac_path, alqac_index, alqac_full, progress)
    run["meta"]["seconds"] = round(time.perf_counter() - t0, 1)
    return run


def _run_alqac(run: dict, encoder, path: Path | None, index: Path | None, full: bool, progress: bool) -> None:
    from evals.alqac import DEFAULT_ALQAC_INDEX, run_alqac

    t = time.perf_counter()
    run["alqac"] = run_alqac(encoder, path, index or DEFAULT_ALQAC_INDEX, full=full, progress=progress)
    run["meta"]["seconds_by_suite"]["alqac"] = round(time.perf_counter() - t, 1)


def prediction_rows(run: dict) -> Iterable[dict]:
    if run.get("gold"):
        yield from gold_prediction_rows(run["gold"])
    unseen = (run.get("suites") or {}).get("unseen")
    for form in ("as_written", "accent_free") if unseen else ():
        for r in unseen[form]["records"]:
            yield {"suite": "unseen", "form": form, "system": "project", **r}
    if run.get("xquad"):
        from evals.xquad import xquad_prediction_rows

        yield from xquad_prediction_rows(run["xquad"])
    if run.get("alqac"):
        from evals.alqac import alqac_prediction_rows

        yield from alqac_prediction_rows(run["alqac"])


def print_run(run: dict) -> None:
    """Text summary of a run: systems side by side, project per category and accent, XQuAD rows."""
    gold, xq = run.get("gold"), run.get("xquad")
    if run.get("suites"):
        from evals.suites import TABLE_METRICS, side_by_side

        print("held-out and unseen plans (project):")
        print(format_table(side_by_side(run["suites"]), TABLE_METRICS, width=34))
        unseen = run["suites"].get("unseen")
        if unseen:
            print(f"unseen: {unseen['n']} questions over {unseen['plans']} plans ({unseen['plans_dir']}); index "
                  f"{'reused' if unseen['index_reused'] else 'built'} in {unseen['seconds']['index']} s, asks "
                  f"{unseen['seconds']['ask']} s")
    if gold:
        print(f"gold: {gold['path']} ({gold['n']} questions)")
        print(format_table([(n, r["overall"]) for n, r in gold["systems"].items()]))
        proj = gold["systems"]["project"]
        print("project per category / accent:")
        print(format_table([(c, m) for c, m in proj["by_category"].items()]
                           + [(a, m) for a, m in proj["by_accent"].items()]))
        for name, m in (gold.get("fusion") or {}).get("overall", {}).items():
            print(f"fusion {name}: hit@5 {m['hit@5']}, answer_accuracy {m['answer_accuracy']}, mrr@10 {m['mrr@10']}")
        lat = proj.get("latency_ms")
        if lat:
            print(f"project latency per question: p50 {lat['p50']} ms, p95 {lat['p95']} ms")
    if xq:
        print(f"xquad: {xq['path']} ({xq['paragraphs']} paragraphs, {xq['questions']} questions, "
              f"fusion {xq['hybrid']['fusion']})")
        cols = ("recall@1", "recall@5", "mrr@10")
        print(f"{'':52}" + "".join(f"{c:>10}" for c in cols) + "".join(f"{'af ' + c:>13}" for c in cols))
        for r in xq["rows"].values():
            vals = [r["as_written"][c] for c in cols] + [r["accent_free"][c] for c in cols]
            cells = "".join(f"{v:>10}" for v in vals[:3]) + "".join(f"{v:>13}" for v in vals[3:])
            print(f"{r['label'][:52]:52}" + cells)
        if xq.get("ask"):
            print("xquad ask: " + ", ".join(f"{k} {v}" for k, v in xq["ask"].items()))
    if run.get("alqac"):
        from evals.alqac import print_alqac

        print_alqac(run["alqac"])
    print(f"total {run['meta']['seconds']} s")
