"""Per-document metadata: number, type, issuer, locality, date, signer, title.

The header grammar is that of the state's document rules (Nghị định 30/2020/NĐ-CP) and the
party's (Hướng dẫn 36-HD/VPTW):

    TÊN CƠ QUAN (one or two org lines)     QUỐC HIỆU / ĐẢNG CỘNG SẢN VIỆT NAM
    Số: 165/KH-UBND                        Địa danh, ngày … tháng … năm …
                         TÊN LOẠI (KẾ HOẠCH, QUYẾT ĐỊNH, …)
                         trích yếu (title)
    căn cứ … / body … / Nơi nhận … / TM. (KT., T/M) … chức vụ … signer's name

Headers come as two columns on one line (OCR), as cells split by lone "|" lines (copied from a
website), with Markdown emphasis, or wrapped mid-name; all are read on the folded text with
whitespace runs treated as one space.  Patterns are matched on the folded form, OCR-repaired
only when the document is detected as OCR (:func:`ingest.textnorm.is_ocr_text`).  Values are
rebuilt in proper Vietnamese from canonical parts and the place gazetteer.  Where a value is not
printed (a blank number), it is ``None``.

A "Quyết định ban hành / phê duyệt Kế hoạch" keeps ``doc_type`` "Quyết định" (what it is) and gets
``issued_type`` "Kế hoạch" (what it issues): :attr:`DocMeta.types` holds both, so a question about
"Kế hoạch 2954" finds Quyết định 2954/QĐ-UBND (see :meth:`ingest.docnumber.Mention.matches`).
"""

from __future__ import annotations

import re

from ingest import docnumber, layout
from ingest.heading import article_heading
from ingest.places import canonical as canonical_place
from ingest.places import known_places, restore_place  # noqa: F401  (re-exported: the gazetteer)
from ingest.records import DocMeta
from ingest.textnorm import fold, is_ocr_text, repaired

# Type headings (tên loại), folded → proper, as printed on their own line under the header.
TYPE_NAMES: dict[str, str] = {
    "ke hoach": "Kế hoạch", "chuong trinh hanh dong": "Chương trình hành động", "chuong trinh": "Chương trình",
    "quyet dinh": "Quyết định", "nghi quyet": "Nghị quyết", "chi thi": "Chỉ thị", "huong dan": "Hướng dẫn",
    "de an": "Đề án", "thong bao": "Thông báo", "bao cao": "Báo cáo", "ket luan": "Kết luận",
    "phuong an": "Phương án", "to trinh": "Tờ trình", "quy che": "Quy chế", "quy dinh": "Quy định",
    "luat": "Luật", "nghi dinh": "Nghị định", "thong tu": "Thông tư", "cong van": "Công văn",
}
_ISSUED_RE = re.compile(r"\b(?:ban\s+hanh|phe\s+duyet)\s+(ke\s+hoach|chuong\s+trinh(?:\s+hanh\s+dong)?|de\s+an|"
                        r"phuong\s+an|quy\s+che|quy\s+dinh|huong\s+dan)\b")
_BLANK_NUMBER_RE = re.compile(r"(?:Kế hoạch|Chương trình hành động|Chương trình)\s+số\s+/\s*[A-ZĐ][A-ZĐa-z\-]+")
_BLANK_HEADER_NUMBER_RE = re.compile(r"s[o0e6]\s*:?\s*/\s*[a-z]")
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
# Heads of a tên cơ quan line (folded), longest first, → proper spelling.  What follows the head
# is the rest of the name ("SỞ Y TẾ") or a place ("TỈNH HÀ TĨNH").
ORG_HEADS: tuple[tuple[str, str], ...] = (
    ("ban thuong vu", "Ban Thường vụ"), ("ban chap hanh", "Ban Chấp hành"), ("uy ban nhan dan", "Ủy ban nhân dân"),
    ("hoi dong nhan dan", "Hội đồng nhân dân"), ("thu tuong chinh phu", "Thủ tướng Chính phủ"),
    ("thu tuong", "Thủ tướng"), ("chinh phu", "Chính phủ"), ("van phong", "Văn phòng"), ("ubnd", "Ủy ban nhân dân"),
    ("hdnd", "Hội đồng nhân dân"), ("dang uy", "Đảng ủy"), ("dang bo", "Đảng bộ"), ("tinh uy", "Tỉnh ủy"),
    ("thanh uy", "Thành ủy"), ("huyen uy", "Huyện ủy"), ("chi bo", "Chi bộ"), ("tong cuc", "Tổng cục"),
    ("bo chi huy", "Bộ Chỉ huy"), ("bo", "Bộ"), ("so", "Sở"), ("cuc", "Cục"), ("ban", "Ban"),
    ("trung tam", "Trung tâm"), ("ban chi dao", "Ban Chỉ đạo"),
)
_PARTY_COMMITTEES = ("dang uy", "tinh uy", "thanh uy", "huyen uy", "chi bo")
# Administrative levels that open a place name, folded → proper.
LEVELS: dict[str, str] = {
    "thanh pho": "thành phố", "thi xa": "thị xã", "thi tran": "thị trấn", "dac khu": "đặc khu",
    "tinh": "tỉnh", "huyen": "huyện", "quan": "quận", "xa": "xã", "phuong": "phường",
}
_LEVEL_RE = re.compile(r"^(thanh pho|thi xa|thi tran|dac khu|tinh|huyen|quan|xa|phuong)\b\s*(.*)$")
_SIGN_AUTHORITY_RE = re.compile(r"^(?:t\s*/\s*m|tm|kt|tl|tuq|q|thay mat|ky thay)\s*[.:]?\s+\S")


