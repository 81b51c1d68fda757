"""Structured facts behind the most asked questions: who leads / coordinates / by when (assignments)
and what value a plan sets for an indicator (targets).  Matching is lexical over folded, OCR-repaired
text, helped by the hybrid search ranks of the chunks that hold each record."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from index.store import extract_facts
from ingest.agencies import agency_key, find_agencies
from ingest.assignments import Assignment
from ingest.targets import BY_KEY, Target
from ingest.textnorm import is_ocr_text, repaired, search_tokens
from retriever.fuzzy import edit1

# question words and assignment vocabulary that say nothing about which task is meant
_ASK_WORDS = set("""
co quan nao ai chu tri phoi hop voi thoi han hoan thanh khi bao gio nam thuc hien giao cho don vi
nhiem vu viec cua trong theo o xa tinh ke hoach chuong trinh phu luc la gi duoc nhung cac va the do ve muc tieu
truoc ngay tu den thoi gian chiu trach nhiem chinh ban so sanh khac nhau giong hon kem the nao giai doan tren
duoi dat chi tieu bao nhieu
""".split())

# words of a task ("tham mưu" UBND …) that many questions also use to ask for the lead: topic words on clean text,
# where the plan-local weighting tempers them, but not on OCR records
_CLEAN_TEXT_TOPIC = frozenset({"tham", "muu"})

# indicator keys by the words a question uses for them (folded)
_INDICATOR_WORDS: tuple[tuple[str, str], ...] = (
    (r"tuoi tho", "life_expectancy"),
    (r"nam song khoe|song khoe manh", "healthy_years"),
    (r"chieu cao", "height_gain"),
    (r"tiem chung", "vaccination"),
    (r"hoat dong the chat|tap the duc", "physical_activity"),
    (r"kham suc khoe dinh ky|kham sang loc", "free_checkup"),
    (r"bac s[iy].{0,20}van dan|bac s[iy] ?/ ?van", "doctors_per_10k"),
    (r"giuong benh", "beds_per_10k"),
    (r"kham (benh, )?chua benh (bao hiem y te|bhyt)", "clinic_insured_treatment_share"),
    (r"bao phu (bao hiem y te|bhyt)|bhyt toan dan|bao hiem y te toan dan", "insurance_coverage"),
    (r"dat chuan quoc gia", "standard_commune_clinics"),
    (r"nuoc sach", "clean_water"),
    (r"suy dinh duong|thap coi", "child_stunting"),
    (r"bao hiem xa hoi", "labour_social_insurance"),
    (r"chuyen giao", "clinic_handover"),
    (r"dau tu co so vat chat", "clinic_investment"),
    (r"bac s[iy]", "doctors_per_commune_clinic"),
)


def question_indicators(folded_question: str) -> list[str]:
    """Indicator keys a question asks about, most specific first (first match wins per phrase)."""
    out: list[str] = []
    for pattern, key in _INDICATOR_WORDS:
        if re.search(pattern, folded_question) and key not in out:
            if key == "doctors_per_commune_clinic" and "doctors_per_10k" in out:
                continue
            out.append(key)
    return out


@dataclass(frozen=True)
class Scored:
    score: float
    record: Assignment | Target


class FactIndex:
    """Assignments and targets of the indexed plans, with their folded source text for matching.

    Look-ups are indexed so that a question costs about the same with thousands of plans as with five:
    records by plan, by lead agency, by indicator, by table row and by (plan, offset); the words of every
    record (an inverted list); and, for records read from OCR text, the one-deletion variants of their words,
    which give every word within one edit of a question word without comparing it to every record."""

    def __init__(self, texts: dict[str, str], assignments: list[Assignment], targets: list[Target],
                 idf: dict[str, float]) -> None:
        self.assignments = assignments
        self.targets = targets
        self.idf = idf
        self._index_assignments(texts)
        # words of OCR records by their one-deletion variants: the candidates within one edit of a question word
        self._ocr_variants: dict[str, list[str]] = {}
        for t in self._ocr_postings:
            for v in _deletions(t):
                self._ocr_variants.setdefault(v, []).append(t)
        doc_order = {d: r for r, d in enumerate(sorted(self._by_doc))}
        self._doc_rank = np.asarray([doc_order[a.doc_id] for a in assignments], dtype=np.int64)
        self._start = np.asarray([a.start for a in assignments], dtype=np.int64)
        self._ocr_mask = np.asarray(self._ocr, dtype=bool)
        self._by_indicator: dict[str, list[Target]] = {}
        for t in targets:
            self._by_indicator.setdefault(t.indicator, []).append(t)

    def _index_assignments(self, texts: dict[str, str]) -> None:
        """Words, OCR flag, plan, lead agencies, row and offset of every assignment, as look-up lists."""
        # plans repeat wording (and agencies) a great deal: tokenise / canonicalise each distinct string once
        token_cache: dict[str, frozenset[str]] = {}
        key_cache: dict[str, str] = {}
        ocr_doc: dict[str, bool] = {}
        self._tokens: list[frozenset[str]] = []
        self._ocr: list[bool] = []
        by_doc: dict[str, list[int]] = {}
        self._by_lead: dict[str, list[int]] = {}
        self._by_row: dict[str, list[int]] = {}
        self._at: dict[tuple[str, int], list[int]] = {}
        postings: dict[str, list[int]] = {}
        ocr_postings: dict[str, list[int]] = {}
        for i, a in enumerate(self.assignments):
            text = a.task + " " + texts[a.doc_id][a.start:a.end]
            toks = token_cache.get(text)
            if toks is None:
                toks = token_cache[text] = frozenset(search_tokens(text))
            self._tokens.append(toks)
            if a.doc_id not in ocr_doc:
                ocr_doc[a.doc_id] = is_ocr_text(texts[a.doc_id][:3000])
            ocr = a.form == "ocr_table" or a.confidence != "high" or ocr_doc[a.doc_id]
            self._ocr.append(ocr)
            by_doc.setdefault(a.doc_id, []).append(i)
            for name in a.lead:
                if name not in key_cache:
                    key_cache[name] = agency_key(name)
            for key in dict.fromkeys(key_cache[name] for name in a.lead):
                self._by_lead.setdefault(key, []).append(i)
            if a.row:
                self._by_row.setdefault(a.row, []).append(i)
            self._at.setdefault((a.doc_id, a.start), []).append(i)
            for t in toks:
                postings.setdefault(t, []).append(i)
                if ocr:
                    ocr_postings.setdefault(t, []).append(i)
        self._by_doc = by_doc
        self._postings = {t: np.asarray(ix, dtype=np.int64) for t, ix in postings.items()}
        self._ocr_postings = {t: np.asarray(ix, dtype=np.int64) for t, ix in ocr_postings.items()}

    def of_doc(self, doc_id: str) -> list[Assignment]:
        """The plan's assignments in document order."""
        return [self.assignments[i] for i in self._by_doc.get(doc_id, ())]

    # ---- assignments -------------------------------------------------------------------------
    def topic_words(self, question: str, places: tuple[str, ...]) -> set[str]:
        drop = _ASK_WORDS | set(" ".join(places).split())
        return {t for t in search_tokens(question) if t not in drop and len(t) > 1 and not t.isdigit()}

    def _holding(self, word: str) -> np.ndarray:
        """Records whose words hold ``word``, or (OCR records, words of 4+ letters) a word within one edit."""
        exact = self._postings.get(word, _NONE)
        if len(word) < 4:  # near_any(min_len=4)
            return exact
        near = {v for d in _deletions(word) for v in self._ocr_variants.get(d, ())}
        fuzzy = [self._ocr_postings[v] for v in near if v != word and abs(len(v) - len(word)) <= 1 and edit1(word, v)]
        if not fuzzy:
            return exact
        mask = np.zeros(len(self.assignments), dtype=bool)
        for ix in (exact, *fuzzy):
            mask[ix] = True
        return np.flatnonzero(mask)

    def match_assignments(self, question: str, places: tuple[str, ...], docs: list[str] | None,
                          chunk_rank: dict[tuple[str, int], int], rows: tuple[str, ...] = (),
                          limit: int | None = None, specific: float = 0.0) -> list[Scored]:
        """Assignments of the scoped plans ranked by how much of the question's topic their text holds
        (OCR text matches a word within one edit), helped by the search rank of their chunk and by a
        table row number the question names.  With ``specific`` > 0 that share of the score (of records read
        from clean text) is the topic held weighted by each word's rarity among the plan's own assignments
        (:meth:`_specific_cover`), so words a whole plan repeats (its title) count less than those that tell
        its tasks apart.
        Records that score nothing are left out; ``limit`` keeps the best ones only.  Scores are added word
        by word over inverted lists, so a question costs the size of its words' lists, not the number of
        assignments."""
        words = self.topic_words(question, places)
        if not words or not self.assignments:
            return []
        held = {w: self._holding(w) for w in sorted(words)}
        cover = self._cover(words, held)
        if words & _CLEAN_TEXT_TOPIC:  # OCR records: those words matched within one edit hold nearly every row
            cover = np.where(self._ocr_mask, self._cover(words - _CLEAN_TEXT_TOPIC, held), cover)
        if specific > 0:  # not on OCR records: words matched within one edit make a plan's counts noisy
            mixed = (1 - specific) * cover + specific * self._specific_cover(held)
            cover = np.where(self._ocr_mask, cover, mixed)
        bonus = np.zeros_like(cover)
        for key, rank in chunk_rank.items():
            for i in self._at.get(key, ()):
                bonus[i] += 0.15 / (1 + rank)
        for row in dict.fromkeys(rows):
            for i in self._by_row.get(row, ()):
                bonus[i] += 0.3
        score = cover + bonus
        keep = score > 0
        if docs:
            allowed = np.zeros(len(keep), dtype=bool)
            for d in set(docs):
                allowed[self._by_doc.get(d, [])] = True
            keep &= allowed
        idx = np.flatnonzero(keep)
        order = idx[np.lexsort((self._start[idx], self._doc_rank[idx], -score[idx]))]
        if limit is not None:
            order = order[:limit]
        return [Scored(float(score[i]), self.assignments[i]) for i in order]

    def _cover(self, words: set[str], held: dict[str, np.ndarray]) -> np.ndarray:
        """Share of the IDF mass of ``words`` each record holds (0 everywhere when ``words`` is empty)."""
        cover = np.zeros(len(self.assignments), dtype=np.float64)
        total = sum(self.idf.get(w, 3.0) for w in words)
        for w in words:  # same order of additions as a per-record sum over ``words``
            cover[held[w]] += self.idf.get(w, 3.0)
        return cover / total if total else cover

    def _specific_cover(self, held: dict[str, np.ndarray]) -> np.ndarray:
        """Share of the question's topic each record holds, a word weighing its IDF times log((n + 1) / df): n
        the assignments of the record's plan, df those of them holding the word (at least one)."""
        plans = self._doc_rank
        sizes = np.bincount(plans, minlength=len(self._by_doc)).astype(np.float64)
        got = np.zeros(len(self.assignments), dtype=np.float64)
        mass = np.zeros_like(got)
        for w, ix in held.items():
            df = np.bincount(plans[ix], minlength=len(sizes))
            weight = self.idf.get(w, 3.0) * np.log((sizes + 1) / np.maximum(df, 1))
            mass += weight[plans]
            got[ix] += weight[plans[ix]]
        return got / mass

    def by_agency(self, agency: str, docs: Collection[str] | None) -> list[Assignment]:
        """Assignments an agency leads (matching on the folded canonical key), in document order."""
        scope = set(docs) if docs else None
        return [self.assignments[i] for i in self._by_lead.get(agency_key(agency), ())
                if scope is None or self.assignments[i].doc_id in scope]

    # ---- targets -----------------------------------------------------------------------------
    def match_targets(self, folded_question: str, docs: list[str] | None, years: tuple[str, ...]) -> list[Target]:
        keys = question_indicators(folded_question)
        scope = set(docs) if docs else None
        out = []
        for key in keys[:1]:
            for t in self._by_indicator.get(key, ()):
                if scope is not None and t.doc_id not in scope:
                    continue
                if years and not any(y in t.period for y in years):
                    continue
                out.append(t)
        return out


