"""Answers built from extracted assignments and targets, and their CLI exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.cli import main as cli_main
from retriever.composers.assignment import chunk_ranks


@pytest.mark.parametrize(
    "question,lead,number",
    [
        ("Phụ lục Kế hoạch 07-KH/TU giao cơ quan nào chủ trì tổ chức “Ngày Sức khỏe toàn dân” 7/4?", "Sở Y tế",
         "07-KH/TU"),
        ("co quan nao chu tri trien khai chien luoc quoc gia ve dinh duong o tinh Dien Bien", "Sở Y tế", "07-KH/TU"),
        ("Mục 6.1 Phụ lục 02 của kế hoạch xã Mường La về trật tự, an toàn giao thông, phòng chống cháy nổ giao cho "
         "cơ quan nào chủ trì?", "Công an xã", None),
        ("Ai chủ trì ưu tiên dành quỹ đất sạch cho phát triển y tế ở xã Mường La?", "Phòng Kinh tế", None),
    ],
)
def test_lead_agency_from_assignments(retriever, question, lead, number):
    a = retriever.ask(question)
    assert not a.abstained
    assert a.answer.startswith(f"Cơ quan chủ trì: {lead}")
    assert a.citations[0].doc_number == number
    # the quoted source row lies inside the first cited passage
    c = a.citations[0]
    assert c.start <= retriever.bundle.documents[c.doc_id].text.find(a.evidence) < c.end


def test_deadline_and_coordination_are_stated(retriever):
    a = retriever.ask("ty le nguoi dan tham gia hoat dong the chat tang them 10% o xa Muong La phai dat khi nao")
    assert "Thời hạn: Đến tháng 9/2030" in a.answer and "Phối hợp: Các cơ quan, đơn vị" in a.answer


def test_tasks_of_an_agency(retriever):
    a = retriever.ask("Sở Y tế chủ trì những nhiệm vụ nào trong Kế hoạch 07-KH/TU?")
    assert a.answer.startswith("Sở Y tế chủ trì")
    assert len(a.citations) >= 10 and {c.doc_number for c in a.citations} == {"07-KH/TU"}


def test_target_across_plans(retriever):
    a = retriever.ask("Mục tiêu tuổi thọ trung bình năm 2030 của Điện Biên và của Mường La khác nhau thế nào?")
    assert "73 tuổi" in a.answer and "75 tuổi" in a.answer
    assert {"002_2e9b76a3db659b23", "004_e69ace08222b1b54"} <= {c.doc_id for c in a.citations}


def test_target_question_about_a_task_is_not_answered_by_the_indicator(retriever):
    a = retriever.ask("Trong phụ lục Kế hoạch 07-KH/TU, nhiệm vụ đưa bác sĩ luân phiên về trạm y tế xã được thực "
                      "hiện từ khi nào?")
    assert "Số bác sĩ tại trạm y tế xã" not in a.answer


def test_cli_assignments_csv(index_dir, capsys):
    assert cli_main(["assignments", "--doc", "Mường La", "--format", "csv", "--index-dir", str(index_dir)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 48 and {r["issuer"] for r in rows} == {"Ủy ban nhân dân xã Mường La"}
    assert any(r["row"] == "6.1" and r["lead"] == "Công an xã" for r in rows)


def test_cli_assignments_by_agency_without_diacritics(index_dir, capsys):
    assert cli_main(["assignments", "--agency", "so y te", "--format", "json", "--index-dir", str(index_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all("Sở Y tế" in r["lead"] for r in rows)


def test_cli_targets(index_dir, capsys):
    assert cli_main(["targets", "--indicator", "tuoi tho", "--format", "json", "--index-dir", str(index_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    values = {(r["doc_number"], r["period"]): r["value"] for r in rows}
    assert values[("07-KH/TU", "2030")] == "73"
    assert cli_main(["targets", "--indicator", "no-such-thing", "--index-dir", str(index_dir)]) == 2
    assert "unknown indicator" in capsys.readouterr().err


def test_cli_unknown_plan(index_dir, capsys):
    assert cli_main(["assignments", "--doc", "99-KH/TU", "--index-dir", str(index_dir)]) == 2
    assert "no indexed plan" in capsys.readouterr().err


def _scan_scores(facts, question, places, docs, chunk_rank, rows):
    """The per-record definition match_assignments must agree with (a full scan, as it was first written)."""
    from retriever.fuzzy import near_any

    words = facts.topic_words(question, places)
    total = sum(facts.idf.get(w, 3.0) for w in words)
    out = []
    for a, toks, ocr in zip(facts.assignments, facts._tokens, facts._ocr, strict=True):
        if docs and a.doc_id not in docs:
            continue
        cover = sum(facts.idf.get(w, 3.0) for w in words if w in toks or (ocr and near_any(w, toks, min_len=4)))
        rank = chunk_rank.get((a.doc_id, a.start))
        bonus = 0.15 / (1 + rank) if rank is not None else 0.0
        if a.row and a.row in rows:
            bonus += 0.3
        if cover / total + bonus > 0:
            out.append((cover / total + bonus, a.doc_id, a.start))
    return sorted(out, key=lambda s: (-s[0], s[1], s[2]))


@pytest.mark.parametrize("question,scoped,rows", [
    ("Cơ quan nào chủ trì tổ chức Ngày Sức khỏe toàn dân?", False, ()),
    ("co quan nao chu tri trien khai chien luoc quoc gia ve dinh duong", False, ()),
    ("Ai chu tri bao hiem y te toan dan o Dien Bien", True, ()),  # OCR plan: words within one edit count
    ("nhiệm vụ bảo đảm trật tự, an toàn giao thông (mục 6.1) do ai chủ trì?", False, ("6.1",)),
])
def test_indexed_assignment_scores_equal_a_full_scan(retriever, question, scoped, rows):
    facts = retriever.facts
    docs = sorted({a.doc_id for a in facts.assignments if a.form == "ocr_table"}) if scoped else None
    hits = retriever.search(question, 10)
    ranks = chunk_ranks(retriever.corpus, hits, 10)
    got = [(s.score, s.record.doc_id, s.record.start)
           for s in facts.match_assignments(question, (), docs, ranks, rows=rows)]
    want = _scan_scores(facts, question, (), docs, ranks, rows)
    assert got == want and len(got) > 3
    if scoped:  # the OCR case really exercises words matched within one edit only
        words = facts.topic_words(question, ())
        assert any(set(facts._holding(w).tolist()) - set(facts._postings.get(w, ()).tolist()) for w in words)
    best = facts.match_assignments(question, (), docs, ranks, rows=rows, limit=1)
    assert [(s.score, s.record.doc_id, s.record.start) for s in best] == want[:1]
