"""Scanned pages → lines with boxes, through Debian's Tesseract (``tesseract-ocr`` + ``tesseract-ocr-vie``).

Steps per page (each measured on the nom-vn ground truth, docs/EVALUATION.md "OCR"):

1. grey = the brightest of the R, G, B channels, so red stamps and blue ink fade while black print stays;
   upscaled to 300 dpi when the image is coarser;
2. orientation from Tesseract's OSD (``--psm 0``): a page printed 90° / 180° / 270° is turned upright;
3. binarised (Otsu), then deskewed by the angle that makes the row profile sharpest (±3°);
4. ruled tables found on the binary image (long horizontal and vertical strokes → row bands and column
   edges); the ruling is erased before OCR so it is not read as "|" or "_";
5. one Tesseract run on the page (TSV: every word with its box); words inside a table cell are joined per
   cell, and each table row becomes one line of cells joined by :data:`ingest.pages.CELL_SEP`; the other
   words form lines in Tesseract's reading order.  Every line keeps its box (fractions of the page).
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ingest.pages import Line, table_row
from ingest.tables import Grid, find_grids, ruling_mask

log = logging.getLogger("ingest.ocr")

TARGET_DPI = 300
LANGS = os.environ.get("KEHOACH_OCR_LANGS", "vie")  # vie alone beat vie+eng on every ground-truth page
MIN_DESKEW = 1.0  # degrees; Tesseract copes with less, and re-sampling a 1-bit scan for less costs accuracy
OSD_MIN_CONFIDENCE = 2.0
MAX_SKEW = 3.0
INSTALL_HINT = "install Tesseract with Vietnamese: apt-get install tesseract-ocr tesseract-ocr-vie (or `make ocr`)"


@dataclass(frozen=True)
class OcrSettings:
    dpi: int = TARGET_DPI  # resolution pages are rendered / upscaled to before OCR
    psm: int = 3
    langs: str = LANGS
    osd: bool = True
    deskew: bool = True
    tables: bool = True
    fade_colour: bool = True
    binarise: bool = True
    min_word_conf: float = 0.0  # words below this confidence that hold no letter or digit are dropped
    min_line_conf: float = 0.0  # text lines whose mean word confidence is below this are dropped (stamps, ink)


@dataclass
class OcrPage:
    lines: list[Line] = field(default_factory=list)
    rotation: int = 0
    skew: float = 0.0
    tables: int = 0
    size: tuple[int, int] = (0, 0)


# ---- availability -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def available_langs() -> frozenset[str]:
    exe = shutil.which("tesseract")
    if not exe:
        return frozenset()
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(x.strip() for x in out.splitlines()[1:] if x.strip())


def is_available(langs: str = LANGS) -> bool:
    have = available_langs()
    return bool(have) and all(x in have for x in langs.split("+"))


def require(file_name: str, langs: str = LANGS) -> None:
    """Raise ValueError naming the file when its scanned pages cannot be OCR'd here."""
    if not is_available(langs):
        raise ValueError(f"{file_name}: the file has scanned (image-only) pages and OCR is not available; "
                         f"{INSTALL_HINT}")


def _run(args: list[str], image: Image.Image, timeout: int = 300, dpi: int = TARGET_DPI) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    with tempfile.NamedTemporaryFile(suffix=".png") as tmp:
        image.save(tmp.name, dpi=(dpi, dpi))
        proc = subprocess.run(["tesseract", tmp.name, "stdout", *args], capture_output=True, text=True,
                              timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-300:])
    return proc.stdout


