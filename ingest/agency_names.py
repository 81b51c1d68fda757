"""Agency names by their grammar, for any agency: "Sở …", "Ban …", "Phòng …", "Chi cục …", "Trung tâm …",
"Công an …", "Bộ Chỉ huy Quân sự …", "Hội …", "Đoàn …", "Mặt trận …", "Ủy ban nhân dân" at every level,
ministries "Bộ …", banks, funds, newspapers, "các sở, ban, ngành …".

A name opens with a *head word* of an organisation and runs until the predicate: a lower-case verb
("chủ trì", "phối hợp", "có trách nhiệm", "tiến hành", …) or a clause mark (";", ":", ".").  Capitalised
words belong to the name even when they are verbs ("Ban Chỉ đạo", "Ban Quản lý khu Kinh tế").  A list of
names is split before a capitalised head after "," or "và" ("Sở Tài chính, Sở Xây dựng và Công an tỉnh"),
and before "các" + head after "và" ("… và các đơn vị có liên quan").  The lexicon
(``ingest/data/agencies.json``) only adds aliases and abbreviations: :func:`ingest.agencies.canonical_agency`
gives each name its proper form ("UBND tỉnh" → "Ủy ban nhân dân tỉnh").

Matching is on the lower-cased original with its diacritics (no OCR repair): it is meant for clean text.
"""

from __future__ import annotations

import re

from ingest.agencies import canonical_agency

_HEADS = (
    "ủy ban nhân dân", "uỷ ban nhân dân", "ubnd", "ủy ban mặt trận", "ủy ban mttq", "ubmttq", "mặt trận", "mttq",
    "ủy ban", "uỷ ban", "hội đồng nhân dân", "hđnd", "hội đồng", "hội liên hiệp", "liên hiệp", "liên đoàn",
    "lđlđ", "hội", "đoàn", "tỉnh đoàn", "thành đoàn", "sở", "ban", "phòng", "chi cục", "tổng cục", "cục",
    "trung tâm", "công an", "bộ chỉ huy", "bộ chqs", "bchqs", "ban chỉ huy", "bộ đội", "bộ", "ngân hàng", "kho bạc",
    "bảo hiểm", "bhxh", "thuế", "hải quan", "viện", "trường", "đài", "báo", "văn phòng", "thanh tra", "bệnh viện",
    "trạm", "quỹ", "công ty", "tập đoàn", "chi nhánh", "tòa án", "viện kiểm sát", "đảng ủy", "đảng uỷ", "tỉnh ủy",
    "thành ủy", "chi bộ", "thủ trưởng", "chủ tịch", "giám đốc", "thủ tướng", "chính phủ", "các bộ", "các sở",
    "các cơ quan", "các đơn vị", "các địa phương", "các ngành", "các tổ chức", "các hội", "các đoàn thể",
    "các ban", "các phòng", "các doanh nghiệp", "các ngân hàng", "các tổ chức tín dụng", "cơ quan", "đơn vị",
    "doanh nghiệp", "chính quyền", "hợp tác xã", "lực lượng", "cảng vụ", "ban quản lý", "đội", "học viện",
    "đại học", "hiệp hội",
    "câu lạc bộ", "cổng thông tin", "thông tấn xã", "nhà xuất bản", "ủy ban kiểm tra", "ban tuyên giáo",
)


def _words_re(phrases: tuple[str, ...]) -> str:
    """Alternation of ``phrases``, longest first, any run of white space (a wrapped line too) between words."""
    return "|".join(r"\s+".join(map(re.escape, p.split())) for p in sorted(phrases, key=len, reverse=True))


_HEAD_RE = re.compile(r"(?:(?:các|mỗi|từng)\s+)?(?:" + _words_re(_HEADS) + r")(?![\wà-ỹ])", re.IGNORECASE)
# Lower-case words that end a name: the predicate begins.
_PREDICATE = (
    "chủ trì", "phối hợp", "có trách nhiệm", "chịu trách nhiệm", "là cơ quan", "là đầu mối", "tổ chức",
    "thực hiện", "triển khai", "tiến hành", "xây dựng", "hướng dẫn", "tham mưu", "chỉ đạo", "theo dõi", "đăng tải",
    "chủ động", "rà soát", "tham gia", "nghiên cứu", "ban hành", "đề xuất", "cung cấp", "thống nhất", "báo cáo",
    "kiểm tra", "giám sát", "bảo đảm", "đảm bảo", "được", "cần", "phải", "để", "nhằm", "trên cơ sở", "căn cứ",
    "trong phạm vi", "theo chức năng", "tăng cường", "đẩy mạnh", "quan tâm", "vận động", "tuyên truyền",
    "đôn đốc", "hỗ trợ", "tập trung", "sử dụng", "ứng dụng", "phát triển", "nâng cao", "duy trì", "lồng ghép",
    "có kế hoạch", "thường xuyên", "định kỳ", "khẩn trương", "kịp thời", "tích cực", "trình", "gửi", "thẩm định",
    "cử", "ký kết", "lập", "bố trí", "thanh toán", "tiếp nhận", "quản lý", "thành lập", "sắp xếp", "trong", "tại",
    "với", "về", "đến", "từ", "nếu", "khi", "đối với", "theo", "làm", "đề nghị", "phụ trách", "hoàn thành", "giao",
    "sẽ", "đã", "đang", "chưa", "không", "có", "là",
)
_PRED_RE = re.compile(r"(?<![\wà-ỹ])(?:" + _words_re(_PREDICATE) + r")(?![\wà-ỹ])")
_STOP_CHARS = ";:.\n"
MAX_NAME_WORDS = 45  # a whole list of names


