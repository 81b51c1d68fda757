"""Run the retriever over a gold set, score every question, aggregate, report."""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from tqdm import tqdm

from evals.gold import GoldItem, find_evidence_spans, load_gold, validate_gold
from evals.metrics import contains, doc_rank, first_hit_rank
from retriever.service import Retriever

UNANSWERABLE = "unanswerable"


def default_gold_path() -> Path:
    return Path(__file__).resolve().parent / "gold" / "gold.jsonl"


def score_item(item: GoldItem, answer: dict, spans: list[tuple[str, int, int]]) -> dict:
    """Per-question record: what was asked, answered, cited, and whether each metric holds."""
    cits = answer["citations"]
    rec = {"id": item.id, "category": item.category, "accented": item.accented, "question": item.question,
           "doc_files": list(item.doc_files), "answer": answer["answer"], "abstained": answer["abstained"],
           "citations": [{k: c[k] for k in ("rank", "chunk_id", "source_file", "doc_number", "section", "score")}
                         for c in cits]}
    if item.category == UNANSWERABLE:
        rec.update(answerable=False, abstain_ok=answer["abstained"])
        return rec
    rank = first_hit_rank(cits, spans)
    drank = doc_rank(cits, item.doc_files)
    rec.update(answerable=True, abstain_ok=not answer["abstained"], hit_rank=rank, doc_rank=drank,
               hit1=rank == 1, hit5=rank is not None and rank <= 5, doc_hit5=drank is not None and drank <= 5,
               mrr10=1.0 / rank if rank and rank <= 10 else 0.0,
               answer_ok=(not answer["abstained"]) and all(contains(answer["answer"], k) for k in item.must_include),
               missing=[k for k in item.must_include if not contains(answer["answer"], k)])
    return rec


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def aggregate(recs: list[dict]) -> dict:
    ans = [r for r in recs if r["answerable"]]
    una = [r for r in recs if not r["answerable"]]
    out = {"n": len(recs), "answerable": len(ans), "unanswerable": len(una),
           "hit@1": _mean([r["hit1"] for r in ans]), "hit@5": _mean([r["hit5"] for r in ans]),
           "doc_hit@5": _mean([r["doc_hit5"] for r in ans]), "mrr@10": _mean([r["mrr10"] for r in ans]),
           "answer_accuracy": _mean([r["answer_ok"] for r in ans]),
           "abstention_accuracy": _mean([r["abstain_ok"] for r in recs]),
           "unanswerable_abstained": _mean([r["abstain_ok"] for r in una]),
           "answerable_answered": _mean([r["abstain_ok"] for r in ans])}
    return out


def breakdown(recs: list[dict], key) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in recs:
        for g in key(r):
            groups[g].append(r)
    return {g: aggregate(rs) for g, rs in sorted(groups.items())}


def run_eval(retriever: Retriever, gold_path: Path, corpus_dir: Path, predictions: Path | None = None,
             k: int = 5, progress: bool = True) -> dict:
    items = load_gold(gold_path)
    problems = validate_gold(items, corpus_dir)
    if problems:
        raise ValueError(f"gold set {gold_path} has {len(problems)} problems, first: {problems[0]}")
    recs, times = [], []
    for item in tqdm(items, desc="eval", unit="q", disable=not progress):
        t0 = time.perf_counter()
        ans = retriever.ask(item.question, k=k, qid=item.id).to_json(debug=True)
        times.append((time.perf_counter() - t0) * 1000)
        recs.append(score_item(item, ans, find_evidence_spans(item, corpus_dir)))
    if predictions:
        predictions.parent.mkdir(parents=True, exist_ok=True)
        with open(predictions, "w", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return {"gold": str(gold_path), "overall": aggregate(recs),
            "by_category": breakdown(recs, lambda r: [r["category"]]),
            "by_document": breakdown(recs, lambda r: r["doc_files"] or ["(none)"]),
            "by_accent": breakdown(recs, lambda r: ["accented" if r["accented"] else "accent-free"]),
            "latency_ms": {"p50": round(statistics.median(times), 1),
                           "p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 1)},
            "records": recs}


def print_report(report: dict) -> None:
    cols = ["n", "hit@1", "hit@5", "doc_hit@5", "mrr@10", "answer_accuracy", "abstention_accuracy"]
    print(f"gold: {report['gold']}")
    print(f"{'':28}" + "".join(f"{c:>20}" for c in cols))
    rows = [("overall", report["overall"])]
    for sect in ("by_category", "by_document", "by_accent"):
        rows += [(f"{sect[3:]}:{g}", m) for g, m in report[sect].items()]
    for name, m in rows:
        print(f"{name[:28]:28}" + "".join(f"{'-' if m.get(c) is None else m.get(c):>20}" for c in cols))
    lat = report["latency_ms"]
    print(f"latency per question (warm, library call): p50 {lat['p50']} ms, p95 {lat['p95']} ms")
