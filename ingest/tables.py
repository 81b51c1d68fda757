"""Ruled tables on a binarised page image: long strokes → row bands → cells.

Horizontal rulings are runs of ink at least 1/12 of the page wide (found with a running mean along each
row, so a broken line still counts), vertical rulings runs of at least 1/60 of the page high.  Horizontal
rulings that overlap in x and follow each other down the page form one grid; the space between two of them
is a row band, cut into cells where a vertical ruling covers most of the band's height.  A band crossed by
no vertical ruling (a group heading spanning the table) is one cell; such bands above the first or below the
last multi-cell band (a heading's underline grouped with the table's top rule) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

MIN_H_SHARE = 1 / 12  # shortest horizontal stroke, as a share of page width
MIN_V_SHARE = 1 / 60  # shortest vertical stroke, as a share of page height
MIN_RULE_SHARE = 0.2  # a table's horizontal rulings span at least this share of the page width
MIN_GRID_SHARE = 0.4  # a table spans at least this share of the page width (a stamp's box is narrower)
MIN_ROWS = 2  # bands with two or more cells; a boxed stamp or a framed note has one
MIN_BAND = 15  # px: thinner bands are double rulings
V_COVER = 0.6  # a vertical ruling must cover this share of a band to cut it
MIN_CELL = 12  # px
OVERSHOOT = 40  # px (~3 mm at 300 dpi): rulings running past the outer vertical line make no cell


@dataclass(frozen=True)
class Band:
    top: int
    bottom: int
    cells: tuple[tuple[int, int], ...]  # (x0, x1) of each cell, left to right

    def cell_at(self, x: float, y: float) -> int | None:
        if not self.top <= y < self.bottom:
            return None
        for i, (x0, x1) in enumerate(self.cells):
            if x0 <= x < x1:
                return i
        return None


@dataclass(frozen=True)
class Grid:
    x0: int
    y0: int
    x1: int
    y1: int
    rows: tuple[Band, ...]

    @property
    def columns(self) -> int:
        return max((len(b.cells) for b in self.rows), default=0)


def _strokes(ink: np.ndarray, length: int, axis: int) -> np.ndarray:
    run = ndimage.uniform_filter1d(ink.astype(np.float32), size=length, axis=axis, mode="constant")
    core = run >= 0.9
    return ndimage.maximum_filter1d(core, size=length, axis=axis) & ink


def _masks(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = ink.shape
    return _strokes(ink, max(40, int(w * MIN_H_SHARE)), 1), _strokes(ink, max(30, int(h * MIN_V_SHARE)), 0)


def _h_rules(hmask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) of each horizontal ruling long enough to belong to a table, top to bottom."""
    w = hmask.shape[1]
    joined = ndimage.binary_dilation(hmask, structure=np.ones((5, 1), bool))
    labels, _ = ndimage.label(joined)
    rules = []
    for sl in ndimage.find_objects(labels):
        if sl is not None and sl[1].stop - sl[1].start >= w * MIN_RULE_SHARE:
            rules.append((sl[0].start, sl[0].stop, sl[1].start, sl[1].stop))
    return sorted(rules)


def _group(rules: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int, int, int]]]:
    groups: list[list[tuple[int, int, int, int]]] = []
    for r in rules:
        g = groups[-1] if groups else None
        if g and min(r[3], g[-1][3]) - max(r[2], g[-1][2]) >= 0.5 * min(r[3] - r[2], g[-1][3] - g[-1][2]):
            g.append(r)
        else:
            groups.append([r])
    return [g for g in groups if len(g) >= 2]


def _edges(vmask: np.ndarray, top: int, bottom: int, x0: int, x1: int) -> list[int]:
    cover = vmask[top:bottom, x0:x1].mean(axis=0) >= V_COVER
    xs = np.flatnonzero(cover) + x0
    edges: list[int] = []
    for x in xs:
        if edges and x - edges[-1] <= 8:
            continue
        edges.append(int(x))
    if not edges or edges[0] - x0 > OVERSHOOT:
        edges.insert(0, x0)
    if x1 - edges[-1] > OVERSHOOT:
        edges.append(x1)
    return edges


def _grid(rules: list[tuple[int, int, int, int]], vmask: np.ndarray) -> Grid | None:
    x0, x1 = min(r[2] for r in rules), max(r[3] for r in rules)
    bands = []
    for a, b in zip(rules, rules[1:], strict=False):
        top, bottom = a[1], b[0]
        if bottom - top < MIN_BAND:
            continue
        edges = _edges(vmask, top, bottom, x0, x1)
        cells = tuple((e0, e1) for e0, e1 in zip(edges, edges[1:], strict=False) if e1 - e0 >= MIN_CELL)
        if cells:
            bands.append(Band(top, bottom, cells))
    multi = [i for i, b in enumerate(bands) if len(b.cells) >= 2]
    if len(multi) < MIN_ROWS or x1 - x0 < MIN_GRID_SHARE * vmask.shape[1]:
        return None  # ruled lines without columns, a stamp's box, a framed note: not a table
    bands = bands[multi[0]: multi[-1] + 1]  # an underline above or below the table is no part of it
    return Grid(x0, bands[0].top, x1, bands[-1].bottom, tuple(bands))


def find_grids(ink: np.ndarray) -> list[Grid]:
    """The ruled tables of a page (``ink``: True where the binarised page is dark), top to bottom."""
    hmask, vmask = _masks(ink)
    grids = [_grid(g, vmask) for g in _group(_h_rules(hmask))]
    return [g for g in grids if g is not None]


def ruling_mask(ink: np.ndarray, grids: list[Grid], pad: int = 6) -> np.ndarray:
    """The pixels of the grids' rulings (slightly widened), to erase before OCR; text outside is untouched."""
    hmask, vmask = _masks(ink)
    inside = np.zeros_like(ink)
    for g in grids:
        inside[max(0, g.y0 - pad): g.y1 + pad, max(0, g.x0 - pad): g.x1 + pad] = True
    return ndimage.binary_dilation((hmask | vmask) & inside, iterations=1)