def _header_lines(text: str, start: int = 0, limit: int = 40) -> list[tuple[int, str]]:
    """(offset, line without marks) of the first ``limit`` non-filler lines from ``start``."""
    lines = layout.logical_lines(text, start, min(len(text), start + 12000))
    return [(pos, clean) for pos, _, clean, _ in lines[:limit]]


def extract_doc_type(text: str, start: int = 0, ocr: bool = True) -> tuple[str | None, int]:
    """Type heading ("KẾ HOẠCH", "**QUYẾT ĐỊNH**", OCR "CHUONG TRINH HANH PONG") and its line index."""
    for i, (_, line) in enumerate(_header_lines(text, start)):
        key = re.sub(r"\s+", " ", repaired(line, ocr)).strip(" .")
        if key in TYPE_NAMES and line.upper() == line:
            return TYPE_NAMES[key], i
    return None, -1


def _party_code(number: docnumber.DocNumber, issuer: str | None) -> docnumber.DocNumber:
    """A Đảng ủy signs "ĐU"; OCR reads its Đ as T ("…/TU") when the issuer is known to be a Đảng ủy."""
    if number.style == "party" and number.code == "TU" and issuer and "dang uy" in fold(issuer):
        return docnumber.DocNumber(number.serial, number.kind, "ĐU", number.year, number.style)
    return number


def _type_offset(text: str, start: int, ocr: bool) -> int | None:
    _, idx = extract_doc_type(text, start, ocr)
    return _header_lines(text, start)[idx][0] if idx >= 0 else None


def extract_number(text: str, issuer: str | None, start: int = 0, ocr: bool = True) -> tuple[str | None, str | None]:
    """Document number from the header (before the type heading), normalised: ("10-CTr/ĐU", "S610 - CTr/TU")."""
    type_at = _type_offset(text, start, ocr)
    found = layout.header_number(text, start, (type_at - start) if type_at is not None else 2500)
    if found:
        n, a, b = found
        return str(_party_code(n, issuer)), re.sub(r"\s+", " ", text[a:b]).strip()
    blank = _BLANK_NUMBER_RE.search(text)  # "Kèm theo Kế hoạch số        /KH-UBND": number left blank
    if blank:
        return None, re.sub(r"\s+", " ", blank.group(0)).strip()
    return None, None


def _header_region(text: str, start: int, ocr: bool) -> str:
    """The repaired header from ``start`` up to the type heading (or 1,500 characters)."""
    type_at = _type_offset(text, start, ocr)
    end = type_at if type_at is not None and type_at > start else start + 1500
    return repaired(text[start:end], ocr)


def extract_date(text: str, start: int = 0, ocr: bool = True) -> tuple[str | None, str | None]:
    """The document's own date ("21/11/2025", "2025-11-21") from its header; partial dates keep what is printed."""
    m = _DATE_RE.search(_header_region(text, start, ocr))
    if m:
        return _format_date(m.group(1), m.group(2), m.group(3))
    m = _PARTIAL_DATE_RE.search(repaired(text, ocr))
    if m:
        return _format_date(None, m.group(1), m.group(2))
    return None, None


def _format_date(day: str | None, month: str | None, year: str) -> tuple[str, str | None]:
    if day and month:
        return f"{int(day):02d}/{int(month):02d}/{year}", f"{year}-{int(month):02d}-{int(day):02d}"
    if month:
        return f"{int(month):02d}/{year}", None
    return year, None


