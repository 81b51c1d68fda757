"""A Markdown copy of a bundled plan (bold headings, the header as a ``|`` table, as web copies of plans are
printed) is read as the plain file is: the same metadata, and the same answers to the same questions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_scope import HashingEncoder

from index.store import build_index, load_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths
from ingest.textnorm import collapse_ws
from retriever.service import Retriever

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "corpus" / "003_d8f725de1b77ed97.txt"  # a typed (not OCR) plan with a header, a type heading, parts
HEADING_RE = re.compile(r"^(?:[IVX]+|\d+)\.\s+\S.{0,80}$")  # a numbered heading; not a numbered paragraph
QUESTIONS = (
    "Chương trình hành động này của Đảng ủy xã Định Hóa mang số hiệu nào, ai ký?",
    "Cơ quan nào chịu trách nhiệm chủ trì việc tuyên truyền Nghị quyết 72 ở xã Định Hóa?",
    "Đến năm 2030, tuổi thọ bình quân của người dân xã Định Hóa phấn đấu đạt bao nhiêu?",
    "xa Dinh Hoa phan dau ty le bao phu bao hiem y te dat bao nhieu",
)


def to_markdown(text: str) -> str:
    """The plan as a web page's Markdown: header lines before the type heading in a two-column ``|`` table,
    the type heading and numbered headings in bold."""
    lines = text.split("\n")
    type_at = next(i for i, line in enumerate(lines) if line.strip() and line.strip().isupper() and len(line) > 6)
    head = [line.strip() for line in lines[:type_at] if line.strip()]
    cells = [head[i:i + 2] + [""] * (2 - len(head[i:i + 2])) for i in range(0, len(head), 2)]
    table = [f"| {cells[0][0]} | {cells[0][1]} |", "|---|---|", *[f"| {a} | {b} |" for a, b in cells[1:]]]
    body = [f"**{line.strip()}**" if (i == type_at or HEADING_RE.match(line)) and line.strip() else line
            for i, line in enumerate(lines) if i >= type_at]
    return "\n".join([*table, "", *body])


def _retriever(folder: Path, tmp: Path) -> Retriever:
    docs, chunks = ingest_paths([folder], ChunkSettings(), progress=False)
    build_index(docs, chunks, HashingEncoder(), tmp / "index", ChunkSettings(), progress=False)
    return Retriever(load_index(tmp / "index"), HashingEncoder())


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Retriever, Retriever]:
    plain_dir, md_dir = tmp_path_factory.mktemp("plain"), tmp_path_factory.mktemp("md")
    text = PLAN.read_text("utf-8")
    (plain_dir / "plan.txt").write_text(text, "utf-8")
    md = to_markdown(text)
    assert md.startswith("| ") and "**CHƯƠNG TRÌNH HÀNH ĐỘNG**" in md and "**I. MỤC ĐÍCH, YÊU CẦU**" in md
    (md_dir / "plan.md").write_text(md, "utf-8")
    return _retriever(plain_dir, tmp_path_factory.mktemp("i1")), _retriever(md_dir, tmp_path_factory.mktemp("i2"))


def _plain(answer: str) -> str:
    """The answer without Markdown marks, up to its quoted source passage (whose window may end one item
    earlier when the next item opens with a bold heading)."""
    return collapse_ws(re.sub(r"[*|]", " ", answer.split("“", 1)[0]))


def test_markdown_copy_has_the_same_metadata(pair):
    plain, md = (next(iter(r.documents.values())).meta for r in pair)
    for field in ("number", "doc_type", "issuer", "locality", "date", "signer"):
        assert getattr(md, field) == getattr(plain, field), field
    assert plain.number and plain.signer


@pytest.mark.parametrize("question", QUESTIONS)
def test_markdown_copy_answers_as_the_plain_file(pair, question):
    plain, md = (r.ask(question) for r in pair)
    assert not plain.abstained
    assert md.abstained == plain.abstained and md.intent == plain.intent
    assert _plain(md.answer) == _plain(plain.answer)
    first = [(c.doc_number, c.section) for c in plain.citations][:1]
    assert [(c.doc_number, c.section) for c in md.citations][:1] == first