# ---- rendering and preprocessing -----------------------------------------------------------------
def render_pdf_page(path: Path, index: int, dpi: int = TARGET_DPI) -> Image.Image:
    """Page ``index`` (0-based) of a PDF as an RGB image at ``dpi`` (pdfium)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return pdf[index].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        pdf.close()


def grey(image: Image.Image, fade_colour: bool = True) -> np.ndarray:
    """Grey levels (uint8); with ``fade_colour`` the brightest channel, so coloured stamps and ink fade."""
    if image.mode in ("1", "L"):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return rgb.max(axis=2) if fade_colour else np.asarray(image.convert("L"), dtype=np.uint8)


def otsu(g: np.ndarray) -> int:
    """Otsu's threshold of a grey image (-1 for a blank, single-level image: nothing is ink)."""
    if g.size == 0 or int(g.min()) == int(g.max()):
        return -1
    hist = np.bincount(g.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    w0 = np.cumsum(hist)
    m = np.cumsum(hist * np.arange(256))
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (m[-1] * w0 / total - m) ** 2 / (w0 * w1 / total)
    return int(np.argmax(np.nan_to_num(between[:-1], nan=-1.0)))


def skew_angle(ink: np.ndarray, max_angle: float = MAX_SKEW) -> float:
    """Degrees to rotate (counter-clockwise) so text rows are level: the sharpest row profile wins."""
    h, w = ink.shape
    scale = min(1.0, 900 / max(w, 1))
    small = Image.fromarray((ink * 255).astype(np.uint8)).resize((max(1, int(w * scale)), max(1, int(h * scale))))

    def sharpness(angle: float) -> float:
        rows = np.asarray(small.rotate(angle, resample=Image.BILINEAR), dtype=np.float64).sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.4, best + 0.41, 0.1)
    return round(float(max(fine, key=sharpness)), 2)


def orientation(image: Image.Image) -> int:
    """Clockwise degrees (0/90/180/270) Tesseract's OSD says the page is turned by; 0 when unsure."""
    small = image.copy()
    small.thumbnail((1800, 1800))
    try:
        out = _run(["--psm", "0"], small, timeout=60)
    except (RuntimeError, subprocess.SubprocessError):
        return 0  # too little text to tell
    rot = re.search(r"Rotate:\s*(\d+)", out)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", out)
    if not rot or not conf or float(conf.group(1)) < OSD_MIN_CONFIDENCE:
        return 0
    return int(rot.group(1)) % 360


def prepare(image: Image.Image, dpi: float | None, settings: OcrSettings) -> tuple[Image.Image, int, float]:
    """The upright, deskewed, binarised 300-dpi page, with the rotation and skew applied."""
    if dpi and dpi < settings.dpi - 1:
        f = settings.dpi / dpi
        image = image.resize((round(image.width * f), round(image.height * f)), Image.LANCZOS)
    g = Image.fromarray(grey(image, settings.fade_colour))
    rot = orientation(g) if settings.osd else 0
    if rot:
        g = g.rotate(-rot, expand=True, fillcolor=255)
    arr = np.asarray(g, dtype=np.uint8)
    thr = otsu(arr)
    ink = arr <= thr
    skew = skew_angle(ink) if settings.deskew else 0.0
    if abs(skew) >= MIN_DESKEW:
        g = g.rotate(skew, resample=Image.BICUBIC, expand=False, fillcolor=255)
        arr = np.asarray(g, dtype=np.uint8)
    if settings.binarise:
        g = Image.fromarray(np.where(arr <= thr, 0, 255).astype(np.uint8))
    return g, rot, skew


# ---- OCR and assembly ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    text: str
    conf: float
    key: tuple[int, int, int]  # block, paragraph, line
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