_NOT_PREDICATE = ("có liên quan", "liên quan", "tổ chức chính trị", "tổ chức xã hội", "tổ chức thành viên",
                  "tổ chức tín dụng", "tổ chức đoàn thể", "tổ chức, cá nhân", "tổ chức hội")
_NOT_PREDICATE_RE = re.compile(_words_re(_NOT_PREDICATE))


def starts_predicate(text: str, pos: int) -> bool:
    """Whether a lower-case predicate word (a verb, "chủ trì", "có trách nhiệm", …) opens ``text[pos:]``
    (spaces skipped); "các tổ chức chính trị - xã hội", "… có liên quan" stay names."""
    while pos < len(text) and text[pos] in " ,":
        pos += 1
    return bool(_PRED_RE.match(text, pos)) and text[pos:pos + 1].islower() and not _NOT_PREDICATE_RE.match(text, pos)


def opens_agency(text: str, pos: int = 0) -> re.Match[str] | None:
    """The head word of an agency name at ``text[pos:]`` (capitalised, or "các …" lower-case), if any."""
    m = _HEAD_RE.match(text, pos)
    if m is None:
        return None
    first = text[pos]
    generic = m.group(0).lower().startswith(("các", "mỗi", "từng", "cơ quan", "đơn vị", "lực lượng", "doanh",
                                             "chính quyền"))
    if not (first.isupper() or generic or m.group(0).isupper()):
        return None
    return m


def _extent(text: str, pos: int) -> int:
    """End of the run of names starting at ``pos``: before the predicate or a clause mark."""
    end, words, depth = pos, 0, 0
    for m in re.finditer(r"\(|\)|[;:.\n]|[\wà-ỹÀ-Ỹ&/]+(?:-[\wà-ỹ]+)?|,|-", text[pos:pos + 400]):
        tok, a = m.group(0), pos + m.start()
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and tok == ";" and opens_agency(text, _skip_ws(text, a + 1)) is not None:
            pass  # "Sở Tư pháp; Sở Y tế": the list goes on
        elif depth == 0 and tok in _STOP_CHARS and not (tok == "." and _abbrev_dot(text, a)) \
                and not (tok == "\n" and _wrapped(text, a)):
            break
        elif depth == 0 and tok[:1].islower() and a > pos and starts_predicate(text, a):
            break
        elif tok[:1].isalnum():
            words += 1
            if words > MAX_NAME_WORDS:
                break
        end = pos + m.end()
    return end


def _wrapped(text: str, at: int) -> bool:
    """A line break inside a sentence (the next line goes on in lower case: "Ủy ban nhân\\ndân các xã")."""
    return text[_skip_ws(text, at + 1)].islower()


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return min(pos, len(text) - 1) if text else 0


def _abbrev_dot(text: str, at: int) -> bool:
    """A dot inside a name ("TP.HCM", "Sở KH&CN.") rather than the end of a sentence."""
    return at + 1 < len(text) and text[at + 1].isalnum()


def _split(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Spans of the names of a list ``text[a:b]``."""
    cuts = [a]
    for m in re.finditer(r"\s*(?:;|,|\s+và|\s+cùng)\s+", text[a:b]):
        nxt = a + m.end()
        sep = m.group(0).strip()
        head = opens_agency(text, nxt)
        if head is None and not (sep == "và" and text[nxt:nxt + 4].lower() == "các "):
            continue
        if sep in (";", "và") or text[nxt].isupper() or text[nxt:nxt + 4].lower() == "các ":
            cuts.append(nxt)
    spans = []
    for k, c in enumerate(cuts):
        e = cuts[k + 1] if k + 1 < len(cuts) else b
        seg = text[c:e]
        seg = re.sub(r"(?:\s*(?:;|,|và|cùng))+\s*$", "", seg)
        if seg.strip():
            spans.append((c, c + len(seg.rstrip())))
    return spans


def agencies_at(text: str, pos: int) -> tuple[tuple[str, ...], int]:
    """(canonical names, end) of the agency list that starts at ``text[pos]``, or ((), pos)."""
    if opens_agency(text, pos) is None:
        return (), pos
    end = _extent(text, pos)
    names = tuple(dict.fromkeys(n for a, b in _split(text, pos, end) if (n := proper_name(text[a:b]))))
    return names, end


def proper_name(printed: str) -> str:
    """The canonical form of one printed name (lexicon aliases applied), trailing punctuation removed."""
    clean = re.sub(r"\s*\([^)]*\)", "", printed)  # "(Cơ quan thường trực …)": a note, not the name
    clean = re.sub(r"\s+", " ", clean).strip(" ,;:.-–")
    return canonical_agency(clean) if clean else ""