def _org_lines(text: str, start: int, ocr: bool) -> list[str]:
    """The tên cơ quan lines of a header with a quốc hiệu (printed form, marks stripped); [] without one."""
    region = text[start:start + 3000]
    m = layout.MOTTO_RE.search(repaired(region, ocr))
    if m is None:
        return []
    motto_at, motto_end = start + m.start(), start + m.end()
    out: list[str] = []
    for pos, line in layout.lines_with_offsets(text, start, motto_at + 1):
        piece = line if pos + len(line) <= motto_at else text[pos:motto_at]
        if layout.is_filler(piece):
            continue
        piece = layout.strip_marks(piece)
        if piece.upper() != piece:
            return []
        out.append(piece)
    after_at = text.find("\n", motto_end)
    following = [ln for _, ln in layout.lines_with_offsets(text, after_at + 1, after_at + 400)
                 if not layout.is_filler(ln)][:2] if after_at >= 0 else []
    for after in following:  # OCR of two columns: the org's second line shares a line with "Độc lập …"
        after = layout.strip_marks(after)
        rep = repaired(after, ocr)
        cut = rep.find("doc lap")
        piece = after[:cut].strip() if cut >= 0 else after
        if not piece or piece.upper() != piece or re.match(r"s[o0e6]\b|s[06e]\d", rep):
            break
        out.append(piece)
        if cut >= 0:
            break
    return out


def _head_of(folded: str) -> tuple[str, str] | None:
    for head, proper in ORG_HEADS:
        if folded == head or folded.startswith(head + " "):
            return head, proper
    return None


def _is_partial_head(folded: str) -> bool:
    return any(h.startswith(folded + " ") for h, _ in ORG_HEADS) and _head_of(folded) is None


def _org_segments(lines: list[str], ocr: bool) -> list[str]:
    """Org names of the header, each joined from its (possibly wrapped) lines."""
    segs: list[str] = []
    for line in lines:
        key = re.sub(r"\s+", " ", repaired(line, ocr)).strip()
        if segs and (_head_of(key) is None or _is_partial_head(re.sub(r"\s+", " ", repaired(segs[-1], ocr)))):
            segs[-1] = f"{segs[-1]} {line}"
        elif _head_of(key) is not None or not segs:
            segs.append(line)
    return [re.sub(r"\s+", " ", s).strip() for s in segs]


def _sentence_case(words: list[str]) -> str:
    return " ".join(w.capitalize() if i == 0 else w.lower() for i, w in enumerate(words))


def _place_name(printed: str, ocr: bool) -> str:
    """Gazetteer spelling; else the printed name in title case (its OCR-repaired form for OCR text)."""
    known = canonical_place(printed)
    if known:
        return known
    name = re.sub(r"\s+", " ", repaired(printed, True) if ocr else printed).strip(" ,.;")
    return name.title() if name.upper() == name or ocr else name


def _split_org(seg: str, ocr: bool) -> tuple[str, str, str | None, str | None] | None:
    """(head key, name, level, place) of one org segment: ("so", "Sở Y tế", "tỉnh", "Hà Tĩnh")."""
    words = seg.split()
    keys = repaired(seg, ocr).split()
    found = _head_of(" ".join(keys))
    if found is None:
        return None
    head, proper = found
    n = len(head.split())
    rest_keys, rest_words = keys[n:], words[n:]
    for i in range(len(rest_keys)):
        lv = " ".join(rest_keys[i:i + 2]) if " ".join(rest_keys[i:i + 2]) in LEVELS else rest_keys[i]
        if lv in LEVELS and i + len(lv.split()) < len(rest_keys):
            place = " ".join(rest_words[i + len(lv.split()):])
            name = _sentence_case(rest_words[:i]) if i else ""
            return head, f"{proper} {name}".strip(), LEVELS[lv], _place_name(place, ocr)
    if head in _PARTY_COMMITTEES[1:] and rest_words:  # "TỈNH ỦY ĐIỆN BIÊN": the place follows directly
        return head, proper, "tỉnh" if head == "tinh uy" else None, _place_name(" ".join(rest_words), ocr)
    name = _sentence_case(rest_words) if rest_words and head not in ("thu tuong chinh phu",) else ""
    return head, f"{proper} {name}".strip(), None, None


