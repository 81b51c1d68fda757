"""Measure the assignment extractor against the hand-checked sample.

``evals/assignments_sample.jsonl`` holds reference assignments, each with an
``evidence`` string copied from its plan (modulo whitespace).  A reference is
*found* when an extracted assignment of the same plan has a source span
overlapping the evidence span (the one overlapping most is taken); it is *right*
when, in addition, the extracted lead agencies equal the reference leads once both
are folded with :func:`ingest.agencies.agency_key` (as sets).

* precision — among found references whose extracted assignment names a lead, the
  share whose lead is right (an assignment whose lead was left unknown asserts nothing);
* recall — per plan and form, the share of references found with the right lead.

Run ``python -m evals.extraction`` for a table.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from ingest.agencies import agency_key
from ingest.assignments import Assignment, extract_assignments
from ingest.pipeline import load_document
from ingest.targets import extract_targets

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT / "corpus"
DEFAULT_SAMPLE = REPO_ROOT / "evals" / "assignments_sample.jsonl"


def load_sample(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text("utf-8").splitlines() if line.strip()]


def locate(evidence: str, text: str) -> tuple[int, int] | None:
    """Span of ``evidence`` in ``text``, tolerating any difference in whitespace."""
    words = evidence.split()
    if not words:
        return None
    m = re.search(r"\s*".join(re.escape(w) for w in words), text)
    return (m.start(), m.end()) if m else None


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return min(a[1], b[1]) - max(a[0], b[0])


def _best(assignments: list[Assignment], span: tuple[int, int]) -> Assignment | None:
    scored = [(_overlap(a.source_span, span), a) for a in assignments]
    scored = [(o, a) for o, a in scored if o > 0]
    return max(scored, key=lambda x: x[0])[1] if scored else None


def _keys(names: list[str] | tuple[str, ...]) -> set[str]:
    return {agency_key(n) for n in names}


def _judge(ref: dict[str, Any], text: str, assignments: list[Assignment]) -> dict[str, Any]:
    span = locate(ref["evidence"], text)
    got = _best(assignments, span) if span else None
    lead = list(got.lead) if got else []
    return {
        "doc": ref["doc_file"][:3], "form": ref["form"], "row": ref.get("row"), "section": ref.get("section"),
        "evidence_found": span is not None, "found": got is not None, "asserted": bool(lead),
        "right": got is not None and bool(lead) and _keys(lead) == _keys(ref["lead"]),
        "reference_lead": ref["lead"], "extracted_lead": lead,
    }


def _recall(judged: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for j in judged:
        groups.setdefault(f"{j['doc']}/{j['form']}", []).append(j)
        groups.setdefault(j["form"], []).append(j)
        groups.setdefault("all", []).append(j)
    out = {}
    for name, js in sorted(groups.items()):
        right = sum(j["right"] for j in js)
        out[name] = {"reference": len(js), "found": sum(j["found"] for j in js), "right": right,
                     "recall": round(right / len(js), 4)}
    return out


def evaluate_extraction(corpus_dir: Path = DEFAULT_CORPUS,
                        sample_path: Path = DEFAULT_SAMPLE) -> dict[str, Any]:
    """Run the extractors on the corpus and score them against the sample (see module docstring)."""
    refs = load_sample(Path(sample_path))
    files = sorted({r["doc_file"] for r in refs} | {p.name for p in Path(corpus_dir).glob("*.txt")})
    docs = {f: load_document(Path(corpus_dir) / f) for f in files}
    extracted = {f: extract_assignments(d) for f, d in docs.items()}
    judged = [_judge(r, docs[r["doc_file"]].text, extracted[r["doc_file"]]) for r in refs]
    asserted = [j for j in judged if j["found"] and j["asserted"]]
    right = sum(j["right"] for j in asserted)
    return {
        "precision": round(right / len(asserted), 4) if asserted else 0.0,
        "precision_counts": {"right": right, "asserted": len(asserted)},
        "recall": _recall(judged),
        "assignments": {f[:3]: dict(Counter(a.form for a in a_list), total=len(a_list))
                        for f, a_list in extracted.items()},
        "targets": {f[:3]: len(extract_targets(d)) for f, d in docs.items()},
        "failures": [j for j in judged if not j["right"]],
    }


def format_report(result: dict[str, Any]) -> str:
    pc = result["precision_counts"]
    lines = [f"precision (lead right | lead asserted): {result['precision']:.3f}  "
             f"({pc['right']}/{pc['asserted']})",
             "", f"{'group':<22}{'refs':>6}{'found':>7}{'right':>7}{'recall':>8}"]
    for name, r in result["recall"].items():
        lines.append(f"{name:<22}{r['reference']:>6}{r['found']:>7}{r['right']:>7}{r['recall']:>8.3f}")
    lines += ["", f"{'plan':<6}{'prose':>7}{'appendix':>10}{'ocr':>6}{'total':>7}{'targets':>9}"]
    for doc, counts in sorted(result["assignments"].items()):
        lines.append(f"{doc:<6}{counts.get('prose', 0):>7}{counts.get('appendix_table', 0):>10}"
                     f"{counts.get('ocr_table', 0):>6}{counts['total']:>7}{result['targets'].get(doc, 0):>9}")
    if result["failures"]:
        lines += ["", "not right:"]
        for j in result["failures"]:
            why = "no span" if not j["found"] else "lead unknown" if not j["asserted"] else "wrong lead"
            lines.append(f"  {j['doc']} {j['form']:<15} row {j['row']!s:<5} {why:<13} "
                         f"ref={j['reference_lead']} got={j['extracted_lead']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args(argv)
    result = evaluate_extraction(args.corpus, args.sample)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
