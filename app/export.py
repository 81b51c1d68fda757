"""Assignments and targets as rows for tables, CSV (Excel-friendly UTF-8 BOM) and JSON."""

from __future__ import annotations

import csv
import io
import json

from ingest.reader import xml_safe

ASSIGNMENT_COLUMNS = ("doc_number", "doc_type", "issuer", "source_file", "section", "row", "task", "lead",
                      "coordinating", "deadline", "directing", "confidence", "start", "end")
TARGET_COLUMNS = ("doc_number", "doc_type", "issuer", "source_file", "section", "indicator", "label", "value",
                  "unit", "period", "start", "end")


def _doc_fields(documents: dict, doc_id: str) -> dict:
    d = documents[doc_id]
    return {"doc_number": d.meta.number or "", "doc_type": d.meta.doc_type or "", "issuer": d.meta.issuer or "",
            "source_file": d.source_file}


def assignment_rows(assignments: list, documents: dict) -> list[dict]:
    return [{**_doc_fields(documents, a.doc_id), "section": " › ".join(a.section_path), "row": a.row or "",
             "task": " ".join(a.task.split()), "lead": "; ".join(a.lead), "coordinating": "; ".join(a.coordinating),
             "deadline": a.deadline or "", "directing": "; ".join(a.directing), "confidence": a.confidence,
             "start": a.start, "end": a.end} for a in assignments]


def target_rows(targets: list, documents: dict) -> list[dict]:
    from retriever.facts import target_label

    return [{**_doc_fields(documents, t.doc_id), "section": " › ".join(t.section_path), "indicator": t.indicator,
             "label": target_label(t), "value": t.value, "unit": t.unit, "period": t.period, "start": t.start,
             "end": t.end} for t in targets]


def with_printed(rows: list[dict], printed_rows: list[dict]) -> list[dict]:
    """Rows of restored records, each with ``printed``: the columns whose value as printed differs."""
    return [{**row, "printed": {k: str(p[k]) for k in row if p.get(k) != row[k]}}
            for row, p in zip(rows, printed_rows, strict=True)]


def shown_assignment_rows(assignments: list, documents: dict, display) -> list[dict]:
    """Assignment rows as a reader sees them: OCR plans restored (``display``), the printed values in ``printed``."""
    return with_printed(assignment_rows([display.record(a) for a in assignments], documents),
                        assignment_rows(assignments, documents))


def shown_target_rows(targets: list, documents: dict, display) -> list[dict]:
    return with_printed(target_rows([display.record(t) for t in targets], documents), target_rows(targets, documents))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV injection": what a spreadsheet may evaluate


def csv_cell(value: object) -> object:
    """A text cell a spreadsheet shows as typed: control characters removed, and a leading ``= + - @ tab CR``
    escaped with an apostrophe (Excel and LibreOffice hide it) so "=HYPERLINK(…)" or "+10" stay text."""
    if not isinstance(value, str):
        return value
    text = xml_safe(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel opens UTF-8 Vietnamese correctly with a BOM
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    w.writeheader()
    w.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)


def to_table(rows: list[dict], columns: tuple[str, ...], width: int = 38) -> str:
    """A plain-text table for the terminal; long cells are cut with "…"."""
    def cell(v) -> str:
        s = str(v)
        return s if len(s) <= width else s[: width - 1] + "…"

    widths = {c: max(len(c), *(len(cell(r[c])) for r in rows)) if rows else len(c) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns), "  ".join("-" * widths[c] for c in columns)]
    lines += ["  ".join(cell(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)
