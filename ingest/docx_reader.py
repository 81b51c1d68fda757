"""Word (.docx) files → text: paragraphs and tables in body order, table rows kept as rows.

A data table row becomes one line whose cells are joined by :data:`ingest.pages.CELL_SEP` (the same row
format as PDF and OCR tables), so the assignment and target extractors see "Đơn vị chủ trì | Đơn vị phối hợp |
Thời gian" side by side.  A cell merged across columns is written once; a cell merged down rows is repeated
in each row it covers (python-docx's view), so every row keeps its own lead agency.  Layout tables — at most
two distinct cells per row, e.g. the header block "BỘ Y TẾ / CỘNG HÒA …" or the signature block — are
written cell by cell, one paragraph per line, as plain text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.pages import table_row

LAYOUT_MAX_CELLS = 2


def read_docx(path: Path) -> str:
    """The document's text.  Raises ValueError naming the file when it is not a readable .docx."""
    import docx  # python-docx (a declared dependency)
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several types for a broken package
        raise ValueError(f"{path.name}: not a readable .docx file ({exc}); re-save it from Word as .docx") from exc
    lines: list[str] = []
    for el in d.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(el, d).text)
        elif tag == "tbl":
            lines.extend(table_lines(Table(el, d)))
    return "\n".join(lines)


def _row_cells(row: Any) -> list[Any]:
    """The row's cells, a cell merged across several grid columns given once."""
    out: list[Any] = []
    for cell in row.cells:
        if not out or cell._tc is not out[-1]._tc:
            out.append(cell)
    return out


def _cell_text(cell: Any) -> str:
    return " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())


def table_lines(table: Any) -> list[str]:
    """Lines of one table: data rows as CELL_SEP-joined rows, layout tables as their paragraphs."""
    rows = [_row_cells(r) for r in table.rows]
    if all(len(r) <= LAYOUT_MAX_CELLS for r in rows):
        return [p.text for r in rows for c in r for p in c.paragraphs if p.text.strip()]
    out = []
    for cells in rows:
        texts = [_cell_text(c) for c in cells]
        if any(texts):
            out.append(table_row(texts))
    return out
