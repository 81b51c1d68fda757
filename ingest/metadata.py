"""Per-document metadata: number, type, issuer, locality, date, signer.

Works on clean Unicode and on OCR text whose diacritics are broken: every
pattern is matched on the folded, OCR-repaired form (see :mod:`ingest.textnorm`),
and values are rebuilt in proper Vietnamese from canonical parts and a place
gazetteer.  Where a value is not printed (a blank number), it is ``None``.
"""

from __future__ import annotations

import re
import unicodedata

from ingest.places import known_places, restore_place  # noqa: F401  (re-exported: the gazetteer)
from ingest.records import DocMeta
from ingest.textnorm import fold, repair_token

_VI_MARKS = set("ăâêôơưđ")
_TYPE_NAMES = {"ke hoach": "Kế hoạch", "chuong trinh hanh dong": "Chương trình hành động"}
# header number: "Số 12-CTr/ĐU", OCR "S610 - CTr/TU", "$6 07 -KH/TU"
_NUMBER_RE = re.compile(
    r"(?:S[ốoóòô]|S[6obé0&]|\$6)\s*:?\s*(\d{1,4})\s*[-–]\s*([A-Za-z]{1,6})\s*/\s*([A-Za-zĐđ]{1,6})"
)
_BLANK_NUMBER_RE = re.compile(r"(?:Kế hoạch|Chương trình hành động|Chương trình)\s+số\s+/\s*[A-ZĐ][A-ZĐa-z\-]+")
_DATE_RE = re.compile(r"ngay\s*(\d{1,2})?\s*th\w{0,3}ng\s*(\d{1,2})?\s*n\w{0,2}m\s*(\d{4})")
_PARTIAL_DATE_RE = re.compile(r"ngay\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_BODY_ORGS = [
    ("ban thuong vu dang uy", "Ban Thường vụ Đảng ủy"),
    ("ban thuong vu tinh uy", "Ban Thường vụ Tỉnh ủy"),
    ("ban thuong vu thanh uy", "Ban Thường vụ Thành ủy"),
    ("ban chap hanh dang bo", "Ban Chấp hành Đảng bộ"),
    ("uy ban nhan dan", "Ủy ban nhân dân"),
    ("ubnd", "Ủy ban nhân dân"),
    ("dang uy", "Đảng ủy"),
    ("tinh uy", "Tỉnh ủy"),
    ("thanh uy", "Thành ủy"),
]
_LEVELS = {"xa": "xã", "tinh": "tỉnh", "phuong": "phường", "thanh pho": "thành phố", "huyen": "huyện"}


def is_ocr_text(text: str) -> bool:
    """True when most words have lost their Vietnamese diacritics (OCR output)."""
    words = re.findall(r"[^\W\d_]+", text)
    if not words:
        return False
    marked = 0
    for w in words:
        low = w.lower()
        if any(c in _VI_MARKS for c in low) or unicodedata.normalize("NFD", low) != low:
            marked += 1
    return marked / len(words) < 0.5


def repaired(text: str) -> str:
    """Folded text with each syllable OCR-repaired; same length as ``text``."""
    return re.sub(r"[a-z0-9]+", lambda m: repair_token(m.group(0)), fold(text))


def _header_lines(text: str, limit: int = 40) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            out.append((pos, line.rstrip("\r\n")))
        pos += len(line)
        if len(out) >= limit:
            break
    return out


def extract_doc_type(text: str) -> tuple[str | None, int]:
    """Type heading ("KẾ HOẠCH", OCR "CHUONG TRINH HANH PONG") and its line index."""
    for i, (_, line) in enumerate(_header_lines(text)):
        key = re.sub(r"\s+", " ", repaired(line)).strip(" .:")
        if key in _TYPE_NAMES:
            return _TYPE_NAMES[key], i
    return None, -1


def extract_number(text: str, issuer: str | None) -> tuple[str | None, str | None]:
    """Document number from the header, normalised: ("10-CTr/ĐU", "S610 - CTr/TU")."""
    _, type_idx = extract_doc_type(text)
    lines = _header_lines(text)
    if type_idx >= 0:
        lines = lines[:type_idx]
    for _, line in lines:
        m = _NUMBER_RE.search(line)
        if not m:
            continue
        num, kind, suffix = m.group(1), m.group(2), m.group(3)
        suffix = suffix.upper()
        if suffix in ("PU", "DU") or (suffix == "TU" and issuer and "dang uy" in fold(issuer)):
            suffix = "ĐU"  # a Đảng ủy signs "ĐU"; OCR reads Đ as P or T
        kind = {"ctr": "CTr", "kh": "KH", "nq": "NQ", "ct": "CT", "qd": "QĐ"}.get(kind.lower(), kind)
        return f"{int(num):02d}-{kind}/{suffix}", m.group(0).strip()
    blank = _BLANK_NUMBER_RE.search(text)  # "Kèm theo Kế hoạch số        /KH-UBND": number left blank
    if blank:
        return None, re.sub(r"\s+", " ", blank.group(0)).strip()
    return None, None


def extract_date(text: str) -> tuple[str | None, str | None]:
    """("21/11/2025", "2025-11-21"); partial dates keep only what is printed."""
    for _, line in _header_lines(text, limit=25):
        m = _DATE_RE.search(repaired(line))
        if m:
            return _format_date(m.group(1), m.group(2), m.group(3))
    m = _PARTIAL_DATE_RE.search(repaired(text))
    if m:
        return _format_date(None, m.group(1), m.group(2))
    return None, None


