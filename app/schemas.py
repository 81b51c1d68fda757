"""Pydantic models of the HTTP API: the only place requests and responses are typed for the wire."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

MAX_QUESTION_CHARS = 1000
MAX_RAW_QUESTION_CHARS = 4 * MAX_QUESTION_CHARS  # before NFC: decomposed Vietnamese takes up to 3 code points
MAX_K = 50
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# whitespace as JSON Schema (ECMA-262 ``\\s``) knows it, so the schema and the server agree on "blank"
WHITESPACE = " \t\n\r\x0b\x0c\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
             "\u2028\u2029\u202f\u205f\u3000"
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]")
# what the schema promises and the server checks: something other than whitespace and zero-width characters
VISIBLE = "[^" + "".join(f"\\u{ord(c):04x}" for c in WHITESPACE + ZERO_WIDTH) + "]"


def clean_question(value: Any) -> Any:
    """NFC, zero-width characters removed, surrounding whitespace stripped — then the length is counted, so
    500 decomposed "ế" are 500 characters.  Non-strings pass through to the type check."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_RAW_QUESTION_CHARS:
        return value  # refused by max_length below without normalising megabytes
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", value)).strip(WHITESPACE)


def json_integer(value: Any) -> Any:
    """A JSON number for ``k``: true/false and strings are not integers (pydantic's lax mode would take them)."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=VISIBLE),
                     BeforeValidator(clean_question)]
TopK = Annotated[int, Field(ge=1, le=MAX_K, description=f"số đoạn trích dẫn trả về (1–{MAX_K})")]
BodyTopK = Annotated[TopK, BeforeValidator(json_integer)]


class AskRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"question": "Cơ quan nào chủ trì công tác kiểm tra, giám sát trong kế hoạch?", "k": 5}]})

    question: Question = Field(description="câu hỏi tiếng Việt, có hoặc không dấu (1–1000 ký tự, đếm sau chuẩn "
                                           "hóa NFC và bỏ khoảng trắng đầu/cuối)")
    k: BodyTopK = 5


class SearchParams(BaseModel):
    q: Question = Field(description="câu hỏi hoặc từ khóa (1–1000 ký tự)")
    k: TopK = 5


class LowConfidenceOut(BaseModel):
    """A restored word the restorer was not sure of (offsets on the printed passage)."""

    start: int
    end: int
    printed: str
    restored: str
    confidence: float


_PRINTED = ("the text exactly as printed (OCR plans: `text` shows the restored diacritics; offsets are on this "
            "text); equal to `text` for clean plans")


class CitationOut(BaseModel):
    rank: int
    chunk_id: str
    doc_id: str
    doc_number: str | None
    doc_type: str | None
    issuer: str | None
    date: str | None
    source_file: str
    section: str
    text: str
    score: float
    page: int | None = Field(None, description="trang (PDF, bản quét) nơi đoạn trích bắt đầu; không có với văn bản "
                                               "thuần")
    printed: str | None = Field(default=None, description=_PRINTED)
    restored: bool = Field(default=False, description="true when `text` is a restored reading of an OCR plan")
    low_confidence: list[LowConfidenceOut] = Field(default_factory=list)


class AnswerOut(BaseModel):
    """``id`` is present only when the request carried one (batch use); ``citations`` is empty on refusal."""

    id: str | None = None
    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    printed: str | None = Field(default=None, description="the answer as printed in the plan (see citations)")
    restored: bool | None = None


class SearchHitOut(BaseModel):
    rank: int
    chunk_id: str
    doc_id: str
    doc_number: str | None
    section: str
    text: str
    score: float
    page: int | None = Field(None, description="trang nơi đoạn bắt đầu (PDF, bản quét); không có với văn bản thuần")
    printed: str | None = Field(default=None, description=_PRINTED)
    restored: bool = False
    low_confidence: list[LowConfidenceOut] = Field(default_factory=list)


class SearchOut(BaseModel):
    query: str
    hits: list[SearchHitOut]


class DocumentSummary(BaseModel):
    doc_id: str
    source_file: str
    number: str | None
    doc_type: str | None
    issuer: str | None
    locality: str | None
    date: str | None
    signer: str | None
    ocr: bool
    sections: int
    chunks: int


class SectionOut(BaseModel):
    path: list[str]
    label: str
    title: str
    kind: str
    start: int
    end: int


class DocumentMeta(BaseModel):
    number: str | None
    number_raw: str | None
    doc_type: str | None
    issuer: str | None
    locality: str | None
    date: str | None
    date_iso: str | None
    signer: str | None
    title: str | None
    ocr: bool


class DocumentDetail(BaseModel):
    doc_id: str
    source_file: str
    sha256: str
    meta: DocumentMeta
    chunks: int
    sections: list[SectionOut]
    text: str
    printed: str | None = Field(default=None, description=_PRINTED + "; section offsets are on `printed`")
    restored: bool = False


class IndexSummary(BaseModel):
    chunk_count: int | None = None
    corpus_hash: str | None = None
    created: str | None = None
    embedding_model: str | None = None
    embedding_dim: int | None = None
    documents: int | None = None


class HealthOut(BaseModel):
    status: str = Field(description='"ok" khi chỉ mục đã nạp, "no_index" khi chưa')
    model: str | None
    index: IndexSummary | None
    detail: str | None = None


class ErrorOut(BaseModel):
    detail: str
    errors: list[dict[str, Any]] | None = None


class JobFileOut(BaseModel):
    """One file of an admin job: ``ok``, ``error`` (could not be read: ``detail`` names the file and the fix),
    ``rejected`` (refused before reading) or ``pending``."""

    name: str
    status: str
    doc_id: str | None = None
    detail: str | None = None
    pages: int | None = None
    chunks: int | None = None


class JobOut(BaseModel):
    """A background job of the admin API (``kind``: upload | delete)."""

    id: str
    kind: str
    status: str = Field(description="queued | running | done | failed")
    stage: str
    progress: float = Field(description="0–1")
    detail: str | None = None
    created: float
    finished: float | None = None
    index: dict[str, Any] | None = Field(None, description="số văn bản / đoạn của chỉ mục đang phục vụ sau job")
    files: list[JobFileOut]


class UploadRefusedOut(BaseModel):
    detail: str
    files: list[JobFileOut]


class AssignmentRow(BaseModel):
    """One assignment (who leads / coordinates which task, by when) with its plan and section."""

    doc_number: str = Field(description='số hiệu kế hoạch ("" nếu văn bản không ghi số)')
    doc_type: str
    issuer: str
    source_file: str
    section: str = Field(description="mục của kế hoạch chứa nhiệm vụ")
    row: str = Field(description="số thứ tự của nhiệm vụ như in trong văn bản")
    task: str
    lead: str = Field(description='cơ quan chủ trì, phân cách bằng "; "')
    coordinating: str = Field(description='cơ quan phối hợp, phân cách bằng "; "')
    deadline: str
    directing: str
    confidence: str
    start: int
    end: int
    printed: dict[str, str] = Field(default_factory=dict,
                                    description="columns whose restored reading differs: their value as printed")


class TargetRow(BaseModel):
    """One numeric target (chỉ tiêu) of a plan."""

    doc_number: str
    doc_type: str
    issuer: str
    source_file: str
    section: str
    indicator: str = Field(description='mã chỉ tiêu ("life_expectancy")')
    label: str
    value: str = Field(description='giá trị như in: "75,5", ">95", "4-5"')
    unit: str
    period: str = Field(description='mốc thời gian: "2030", "từ 2026", "2026-2030"')
    start: int
    end: int
    printed: dict[str, str] = Field(default_factory=dict,
                                    description="columns whose restored reading differs: their value as printed")