def header_issuer(text: str, start: int, ocr: bool) -> tuple[str | None, str | None]:
    """(issuer, locality) from the tên cơ quan of a header: the last org, with the place of an upper one."""
    parts = [p for p in (_split_org(s, ocr) for s in _org_segments(_org_lines(text, start, ocr), ocr)) if p]
    if not parts:
        return None, None
    head, name, level, place = parts[-1]
    if place is None:
        inherited = next(((lv, pl) for _, _, lv, pl in reversed(parts[:-1]) if pl), None)
        level, place = inherited if inherited else (None, None)
    locality = f"{level} {place}" if level and place else place
    if place is None:
        return name, None
    if head in _PARTY_COMMITTEES[1:]:
        return f"{name} {place}", locality
    return f"{name} {locality}", locality


def _standing_committee(text: str, issuer: str, ocr: bool) -> str:
    """A party committee's document signed "T/M BAN THƯỜNG VỤ" is issued by its Ban Thường vụ."""
    key = fold(issuer)
    if not key.startswith(_PARTY_COMMITTEES) or key.startswith("ban "):
        return issuer
    if re.search(r"t\s*/\s*[mi]{1,2}\s+ban\s+thuong\s+vu|ban\s+thuong\s+vu\s+\S+\s+uy\b[^.]{0,80}?"
                 r"(?:ban\s+hanh|xay\s+dung)", repaired(text, ocr)):
        return f"Ban Thường vụ {issuer}"
    return issuer


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


def _header_place(text: str, ocr: bool) -> tuple[str | None, str | None, bool]:
    """(level, name, name_is_raw) from a header line such as "TINH UY PIEN BIEN" or the date line."""
    for _, line in _header_lines(text, limit=12):
        rep = re.sub(r"\s+", " ", repaired(line, ocr)).strip()
        rep = re.sub(r"\s+\S*ang cong san viet nam.*$|\s+cong hoa xa hoi.*$", "", rep).strip()
        m = _HEADER_ORG_RE.match(rep)
        if m and m.group(3):
            level = m.group(2) or ("tinh" if m.group(1) == "tinh uy" else None)
            return level, m.group(3), False
    for _, line in _header_lines(text, limit=25):
        m = re.match(r"^\s*([^\W\d_][^,\d]{1,40}?)\s*,\s*ng", line)
        if m and _DATE_RE.search(repaired(line, ocr)):
            return None, m.group(1), True
    return None, None, False


def _preamble(text: str) -> str:
    m = re.search(r"(?m)^[\s*]*I\s*[.\-–]\s*\S", text)
    return text[: m.start()] if m else text[:3000]


def body_issuer(text: str, ocr: bool) -> tuple[str | None, str | None]:
    """("Ban Thường vụ Tỉnh ủy Điện Biên", "tỉnh Điện Biên") from "… ban hành/xây dựng" in the preamble."""
    raw = re.sub(r"\s+", " ", _preamble(text))
    rep = repaired(raw, ocr)
    matches = list(_ORG_RE.finditer(rep))
    h_level, h_name, h_raw = _header_place(text, ocr)
    if not matches:
        return None, _locality(h_level, h_name, ocr or not h_raw)
    m = matches[-1]
    org = _canonical_org(m.group(1))
    level = m.group(2) or h_level
    name = (raw[m.start(3): m.end(3)] if not ocr else m.group(3)) if m.group(3).strip() else h_name
    if level is None and "tinh uy" in m.group(1):
        level = "tinh"
    locality = _locality(level, name, True)
    place = locality.split(" ", 1)[1] if locality and level else locality
    if org.endswith(("Tỉnh ủy", "Thành ủy")):
        return (f"{org} {place}" if place else org), locality
    return (f"{org} {locality}" if locality else org), locality


def _locality(level: str | None, name: str | None, restore: bool) -> str | None:
    if not name or not name.strip():
        return None
    proper = restore_place(name) if restore else re.sub(r"\s+", " ", name).strip(" ,")
    if proper and proper[0].islower():
        proper = " ".join(w[:1].upper() + w[1:] for w in proper.split())
    return f"{LEVELS.get(level, level)} {proper}" if level else proper


def extract_issuer(text: str, ocr: bool, start: int = 0) -> tuple[str | None, str | None]:
    """Issuer with its place: the header's tên cơ quan, else the preamble's "… ban hành" sentence."""
    issuer, locality = header_issuer(text, start, ocr)
    if issuer is None or locality is None:
        b_issuer, b_locality = body_issuer(text[start:], ocr)
        if b_issuer and (issuer is None or fold(b_issuer).startswith(fold(issuer))):
            issuer, locality = b_issuer, b_locality
    if issuer is None:
        return None, locality
    return _standing_committee(text, issuer, ocr), locality