def tesseract_words(image: Image.Image, settings: OcrSettings) -> list[Word]:
    """Every word Tesseract reads on the page, in its reading order."""
    out = _run(["-l", settings.langs, "--psm", str(settings.psm), "tsv"], image, dpi=settings.dpi)
    words = []
    for row in csv.DictReader(io.StringIO(out), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        conf = float(row["conf"])
        if conf < settings.min_word_conf and not re.search(r"\w", text):
            continue
        x, y, w, h = (int(row[k]) for k in ("left", "top", "width", "height"))
        words.append(Word(text, conf, (int(row["block_num"]), int(row["par_num"]), int(row["line_num"])),
                          (x, y, x + w, y + h)))
    return words


def _frac(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[float, float, float, float]:
    w, h = size
    return (box[0] / w, box[1] / h, box[2] / w, box[3] / h)


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _cell_text(words: list[Word]) -> str:
    """Words of one cell in reading order: Tesseract's lines top to bottom, words left to right."""
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault(w.key, []).append(w)
    ordered = sorted(lines.values(), key=lambda ws: (min(w.box[1] for w in ws), min(w.box[0] for w in ws)))
    return " ".join(" ".join(w.text for w in sorted(ws, key=lambda w: w.box[0])) for ws in ordered)


def table_lines(grid: Grid, words: list[Word], size: tuple[int, int]) -> tuple[list[tuple[int, Line]], set[int]]:
    """(top, Line) per non-empty row of the grid, and the indices of the words it used."""
    used: set[int] = set()
    out: list[tuple[int, Line]] = []
    for band in grid.rows:
        cells: list[list[Word]] = [[] for _ in band.cells]
        for i, w in enumerate(words):
            j = band.cell_at(*w.centre)
            if j is not None:
                cells[j].append(w)
                used.add(i)
        if any(cells):
            box = (band.cells[0][0], band.top, band.cells[-1][1], band.bottom)
            out.append((band.top, Line(table_row([_cell_text(c) for c in cells]), _frac(box, size), True)))
    return out, used


def text_lines(words: list[Word], size: tuple[int, int], min_conf: float = 0.0) -> list[tuple[int, Line]]:
    """(top, Line) per Tesseract line of the words, in Tesseract's reading order; lines whose mean word
    confidence is under ``min_conf`` (a stamp's or handwriting's noise) are left out."""
    groups: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        groups.setdefault(w.key, []).append(w)
    out = []
    for ws in groups.values():
        if min_conf and sum(w.conf for w in ws) / len(ws) < min_conf:
            continue
        box = _union([w.box for w in ws])
        out.append((box[1], Line(" ".join(w.text for w in sorted(ws, key=lambda w: w.box[0])), _frac(box, size))))
    return out


def merge_in_order(text: list[tuple[int, Line]], rows: list[tuple[int, Line]]) -> list[Line]:
    """Text lines in their order, each table row placed before the first text line below its top."""
    rows = sorted(rows, key=lambda r: r[0])
    out: list[Line] = []
    k = 0
    for top, line in text:
        while k < len(rows) and rows[k][0] <= top:
            out.append(rows[k][1])
            k += 1
        out.append(line)
    out.extend(r[1] for r in rows[k:])
    return out


def ocr_page(image: Image.Image, dpi: float | None = TARGET_DPI, settings: OcrSettings | None = None) -> OcrPage:
    """OCR one page image: lines in reading order (table rows as cell rows), each with its box."""
    settings = settings or OcrSettings()
    page, rot, skew = prepare(image, dpi, settings)
    ink = np.asarray(page, dtype=np.uint8) < 128
    if not ink.any():
        return OcrPage([], rot, skew, 0, page.size)  # a blank page
    grids = find_grids(ink) if settings.tables else []
    if grids:
        clean = np.asarray(page, dtype=np.uint8).copy()
        clean[ruling_mask(ink, grids)] = 255
        page = Image.fromarray(clean)
    words = tesseract_words(page, settings)
    size = page.size
    rows: list[tuple[int, Line]] = []
    used: set[int] = set()
    for grid in grids:
        got, took = table_lines(grid, [w for i, w in enumerate(words) if i not in used], size)
        remaining = [i for i in range(len(words)) if i not in used]
        used |= {remaining[j] for j in took}
        rows.extend(got)
    text = text_lines([w for i, w in enumerate(words) if i not in used], size, settings.min_line_conf)
    return OcrPage(merge_in_order(text, rows), rot, skew, len(grids), size)


def ocr_text(image: Image.Image, dpi: float | None = TARGET_DPI, settings: OcrSettings | None = None) -> str:
    """The page's OCR text, one line per line (what evals.ocr scores)."""
    return "\n".join(ln.text for ln in ocr_page(image, dpi, settings).lines)


def image_dpi(image: Image.Image, default: float = 200.0) -> float:
    """The resolution an image file records, else ``default`` (scans are usually 200 or 300 dpi)."""
    info: Any = image.info.get("dpi")
    try:
        return float(info[0]) if info and float(info[0]) > 30 else default
    except (TypeError, ValueError):
        return default