_NONE = np.zeros(0, dtype=np.int64)


def _deletions(word: str) -> set[str]:
    """``word`` and every string one deletion away: two words within one edit share at least one of these."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def facts_of(bundle) -> tuple[list[Assignment], list[Target]]:
    """Assignments and targets stored with the index, or extracted from its documents (in plan order)."""
    facts = bundle.facts if bundle.facts is not None else extract_facts(bundle.documents.values())
    assignments: list[Assignment] = []
    targets: list[Target] = []
    for doc_id in bundle.documents:
        a, t = facts.get(doc_id, ([], []))
        assignments += a
        targets += t
    return assignments, targets


def agencies_named(question: str) -> list[str]:
    """Canonical agencies a question names ("Sở Y tế chủ trì những nhiệm vụ nào?")."""
    return [name for name, _, _ in find_agencies(question)]


def target_label(t: Target) -> str:
    return t.label or BY_KEY[t.indicator].label


def folded(text: str) -> str:
    return re.sub(r"\s+", " ", repaired(text))


def filter_assignments(facts: FactIndex, documents: dict, doc: str | None = None,
                       agency: str | None = None) -> list[Assignment]:
    """Assignments filtered by plan (doc id, file name or number such as "07-KH/TU") and lead agency."""
    ids = resolve_docs(documents, doc) if doc else None
    if agency:
        return facts.by_agency(agency, ids)
    return [a for a in facts.assignments if ids is None or a.doc_id in ids]


def filter_targets(facts: FactIndex, documents: dict, indicator: str | None = None,
                   doc: str | None = None) -> list[Target]:
    """Targets filtered by indicator (key such as "life_expectancy" or words such as "tuổi thọ") and plan."""
    out = facts.targets
    if doc:
        ids = resolve_docs(documents, doc)
        out = [t for t in out if t.doc_id in ids]
    if indicator:
        keys = {indicator} if indicator in BY_KEY else set(question_indicators(folded(indicator)))
        if not keys:
            raise ValueError(f"unknown indicator {indicator!r}; use one of: {', '.join(sorted(BY_KEY))}")
        out = [t for t in out if t.indicator in keys]
    return out


def resolve_docs(documents: dict, ref: str) -> set[str]:
    """Doc ids matching a doc id, a file name, a document number or a place name; ValueError if none."""
    from retriever.query import normalise_number

    key = folded(ref).strip()
    ids = {d for d, doc in documents.items()
           if ref in (d, doc.source_file)
           or (doc.meta.number and normalise_number(doc.meta.number) == normalise_number(ref))
           or (doc.meta.locality and key and key in folded(doc.meta.locality))}
    if not ids:
        raise ValueError(f"no indexed plan matches {ref!r}; see `kehoach ask` or GET /api/documents for the list")
    return ids
