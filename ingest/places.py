"""Vietnamese places: a gazetteer from a maintained source and a detector of place names in text.

The units are those of the two-level administration in force since 1 July 2025 — 34 provinces and
centrally-run cities, 3,321 communes (xã), wards (phường) and special zones (đặc khu) — read from the
PyPI package ``vietnam-provinces`` (pinned in ``pyproject.toml``; its JSON, not a hand list).
``ingest/data/places.json`` adds only general aliases: the provinces merged in 2025 and what took them
over (the package has no pre-2025 names), and common spellings ("TP HCM").

API
---
* :func:`gazetteer` — the :class:`Gazetteer`, loaded once per process (about 0.1–0.2 s: the package's JSON
  is read directly, without importing its enum modules).
* :func:`find_places` — every place named in a text: "xã Mường Ảng", "phuong ben thanh", "Tỉnh Hà Giang",
  "tinh Quang Tri", or a bare province name ("Cần Thơ").  A level word ("xã", "phường", "đặc khu", "tỉnh",
  "thành phố", "TP", and the pre-2025 "huyện", "quận", "thị xã", "thị trấn") followed by a capitalised name
  is a place even when the gazetteer does not know it (``known=False``): a question about it can be refused
  by name.  Each :class:`PlaceMention` carries the name as typed, the canonical name, level, province,
  folded key, and for a pre-2025 province its successor.
* :func:`canonical` — proper spelling of a known name ("dien bien" → "Điện Biên").
* :func:`old_to_new` — the province that took over a province merged in 2025 ("Hà Giang" → "Tuyên Quang").
* :func:`known_places` / :func:`restore_place` — the functions ``ingest.metadata`` had (and now
  re-exports): provinces to spot bare in a question; the proper spelling of any known unit.

How the retriever's scope stage uses it (wiring is the retriever's): run ``find_places(question)``; a
mention whose key matches the locality of an indexed plan (or text of a plan) scopes the search to those
plans; a mention with no plan in the corpus — known to the gazetteer or not — is refused by name
("không có kế hoạch nào của xã X trong kho"), using ``mention.typed``; for a mention with a
``successor``, also look for plans of the successor province and say that the unit was merged.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ingest.textnorm import fold, has_diacritics, nfc, search_form

log = logging.getLogger(__name__)

PACKAGE = "vietnam_provinces"  # PyPI vietnam-provinces, pinned in pyproject.toml
PROVINCE_LEVELS = ("tỉnh", "thành phố")
UNIT_LEVELS = ("xã", "phường", "đặc khu")
OLD_LEVELS = ("huyện", "quận", "thị xã", "thị trấn")  # abolished in 2025; still typed in questions
_LEVEL_WORDS = {  # folded level word → proper level
    "xa": "xã", "phuong": "phường", "dac khu": "đặc khu", "tinh": "tỉnh", "thanh pho": "thành phố",
    "tp": "thành phố", "huyen": "huyện", "quan": "quận", "thi xa": "thị xã", "thi tran": "thị trấn",
}
_LEVEL_RE = re.compile(r"\b(dac khu|thanh pho|thi xa|thi tran|tp|xa|phuong|tinh|huyen|quan)\b\.?\s*")
_NAME_WORD_RE = re.compile(r"[^\W\d_][^\W_]*|\d{1,2}\b")
MAX_NAME_WORDS = 5


@dataclass(frozen=True)
class Place:
    name: str  # proper name without its level: "Mường La"
    level: str  # "xã" | "phường" | "đặc khu" | "tỉnh" | "thành phố"
    province: str  # proper name of its province ("Sơn La"); a province names itself
    key: str  # folded name: "muong la"

    @property
    def full(self) -> str:
        return f"{self.level[:1].upper()}{self.level[1:]} {self.name}"


@dataclass(frozen=True)
class PlaceMention:
    typed: str  # the text as typed, level word included: "xa muong la"
    name: str  # canonical name when known, else the name as typed
    level: str | None  # level as typed (proper form) or the unit's own level
    province: str | None  # the province, when the name (and the text) make it unique
    key: str  # folded name
    start: int
    end: int
    known: bool  # the gazetteer knows the name (current or pre-2025)
    successor: str | None = None  # for a province merged in 2025: the province that took it over

    @property
    def confident(self) -> bool:
        """Surely a place: the gazetteer knows it, or a level word opens two or more capitalised words ("xã Sông
        Hồng Xanh"); one unknown word ("xã Nông thôn mới", "Xã Chủ trì") may be an ordinary phrase, and so may an
        abolished level typed in lower case without accents."""
        if self.level in OLD_LEVELS and self.typed == fold(self.typed):  # "quan ly nhan": "quản lý", not "quận"
            return False
        return self.known or len(self.name.split()) >= 2


class Gazetteer:
    """All current units by folded name, plus the pre-2025 provinces and aliases."""

    def __init__(self, places: list[Place], old: dict[str, str], aliases: dict[str, str]) -> None:
        self.places = tuple(places)
        self.by_key: dict[str, tuple[Place, ...]] = {}
        for p in self.places:
            self.by_key[p.key] = (*self.by_key.get(p.key, ()), p)
        self.provinces = {p.key: p for p in self.places if p.level in PROVINCE_LEVELS}
        self.old = {search_form(k): nfc(k) for k in old}  # folded old name → proper old name
        self.successor = {search_form(k): nfc(v) for k, v in old.items()}
        self.aliases = {search_form(k): nfc(v) for k, v in aliases.items()}
        self.max_words = max(len(k.split()) for k in self.by_key)

    def lookup(self, name: str, level: str | None = None) -> tuple[Place, ...]:
        """Current units named ``name`` (any spelling), at ``level`` when given and found there."""
        key = search_form(_strip_level(name))
        key = search_form(self.aliases.get(key, key))
        found = self.by_key.get(key, ())
        at_level = tuple(p for p in found if level and p.level == level)
        return at_level or found

    def is_known(self, key: str) -> bool:
        return key in self.by_key or key in self.old or key in self.aliases


def _strip_level(name: str) -> str:
    rep = fold(nfc(name)).strip()
    m = _LEVEL_RE.match(rep)
    return name.strip()[m.end():] if m and m.end() < len(rep) else name.strip()


def _split_unit(full: str, division_type: str) -> tuple[str, str]:
    """("Mường La", "xã") from the package's "Xã Mường La"; "Thành phố Huế" → ("Huế", "thành phố")."""
    level = "thành phố" if division_type.startswith("thành phố") else division_type
    if full.lower().startswith(level + " "):  # the package spells names properly: no folding needed
        return full[len(level) + 1:], level
    return full, level


def _package_json() -> Path:
    """The package's ``data/nested-divisions.json``, found without importing the package (its code
    modules hold large enums that take longer to import than the JSON takes to read)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {PACKAGE!r} package is not installed (pip install vietnam-provinces)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "nested-divisions.json"


def _load_units() -> list[Place]:
    data = json.loads(_package_json().read_text("utf-8"))
    out: list[Place] = []
    for prov in data:
        pname, plevel = _split_unit(nfc(prov["name"]), prov["division_type"])
        out.append(Place(pname, plevel, pname, search_form(pname)))
        for ward in prov["wards"]:
            wname, wlevel = _split_unit(nfc(ward["name"]), _ward_level(nfc(ward["name"]), ward.get("division_type")))
            out.append(Place(wname, wlevel, pname, search_form(wname)))
    return out


def _ward_level(full: str, division_type: str | None) -> str:
    for level in UNIT_LEVELS:
        if full.lower().startswith(level + " "):
            return level
    return division_type or "xã"


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer, built once per process from ``vietnam-provinces`` and ``data/places.json``."""
    t0 = time.perf_counter()
    extra = json.loads(resources.files("ingest").joinpath("data/places.json").read_text("utf-8"))
    gaz = Gazetteer(_load_units(), extra["old_provinces"], extra["aliases"])
    log.info("gazetteer loaded", extra={"units": len(gaz.places), "seconds": round(time.perf_counter() - t0, 3)})
    return gaz


# ---------------------------------------------------------------- detection


def _name_after(text: str, pos: int, gaz: Gazetteer) -> tuple[int, str, bool] | None:
    """(end, key, known) of the place name starting at ``text[pos:]``.

    The longest run of words the gazetteer knows wins; otherwise a run of capitalised words
    ("Xã Tân Hòa Đông") is taken as an unknown place.  Lower-case or all-capital words are only
    taken when the gazetteer knows them ("xã hội" is not a place; "XÃ MƯỜNG LA" is).
    """
    words = [m for m in _NAME_WORD_RE.finditer(text, pos, min(len(text), pos + 80))][:MAX_NAME_WORDS]
    words = [w for k, w in enumerate(words) if k == 0 or _adjacent(text, words[k - 1].end(), w.start())]
    words = _contiguous(text, words)
    caps = _leading(words, _looks_like_name)
    for n in range(min(len(words), gaz.max_words), 0, -1):
        key = search_form(text[pos:words[n - 1].end()])
        if gaz.is_known(key) and (n > 1 or _looks_like_name(words[0].group(0)) or key in gaz.provinces) \
                and _spelled_as_known(text[pos:words[n - 1].end()], key, gaz):
            if len(caps) > n:  # "xã Tân Hòa Đông" is not "xã Tân Hòa"
                break
            return words[n - 1].end(), key, True
    if caps and not all(w.group(0).isdigit() for w in caps) and fold(caps[0].group(0)) != "uy":  # "Tỉnh Ủy"
        key = search_form(text[pos:caps[-1].end()])
        return caps[-1].end(), key, gaz.is_known(key) and _spelled_as_known(text[pos:caps[-1].end()], key, gaz)
    return None


_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng (combining)


def spelled_alike(a: str, b: str) -> bool:
    """The same Vietnamese words, whatever the case and where the tone mark sits ("Hoà" ~ "hòa"); "quan" is not
    "quận", "Chủ" is not "Chũ"."""
    def sig(text: str) -> list[tuple[str, frozenset[str]]]:
        out = []
        for w in nfc(text).lower().split():
            chars = unicodedata.normalize("NFD", w)
            out.append(("".join(c for c in chars if c not in _TONES), frozenset(c for c in chars if c in _TONES)))
        return out
    return sig(a) == sig(b)


def _spelled_as_known(typed: str, key: str, gaz: Gazetteer) -> bool:
    """A name typed with accents must carry the accents of a known spelling ("ở Điện" is not "Ô Diên"); one typed
    without accents matches any spelling."""
    if not has_diacritics(typed) or key in gaz.aliases:
        return True
    names = [p.name for p in gaz.by_key.get(key, ())] + ([gaz.old[key]] if key in gaz.old else [])
    return any(spelled_alike(typed, n) for n in names)


def _adjacent(text: str, a: int, b: int) -> bool:
    return text[a:b] in (" ", "-", " - ")


def _contiguous(text: str, words: list[re.Match[str]]) -> list[re.Match[str]]:
    out: list[re.Match[str]] = []
    for w in words:
        if out and not _adjacent(text, out[-1].end(), w.start()):
            break
        out.append(w)
    return out


def _leading(words: list[re.Match[str]], pred: Callable[[str], bool]) -> list[re.Match[str]]:
    out: list[re.Match[str]] = []
    for w in words:
        if not pred(w.group(0)):
            break
        out.append(w)
    return out


def _looks_like_name(word: str) -> bool:
    """A proper-name word: "Mường", "Ảng", "Dong"; not "hội", not "HỘI" (an all-capital heading)."""
    return word[:1].isupper() and (len(word) == 1 or not word[1:].isupper())


def _mention(text: str, span: tuple[int, int], key: str, level: str | None, known: bool,
             gaz: Gazetteer) -> PlaceMention:
    start, end = span
    units = gaz.lookup(key, level) if known else ()
    if known and not units and key in gaz.aliases:
        units = gaz.lookup(gaz.aliases[key])
    as_province = level in PROVINCE_LEVELS or level is None or not units
    successor = gaz.successor.get(key) if as_province and key not in gaz.provinces else None
    if successor:
        units = gaz.lookup(key, level) if level not in (None, *PROVINCE_LEVELS) else ()
    if units:
        best = units[0]
        provinces = {u.province for u in units}
        return PlaceMention(text[start:end], best.name, level or best.level,
                            best.province if len(provinces) == 1 else None, key, start, end, True, successor)
    name = (gaz.old.get(key) if known else None) or _clean_typed(text, span, level)
    return PlaceMention(text[start:end], name, level, None, key, start, end, known,
                        successor if known else None)


def _clean_typed(text: str, span: tuple[int, int], level: str | None) -> str:
    typed = text[span[0]:span[1]]
    return _strip_level(typed) if level else typed


def _level_mentions(text: str, gaz: Gazetteer) -> list[PlaceMention]:
    folded = fold(text)
    out: list[PlaceMention] = []
    for m in _LEVEL_RE.finditer(folded):
        if out and m.start() < out[-1].end:
            continue
        found = _name_after(text, m.end(), gaz)
        if found is None:
            continue
        end, key, known = found
        level = _LEVEL_WORDS[m.group(1)]
        typed_level = text[m.start(1):m.end(1)]
        if has_diacritics(text[m.start():end]) and m.group(1) != "tp" and not spelled_alike(typed_level, level):
            continue  # "cơ quan Đảng", "quản lý": not "quận"
        out.append(_mention(text, (m.start(), end), key, level, known, gaz))
    return out


@lru_cache(maxsize=4)
def _bare_re(gaz: Gazetteer) -> re.Pattern[str]:
    """One pattern for every province key (current, pre-2025, aliases), longest first, on folded text."""
    keys = sorted(set(gaz.provinces) | set(gaz.old) | set(gaz.aliases), key=len, reverse=True)
    alts = "|".join(r"[\s\-.]+".join(re.escape(w) for w in k.split()) for k in keys)
    return re.compile(rf"(?<![\w.])(?:{alts})(?!\w)")


def _bare_provinces(text: str, gaz: Gazetteer, taken: list[tuple[int, int]]) -> list[PlaceMention]:
    """Province names (current, pre-2025 or aliases) printed without a level word."""
    lower = not any(c.isupper() for c in text)
    out = []
    for m in _bare_re(gaz).finditer(fold(text)):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        typed = text[m.start():m.end()]
        if not lower and not all(_looks_like_name(w) or w.isupper() for w in re.findall(r"\w+", typed)):
            continue
        out.append(_mention(text, (m.start(), m.end()), search_form(typed), None, True, gaz))
    return out


def _resolve_provinces(found: list[PlaceMention], gaz: Gazetteer) -> list[PlaceMention]:
    """A unit whose name several provinces share takes the province the same text names."""
    named = {f.name for f in found if f.level in PROVINCE_LEVELS or f.level is None and f.province == f.name}
    out = []
    for f in found:
        if f.province is None and f.known and f.level not in PROVINCE_LEVELS:
            cands = {u.province for u in gaz.lookup(f.key, f.level)} & named
            if len(cands) == 1:
                f = PlaceMention(f.typed, f.name, f.level, cands.pop(), f.key, f.start, f.end, f.known,
                                 f.successor)
        out.append(f)
    return out


def find_places(text: str, gaz: Gazetteer | None = None) -> list[PlaceMention]:
    """Every place named in ``text``, left to right (see the module docstring)."""
    gaz = gaz or gazetteer()
    text = nfc(text)
    found = _level_mentions(text, gaz)
    provinces = _bare_provinces(text, gaz, [])  # "xa o dien bien": the unit "Ô Diên" would cut "Điện Biên" in two
    found = [f for f in found if not any(f.start < p.start < f.end < p.end for p in provinces)]
    found += _bare_provinces(text, gaz, [(f.start, f.end) for f in found])
    return _resolve_provinces(sorted(found, key=lambda f: f.start), gaz)


def canonical(name: str) -> str | None:
    """Proper spelling of a known place name (level word allowed), or None when unknown."""
    gaz = gazetteer()
    units = gaz.lookup(name)
    if units:
        return units[0].name
    return gaz.old.get(search_form(_strip_level(name)))


def old_to_new(name: str) -> str | None:
    """The province that took over a province merged in 2025, or None for a current or unknown name.

    The package lists only the current units, so pre-2025 districts and communes are not mapped.
    """
    gaz = gazetteer()
    key = search_form(_strip_level(name))
    return gaz.successor.get(key) if key in gaz.successor else None


# ---------------------------------------------------------------- compatibility with ingest.metadata


def known_places() -> dict[str, str]:
    """Folded form → proper name of the places safe to spot without a level word in a question: the
    current provinces and the pre-2025 ones.  Communes and wards are left out: many share their name with
    common words ("Đoàn Kết", "An Ninh", "Thống Nhất"); :func:`find_places` finds them after a level word."""
    gaz = gazetteer()
    out = {k: p.name for k, p in gaz.provinces.items()}
    out.update({k: v for k, v in gaz.old.items() if k not in out})
    return out


def restore_place(name: str) -> str:
    """Proper spelling of a place name when the gazetteer knows it, else the name as printed."""
    return canonical(name) or re.sub(r"\s+", " ", name).strip(" ,.;")