def _format_date(day: str | None, month: str | None, year: str) -> tuple[str, str | None]:
    if day and month:
        return f"{int(day):02d}/{int(month):02d}/{year}", f"{year}-{int(month):02d}-{int(day):02d}"
    if month:
        return f"{int(month):02d}/{year}", None
    return year, None


_ORG_RE = re.compile(
    r"(ban thuong vu (?:dang|tinh|thanh) uy|ban chap hanh dang bo|uy ban nhan dan|ubnd|dang uy|tinh uy|thanh uy)"
    r"\s*(xa|tinh|phuong|thanh pho|huyen)?\s*([a-z ]{0,30}?)\s*(?:ban hanh|xay dung)\b"
)
_HEADER_ORG_RE = re.compile(
    r"^(dang uy|tinh uy|thanh uy|uy ban nhan dan|ubnd)\s+(xa|tinh|phuong|huyen)?\s*([a-z ]+?)\s*$"
)


def _canonical_org(key: str) -> str:
    key = re.sub(r"\s+", " ", key)
    for folded, proper in _BODY_ORGS:
        if key == folded:
            return proper
    return key


def _header_place(text: str) -> tuple[str | None, str | None, bool]:
    """(level, name, name_is_raw) from a header line such as "TINH UY PIEN BIEN" or the date line."""
    for _, line in _header_lines(text, limit=12):
        rep = re.sub(r"\s+", " ", repaired(line)).strip()
        rep = re.sub(r"\s+\S*ang cong san viet nam.*$|\s+cong hoa xa hoi.*$", "", rep).strip()
        m = _HEADER_ORG_RE.match(rep)
        if m and m.group(3):
            level = m.group(2) or ("tinh" if m.group(1) == "tinh uy" else None)
            return level, m.group(3), False
    for _, line in _header_lines(text, limit=25):
        m = re.match(r"^\s*([^\W\d_][^,\d]{1,40}?)\s*,\s*ng", line)
        if m and _DATE_RE.search(repaired(line)):
            return None, m.group(1), True
    return None, None, False


def _preamble(text: str) -> str:
    m = re.search(r"(?m)^\s*I\s*[.\-–]\s*\S", text)
    return text[: m.start()] if m else text[:3000]


def extract_issuer(text: str, ocr: bool) -> tuple[str | None, str | None]:
    """("Ban Thường vụ Tỉnh ủy Điện Biên", "tỉnh Điện Biên") from the preamble and header."""
    raw = re.sub(r"\s+", " ", _preamble(text))
    rep = repaired(raw)
    matches = list(_ORG_RE.finditer(rep))
    h_level, h_name, h_raw = _header_place(text)
    if not matches:
        return None, _locality(h_level, h_name, ocr or not h_raw)
    m = matches[-1]
    org = _canonical_org(m.group(1))
    level = m.group(2) or h_level
    if m.group(3).strip():
        name = raw[m.start(3): m.end(3)] if not ocr else m.group(3)
    else:
        name = h_name
    if level is None and "tinh uy" in m.group(1):
        level = "tinh"
    locality = _locality(level, name, True)
    place = locality.split(" ", 1)[1] if locality and level else locality
    if org.endswith(("Tỉnh ủy", "Thành ủy")):
        issuer = f"{org} {place}" if place else org
    else:
        issuer = f"{org} {locality}" if locality else org
    return issuer, locality


def _locality(level: str | None, name: str | None, restore: bool) -> str | None:
    if not name or not name.strip():
        return None
    proper = restore_place(name) if restore else re.sub(r"\s+", " ", name).strip(" ,")
    if proper and proper[0].islower():
        proper = " ".join(w[:1].upper() + w[1:] for w in proper.split())
    return f"{_LEVELS.get(level, level)} {proper}" if level else proper


def extract_signer(text: str) -> str | None:
    """The signer's name: the last personal-name line of the signature block."""
    folded = repaired(text)
    start = max(folded.rfind("noi nhan"), 0)
    m = re.search(r"(?m)^\s*(?:phu luc|phu lye|phu lyc)\b", folded[start:])
    end = start + m.start() if m else len(text)
    best = None
    for line in text[start:end].splitlines():
        words = line.strip().split()
        if 2 <= len(words) <= 4 and all(_is_name_word(w) for w in words):
            best = " ".join(words)
    return best


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() and word[1:].islower() and word.isalpha() and len(word) <= 7


def extract_title(text: str) -> str | None:
    """The lines under the type heading, up to "... sức khỏe Nhân dân [trên địa bàn ...]"."""
    _, type_idx = extract_doc_type(text)
    if type_idx < 0:
        return None
    lines = [ln.strip() for _, ln in _header_lines(text, limit=type_idx + 8)[type_idx + 1:]]
    out = []
    for line in lines[:6]:
        out.append(line)
        if "nhan dan" in repaired(line) or "dia ban" in repaired(line):
            break
    return re.sub(r"\s+", " ", " ".join(out)).strip() or None


def extract_metadata(text: str) -> DocMeta:
    """All metadata of one plan; fields that are not printed are ``None``."""
    ocr = is_ocr_text(text)
    doc_type, _ = extract_doc_type(text)
    issuer, locality = extract_issuer(text, ocr)
    number, number_raw = extract_number(text, issuer)
    date, date_iso = extract_date(text)
    return DocMeta(
        number=number, number_raw=number_raw, doc_type=doc_type, issuer=issuer, locality=locality,
        date=date, date_iso=date_iso, signer=extract_signer(text), title=extract_title(text), ocr=ocr,
    )
