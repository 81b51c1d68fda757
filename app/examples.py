"""Example questions for the UI chips, derived from the loaded index with general templates: an assignment
(who leads a task, in a plan's place), the same kind of question typed without accents, a target, and a plan's
signer by its number.  No plan is named in code; an empty index gives generic examples."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from index.store import StoredDocument
from ingest.records import plan_label
from ingest.textnorm import fold

GENERIC = (
    "Cơ quan nào chủ trì tổ chức thực hiện kế hoạch?",
    "co quan nao phoi hop thuc hien ke hoach",
    "Kế hoạch đặt mục tiêu gì đến năm 2030?",
    "Kế hoạch do ai ký, ngày nào?",
)
TASK_WORDS = 8  # words of a task kept in a question


@dataclass(frozen=True)
class Example:
    text: str
    doc_id: str | None  # the plan it was derived from (None: generic)


def _where(doc: StoredDocument) -> str:
    return f"ở {doc.meta.locality}" if doc.meta.locality else f"theo {plan_label(doc.meta.doc_type, doc.meta.number)}"


def _phrase(task: str) -> str | None:
    """The opening words of a task, up to its first punctuation: "phát động phong trào toàn dân…"."""
    head = re.split(r"[.;:,(]", task.strip(), maxsplit=1)[0].split()[:TASK_WORDS]
    if len(head) < 3:
        return None
    text = " ".join(head)
    return text[:1].lower() + text[1:]


def _assignment_questions(assignments: Iterable, docs: Mapping[str, StoredDocument]) -> list[Example]:
    out, seen = [], set()
    for a in assignments:
        doc = docs.get(a.doc_id)
        if doc is None or doc.meta.ocr or a.confidence != "high" or not a.lead or a.doc_id in seen:
            continue
        phrase = _phrase(a.task)
        if phrase:
            seen.add(a.doc_id)
            out.append(Example(f"Cơ quan nào chủ trì {phrase} {_where(doc)}?", a.doc_id))
    return out


def _target_question(targets: Iterable, docs: Mapping[str, StoredDocument], avoid: set[str]) -> Example | None:
    for t in sorted(targets, key=lambda t: t.doc_id in avoid):
        doc = docs.get(t.doc_id)
        if doc is None or doc.meta.ocr or not t.label:
            continue
        when = f"đến năm {t.period}" if t.period.isdigit() else f"giai đoạn {t.period}"
        return Example(f"{t.label} {when} {_where(doc)} là bao nhiêu?", t.doc_id)
    return None


def example_questions(docs: Mapping[str, StoredDocument], facts) -> tuple[Example, ...]:
    """Four examples from the index's plans and facts (:class:`retriever.facts.FactIndex`), filled up with
    generic ones when the index has too little to derive them from."""
    asked = _assignment_questions(facts.assignments, docs)
    out: list[Example] = asked[:1]
    if len(asked) > 1:  # a second plan's assignment, typed as many users do: without accents
        out.append(Example(fold(asked[1].text).rstrip("?"), asked[1].doc_id))
    target = _target_question(facts.targets, docs, {e.doc_id for e in out if e.doc_id})
    if target:
        out.append(target)
    numbered = [d for d in docs.values() if d.meta.number and d.doc_id not in {e.doc_id for e in out}]
    if numbered:
        d = numbered[0]
        out.append(Example(f"{plan_label(d.meta.doc_type, d.meta.number)} do ai ký?", d.doc_id))
    generic = [Example(g, None) for g in GENERIC]
    return tuple(out + generic[len(out):])[:len(GENERIC)]
