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

The same measure runs on the *unseen* plans (``../shared/external/plans-dev`` beside the repository, or
``--unseen-dir`` / ``KEHOACH_UNSEEN_PLANS``) against ``evals/assignments_unseen.jsonl``: plans of other
provinces and ministries the extractor was not written for.  For both samples two field measures are
reported on the references whose lead is right: *coordination* (share of the reference coordinators,
folded as agencies, among the extracted ones) and *deadline* (the extracted deadline contains the
reference deadline once folded, or the reverse).

Run ``python -m evals.extraction`` for a table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from ingest.agencies import agency_key
from ingest.assignments import Assignment, extract_assignments
from ingest.pipeline import load_document
from ingest.targets import extract_targets
from ingest.textnorm import search_form

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT / "corpus"
DEFAULT_SAMPLE = REPO_ROOT / "evals" / "assignments_sample.jsonl"
DEFAULT_UNSEEN_DIR = Path(os.environ.get("KEHOACH_UNSEEN_PLANS",
                                         REPO_ROOT / ".." / "shared" / "external" / "plans-dev"))
DEFAULT_UNSEEN_SAMPLE = REPO_ROOT / "evals" / "assignments_unseen.jsonl"


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
    right = got is not None and bool(lead) and _keys(lead) == _keys(ref["lead"])
    coord = _keys(ref.get("coordinating") or [])
    return {
        "doc": ref["doc_file"][:3], "form": ref["form"], "row": ref.get("row"), "section": ref.get("section"),
        "evidence_found": span is not None, "found": got is not None, "asserted": bool(lead), "right": right,
        "reference_lead": ref["lead"], "extracted_lead": lead,
        "coord_refs": len(coord) if right else 0,
        "coord_found": len(coord & _keys(got.coordinating)) if right and got else 0,
        "deadline_ref": bool(right and ref.get("deadline")),
        "deadline_right": bool(right and ref.get("deadline") and got and _same_deadline(ref["deadline"], got.deadline)),
    }


def _same_deadline(ref: str, got: str | None) -> bool:
    a, b = search_form(ref), search_form(got or "")
    return bool(b) and (a in b or b in a)


def _fields(judged: list[dict[str, Any]]) -> dict[str, Any]:
    """Coordination and deadline measures over the references whose lead is right."""
    c_ref = sum(j["coord_refs"] for j in judged)
    d_ref = sum(j["deadline_ref"] for j in judged)
    c_found = sum(j["coord_found"] for j in judged)
    d_right = sum(j["deadline_right"] for j in judged)
    return {"coordination": round(c_found / c_ref, 4) if c_ref else None, "coordination_counts": [c_found, c_ref],
            "deadline": round(d_right / d_ref, 4) if d_ref else None, "deadline_counts": [d_right, d_ref]}


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
        "fields": _fields(judged),
        "recall": _recall(judged),
        "assignments": {f[:3]: dict(Counter(a.form for a in a_list), total=len(a_list))
                        for f, a_list in extracted.items()},
        "targets": {f[:3]: len(extract_targets(d)) for f, d in docs.items()},
        "failures": [j for j in judged if not j["right"]],
    }


def evaluate_unseen(plans_dir: Path = DEFAULT_UNSEEN_DIR,
                    sample_path: Path = DEFAULT_UNSEEN_SAMPLE) -> dict[str, Any] | None:
    """The measure on the unseen plans; None when their folder is absent."""
    plans_dir = Path(plans_dir)
    if not plans_dir.is_dir():
        return None
    return evaluate_extraction(plans_dir, sample_path)


def _fields_line(result: dict[str, Any]) -> str:
    f = result["fields"]
    parts = []
    for key in ("coordination", "deadline"):
        got, n = f[f"{key}_counts"]
        parts.append(f"{key}: {f[key]:.3f} ({got}/{n})" if f[key] is not None else f"{key}: n/a")
    return "of right-lead refs, " + "   ".join(parts)


def format_report(result: dict[str, Any]) -> str:
    pc = result["precision_counts"]
    lines = [f"precision (lead right | lead asserted): {result['precision']:.3f}  "
             f"({pc['right']}/{pc['asserted']})", _fields_line(result),
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
    parser.add_argument("--unseen-dir", type=Path, default=DEFAULT_UNSEEN_DIR,
                        help="folder of the unseen plans (default ../shared/external/plans-dev; "
                             "env KEHOACH_UNSEEN_PLANS)")
    parser.add_argument("--unseen-sample", type=Path, default=DEFAULT_UNSEEN_SAMPLE)
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args(argv)
    result = evaluate_extraction(args.corpus, args.sample)
    unseen = evaluate_unseen(args.unseen_dir, args.unseen_sample)
    if args.json:
        print(json.dumps({"bundled": result, "unseen": unseen}, ensure_ascii=False, indent=2))
        return 0
    print("== bundled plans\n" + format_report(result))
    if unseen is None:
        print(f"\n== unseen plans: folder {args.unseen_dir} not found (pass --unseen-dir); skipped")
    else:
        print(f"\n== unseen plans ({args.unseen_dir})\n" + format_report(unseen))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
