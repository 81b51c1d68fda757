"""The gazetteer (vietnam-provinces) and the place detector."""

from __future__ import annotations

from ingest.places import canonical, find_places, gazetteer, known_places, old_to_new, restore_place


def test_gazetteer_has_the_2025_units() -> None:
    gaz = gazetteer()
    assert len(gaz.provinces) == 34
    levels = {p.level for p in gaz.places}
    assert {"xã", "phường", "đặc khu", "tỉnh", "thành phố"} <= levels
    assert 3000 < sum(p.level in ("xã", "phường", "đặc khu") for p in gaz.places) < 3500
    assert gazetteer() is gaz  # loaded once


def test_find_places_with_and_without_diacritics() -> None:
    found = find_places("Kế hoạch của phường Bến Thành, TP HCM và tinh quang tri")
    assert [(m.name, m.level, m.province, m.known) for m in found] == [
        ("Bến Thành", "phường", "Hồ Chí Minh", True),
        ("Hồ Chí Minh", "thành phố", "Hồ Chí Minh", True),
        ("Quảng Trị", "tỉnh", "Quảng Trị", True),
    ]
    assert found[0].typed == "phường Bến Thành" and found[0].key == "ben thanh"


def test_unknown_place_is_kept_by_name_to_be_refused() -> None:
    (m,) = find_places("Xã Sông Hồng Xanh có kế hoạch nào về tiêm chủng?")
    assert m.known is False and m.name == "Sông Hồng Xanh" and m.level == "xã"


def test_words_that_only_look_like_places() -> None:
    assert find_places("Chính sách xã hội và CHÍNH SÁCH XÃ HỘI cho người cao tuổi") == []
    assert [m.name for m in find_places("Ban Thường vụ Tỉnh ủy Điện Biên")] == ["Điện Biên"]


def test_pre_2025_provinces_map_to_their_successor() -> None:
    (m,) = find_places("Tỉnh Hà Giang có kế hoạch không?")
    assert m.known and m.successor == "Tuyên Quang"
    assert old_to_new("tỉnh Bắc Giang") == "Bắc Ninh"
    assert old_to_new("Sơn La") is None  # not merged
    assert old_to_new("huyện Xyz") is None


def test_canonical_and_compatibility() -> None:
    assert canonical("dien bien") == "Điện Biên"
    assert canonical("xã Mường Ảng") == "Mường Ảng"
    assert canonical("Xyz Abc") is None
    assert restore_place("Pien Bien") == "Điện Biên"  # OCR "P" for "Đ"
    places = known_places()
    assert places["dien bien"] == "Điện Biên" and places["ha giang"] == "Hà Giang"
    assert "doan ket" not in places  # a ward name that is also a common word is not spotted bare


def test_a_unit_does_not_cut_a_province_name_in_two() -> None:
    assert [m.name for m in find_places("tram y te cap xa o dien bien co bao nhieu bac si")] == ["Điện Biên"]
    assert [m.name for m in find_places("co quan nao quan ly nhan hieu o son la") if m.confident] == ["Sơn La"]