def _name_line(line: str) -> str | None:
    words = layout.strip_marks(line).split()
    if 2 <= len(words) <= 5 and all(_is_name_word(w) for w in words):
        return " ".join(words)
    return None


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() and word[1:].islower() and word.isalpha() and len(word) <= 7


def extract_signer(text: str, start: int = 0, end: int | None = None, ocr: bool = True) -> str | None:
    """The signer's name: the first name line after the first signature block ("TM. …", "KT. CHỦ TỊCH").

    Without such a block: the last name line between the last "Nơi nhận" and an appendix.
    """
    end = len(text) if end is None else end
    first = layout.RECIPIENTS_RE.search(fold(text), start, end)
    lines = layout.lines_with_offsets(text, max(start, first.start() - 1500) if first else start, end)
    for i, (_, line) in enumerate(lines):
        if _SIGN_AUTHORITY_RE.match(repaired(layout.strip_marks(line), ocr)):
            for _, after in lines[i + 1: i + 12]:
                name = _name_line(after)
                if name:
                    return name
    folded = repaired(text[:end], ocr)
    at = max(folded.rfind("noi nhan"), 0)
    m = re.search(r"(?m)^\s*(?:phu luc|phu lye|phu lyc)\b", folded[at:])
    stop = at + m.start() if m else end
    best = None
    for line in text[at:stop].splitlines():
        best = _name_line(line) or best
    return best


_TITLE_STOP_RE = re.compile(r"^(?:c\w{1,2}n\s+c\w|th\w{1,2}c\s+hi\w{1,2}n|theo\b|xet\b|tren\s+co\s+so)")


def extract_title(text: str, start: int = 0, ocr: bool = True) -> str | None:
    """The trích yếu: the lines under the type heading, up to the căn cứ/opening paragraph or authority line."""
    _, type_idx = extract_doc_type(text, start, ocr)
    if type_idx < 0:
        return None
    out: list[str] = []
    for _, line in _header_lines(text, start, limit=type_idx + 10)[type_idx + 1:]:
        rep = repaired(line, ocr).strip()
        if out and ((line[:1].isupper() and _TITLE_STOP_RE.match(rep)) or _is_heading_line(line)
                    or (line.upper() == line and _head_of(re.sub(r"\s+", " ", rep)) and len(line.split()) <= 8)):
            break
        out.append(line)
    return re.sub(r"\s+", " ", " ".join(out)).strip() or None


def _is_heading_line(line: str) -> bool:
    return bool(re.match(r"^(?:[IVX]{1,4}|\d{1,2})\s*[.\-–]\s+\S|^(?:Điều|Dieu)\s+\d", line))


def _issued_type(doc_type: str | None, title: str | None, ocr: bool) -> str | None:
    """"Kế hoạch" for a Quyết định whose title "ban hành/phê duyệt Kế hoạch …"."""
    if doc_type != "Quyết định" or not title:
        return None
    m = _ISSUED_RE.search(re.sub(r"\s+", " ", repaired(title, ocr)))
    return TYPE_NAMES.get(re.sub(r"\s+", " ", m.group(1))) if m else None


def extract_metadata(text: str) -> DocMeta:
    """All metadata of one document; fields that are not printed are ``None``.  A statute article is known by its
    heading line alone (the act as type, the heading as title): no number, date or issuer is read from its body."""
    ocr = is_ocr_text(text)
    heading = article_heading(text)
    if heading:
        return DocMeta(number=None, number_raw=None, doc_type=heading.act, issuer=None, locality=None, date=None,
                       date_iso=None, signer=None, title=heading.line, ocr=ocr)
    start, end = layout.document_span(text)
    doc_type, _ = extract_doc_type(text, start, ocr)
    issuer, locality = extract_issuer(text, ocr, start)
    number, number_raw = extract_number(text, issuer, start, ocr)
    if doc_type is None and number:
        doc_type = docnumber.parse(number).doc_type if docnumber.parse(number) else None
    date, date_iso = extract_date(text, start, ocr)
    title = extract_title(text, start, ocr)
    return DocMeta(
        number=number, number_raw=number_raw, doc_type=doc_type, issuer=issuer, locality=locality,
        date=date, date_iso=date_iso, signer=extract_signer(text, start, end, ocr), title=title, ocr=ocr,
        issued_type=_issued_type(doc_type, title, ocr),
    )
