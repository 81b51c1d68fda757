"""Places a question names (the gazetteer, :func:`ingest.places.find_places`) → the plans of that place, or a
refusal naming it.

A plan's own area is its issuer's locality (``DocMeta.locality``) and, from the gazetteer, the province that
locality lies in.  For a place named in a question, in order:

1. plans whose own locality is that place (same name, same kind of level — province or local — and, when the
   gazetteer can tell, the same province: "phường Hà Đông" of Hà Nội is not "xã Hà Đông" of Hải Phòng);
2. for a province: plans of units inside it;
3. plans whose area holds the place and whose text names it: a province's plan (or a plan without a locality, e.g.
   a national one) that mentions the commune asked about;
4. none: refused by name ("kho văn bản không có kế hoạch nào của xã X").

A province merged in 2025 is first looked for under its old name, then under the province that took it over (the
answer then says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ingest.places import PROVINCE_LEVELS, PlaceMention, find_places, gazetteer
from ingest.textnorm import search_form
from retriever.corpus import Corpus

HEADER_CHARS = 1500  # where a plan's header names the province above its issuer


@dataclass(frozen=True)
class PlacePlans:
    docs: frozenset[str]
    reason: str | None = None  # set: refuse
    note: str | None = None  # said before the answer (a merged province answered by its successor)


@dataclass(frozen=True)
class OwnArea:
    key: str  # folded name of the plan's locality
    province_level: bool
    province: str | None  # folded key of the province it lies in, when the gazetteer can tell


def _full(level: str | None, name: str) -> str:
    return f"{level} {name}" if level else name


class PlaceScope:
    """Each plan's own area, built once; :meth:`plans_of` answers one place mention."""

    def __init__(self, corpus: Corpus, mentioning: Callable[[str], set[str]]) -> None:
        self.mentioning = mentioning  # folded place name → plans whose text names it
        self.areas: dict[str, OwnArea | None] = {d.doc_id: _own_area(d.meta.locality, d.text)
                                                 for d in corpus.documents.values()}

    def mentions(self, text: str) -> list[PlaceMention]:
        """The places of a question the scope acts on: the confident ones."""
        return [m for m in find_places(text) if m.confident]

    def plans_of(self, m: PlaceMention) -> PlacePlans:
        key = search_form(m.name)
        province_level = m.level in PROVINCE_LEVELS or (m.level is None and key in gazetteer().provinces)
        if m.successor:
            own = self._own(key, True, None)
            if own:
                return PlacePlans(own)
            return self._merged(m, search_form(m.successor))
        docs = self._find(key, province_level, _provinces_of(m, province_level))
        if docs:
            return PlacePlans(docs)
        return PlacePlans(frozenset(), f"kho văn bản không có kế hoạch nào của {_full(m.level, m.name)}")

    def _merged(self, m: PlaceMention, new: str) -> PlacePlans:
        """A province merged in 2025 with no plan under its old name: the plans of its successor, saying so."""
        gaz = gazetteer()
        full = gaz.provinces[new].full if new in gaz.provinces else m.successor or ""
        new_full = full[:1].lower() + full[1:]
        old_full = _full(m.level or "tỉnh", m.name)
        docs = self._find(new, True, {new})
        if docs:
            return PlacePlans(docs, note=f"{old_full[:1].upper()}{old_full[1:]} đã sáp nhập vào {new_full} từ năm "
                                         f"2025; trả lời theo kế hoạch của {new_full}.")
        return PlacePlans(frozenset(), f"kho văn bản không có kế hoạch nào của {old_full} (nay thuộc {new_full})")

    def _find(self, key: str, province_level: bool, provinces: set[str] | None) -> frozenset[str]:
        own = self._own(key, province_level, provinces)
        if own:
            return own
        if province_level:
            inside = frozenset(d for d, a in self.areas.items() if a and not a.province_level and a.province == key)
            if inside:
                return inside
        return frozenset(d for d in self.mentioning(key) if self._holds(self.areas.get(d), provinces))

    def _own(self, key: str, province_level: bool, provinces: set[str] | None) -> frozenset[str]:
        return frozenset(d for d, a in self.areas.items() if a and a.key == key
                         and a.province_level == province_level
                         and (provinces is None or a.province is None or a.province in provinces))

    @staticmethod
    def _holds(area: OwnArea | None, provinces: set[str] | None) -> bool:
        """Whether a plan's area may hold the place: a plan without a locality (national), or a province's plan
        (of the place's province, when known)."""
        if area is None:
            return True
        return area.province_level and (provinces is None or area.key in provinces)


def _provinces_of(m: PlaceMention, province_level: bool) -> set[str] | None:
    """Folded keys of the provinces the place can lie in (None: unknown, any)."""
    if province_level:
        return {search_form(m.name)}
    if m.province:
        return {search_form(m.province)}
    units = [u for u in gazetteer().lookup(m.name) if u.level not in PROVINCE_LEVELS] if m.known else []
    return {search_form(u.province) for u in units} or None


def _own_area(locality: str | None, text: str) -> OwnArea | None:
    """A plan's own area from its locality ("xã Mường La") and its header (which names the province above)."""
    if not locality:
        return None
    found = find_places(locality)
    if not found:
        return OwnArea(search_form(locality), False, None)
    m = found[0]
    key = search_form(m.name)
    gaz = gazetteer()
    if m.level in PROVINCE_LEVELS or (m.level is None and key in gaz.provinces):
        return OwnArea(key, True, key)
    if m.successor:  # a plan of a province merged in 2025
        return OwnArea(key, True, search_form(m.successor))
    cands = {search_form(u.province) for u in gaz.lookup(m.name) if u.level not in PROVINCE_LEVELS}
    if len(cands) > 1:
        header = {search_form(h.name) for h in find_places(text[:HEADER_CHARS])} & cands
        cands = header if len(header) == 1 else cands
    return OwnArea(key, False, next(iter(cands)) if len(cands) == 1 else None)
