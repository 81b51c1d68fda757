"""The shape of ``manifest.json``: what the loader and the retriever read from it, checked before use.

Only the keys the code reads are required; others (build statistics, update history) may come and go.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class EmbeddingInfo(_Open):
    model: StrictStr
    dim: StrictInt = Field(gt=0)
    normalized: StrictBool = True


class DocumentEntry(_Open):
    doc_id: StrictStr
    source_file: StrictStr
    sha256: StrictStr


class FaissInfo(_Open):
    settings: dict[str, Any] | None = None


class FactsInfo(_Open):
    file: StrictStr
    fingerprint: StrictStr


class RestorerInfo(_Open):
    restorer: StrictStr
    model_version: StrictStr
    model_sha256: StrictStr


class Manifest(_Open):
    format_version: StrictInt
    normalisation: StrictStr
    embedding: EmbeddingInfo
    chunk_count: StrictInt = Field(ge=0)
    chunking: dict[str, Any]
    documents: list[DocumentEntry]
    checksums: dict[str, StrictStr] = Field(default_factory=dict)
    faiss: FaissInfo = Field(default_factory=FaissInfo)
    facts: FactsInfo | None = None
    restorer: RestorerInfo | None = None  # OCR diacritic restorer that made ``restored.jsonl``
    build: dict[str, Any] = Field(default_factory=dict)


def manifest_problem(data: Any) -> str | None:
    """None when ``data`` has the manifest's shape, else a short description of the first problems."""
    try:
        Manifest.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:3]:
            where = ".".join(str(x) for x in err["loc"]) or "(top level)"
            parts.append(f"{where}: {err['msg']}")
        return "; ".join(parts)
    return None
