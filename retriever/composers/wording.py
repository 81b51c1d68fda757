"""How composers word what they quote: plan labels, clipped quotes, assignments, periods, values."""

from __future__ import annotations

from ingest.textnorm import collapse_ws


def clip(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters at a word boundary, with " …" when cut."""
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " …"


def describe_assignment(a, task_chars: int, ocr: bool = False) -> str:
    """Lead, coordination, deadline, directing committee, confidence and task of an assignment, in one line
    (``ocr``: the plan was read from an OCR text, which is said when a field is unsure)."""
    source = "bản OCR" if ocr else "văn bản"
    lead = ", ".join(a.lead) if a.lead else "không đọc được (bản OCR)" if ocr else "văn bản không nêu rõ"
    parts = [f"Cơ quan chủ trì: {lead}."]
    if a.coordinating:
        parts.append(f"Phối hợp: {'; '.join(a.coordinating)}.")
    if a.deadline:
        parts.append(f"Thời hạn: {a.deadline}.")
    if a.directing:
        parts.append(f"Cấp ủy chỉ đạo: {', '.join(a.directing)}.")
    if a.confidence != "high":
        parts.append(f"(Đọc từ {source}, độ tin cậy: {'trung bình' if a.confidence == 'medium' else 'thấp'}.)")
    parts.append(f"Nhiệm vụ: {clip(collapse_ws(a.task), task_chars)}")
    return " ".join(parts)


def period(value: str) -> str:
    """"2030" → "đến năm 2030"; ranges and words stay as printed."""
    return value if not value[:1].isdigit() or "-" in value else f"đến năm {value}"


def show_value(value: str) -> str:
    """">=75,5" → "≥75,5", "<=5" → "≤5" (values stay as printed otherwise)."""
    return value.replace(">=", "≥").replace("<=", "≤")
