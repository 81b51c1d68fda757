"""Answers built from extracted assignments and targets, and their CLI exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.cli import main as cli_main


@pytest.mark.parametrize(
    "question,lead,number",
    [
        ("Phụ lục Kế hoạch 07-KH/TU giao cơ quan nào chủ trì tổ chức “Ngày Sức khỏe toàn dân” 7/4?", "Sở Y tế",
         "07-KH/TU"),
        ("co quan nao chu tri tham muu cong tac dieu tri Methadone o tinh Dien Bien", "Sở Y tế", "07-KH/TU"),
        ("Ở xã Mường La, nhiệm vụ bảo đảm trật tự, an toàn giao thông, phòng, chống cháy nổ, bạo lực xã hội "
         "(mục 6.1 Phụ lục 02) do ai chủ trì?", "Công an xã", None),
        ("Ai chủ trì bố trí ngân sách nhà nước cho công tác bảo vệ, chăm sóc sức khỏe Nhân dân ở xã Mường La?",
         "Phòng Kinh tế", None),
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
    a = retriever.ask("muc tieu tang chieu cao tre em them 1,6 cm o xa Muong La phai hoan thanh khi nao")
    assert "Thời hạn: Đến tháng 9/2030" in a.answer and "Phối hợp: Các cơ quan, đơn vị" in a.answer


def test_tasks_of_an_agency(retriever):
    a = retriever.ask("Sở Y tế chủ trì những nhiệm vụ nào trong Kế hoạch 07-KH/TU?")
    assert a.answer.startswith("Sở Y tế chủ trì")
    assert len(a.citations) >= 10 and {c.doc_number for c in a.citations} == {"07-KH/TU"}


def test_target_across_plans(retriever):
    a = retriever.ask("So sánh mục tiêu tuổi thọ trung bình đến năm 2030 của Tỉnh ủy Điện Biên và của xã Mường La?")
    assert "73 tuổi" in a.answer and "75 tuổi" in a.answer
    assert {"002_2e9b76a3db659b23", "004_e69ace08222b1b54"} <= {c.doc_id for c in a.citations}


def test_target_question_about_a_task_is_not_answered_by_the_indicator(retriever):
    a = retriever.ask("Việc luân phiên, luân chuyển bác sĩ về trạm y tế xã trong phụ lục của Kế hoạch 07-KH/TU "
                      "bắt đầu từ khi nào?")
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
