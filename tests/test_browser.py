"""End to end in a real browser: the app served by uvicorn, driven by Playwright with Debian's chromium.

Screenshots of each view are written to docs/screenshots/.  Skipped only when /usr/bin/chromium is absent
(install it with `apt-get install -y chromium`; never `playwright install`).
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from app.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO_ROOT = Path(__file__).resolve().parents[1]
SHOTS = REPO_ROOT / "docs" / "screenshots"
TIMEOUT_MS = 60_000

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed "
                                 "(apt-get install -y chromium)")]


@pytest.fixture(scope="module")
def base_url(index_dir: Path, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app (`kehoach serve`: API + UI, model and index loaded in its lifespan) on 127.0.0.1.

    A separate process, as in production: two Gradio apps in one process (this module's and the TestClient
    apps of test_api.py) share Gradio's process-wide state, which made queued UI events hang now and then.
    """
    port = _free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "KEHOACH_MODEL_CACHE": str(settings.model_cache), "KEHOACH_LOG_JSON": "false",
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--index-dir", str(index_dir), "--log-level", "WARNING"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen, log_path: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"`kehoach serve` exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"{url}/health", timeout=2).json().get("status") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"the app at {url} was not healthy after {timeout_s} s:\n{tail}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    pg = context.new_page()
    console: list[str] = []
    pg.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    pg.on("requestfailed", lambda r: console.append(f"request failed: {r.url} {r.failure}"))
    pg.console_log = console  # type: ignore[attr-defined]
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(base_url + "/")
    pg.wait_for_selector("#kh-question textarea")
    pg.wait_for_selector('#kh-top [data-ready="1"]')  # the page's load event has run: handlers are live
    yield pg
    context.close()


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _wait_answer(page: Page, question: str) -> None:
    try:
        page.locator("#kh-answer-panel .kh-q", has_text=question).wait_for()
    except Exception as exc:
        page.screenshot(path="/tmp/kh-fail.png", full_page=True)
        log = "\n".join(getattr(page, "console_log", [])[-30:])
        raise AssertionError(f"no answer for {question!r}; panel: "
                             f"{page.locator('#kh-answer-panel').inner_text()!r}\nconsole:\n{log}") from exc


def _ask(page: Page, question: str) -> None:
    page.locator("#kh-question textarea").fill(question)
    page.locator("#kh-ask").click()
    _wait_answer(page, question)


def test_answer_with_citation_cards(page: Page, base_url: str) -> None:
    question = "Cơ quan nào chủ trì kiểm tra trong Kế hoạch 07-KH/TU?"
    _ask(page, question)
    answer = page.locator("#kh-answer-panel .kh-a").inner_text()
    assert "Kế hoạch số 07-KH/TU" in answer
    assert "Cơ quan chủ trì" in answer
    cards = page.locator("#kh-answer-panel .kh-card")
    assert cards.count() >= 1
    first = cards.first
    assert first.get_attribute("data-doc-number") == "07-KH/TU"
    assert "Ban Thường vụ Tỉnh ủy Điện Biên" in first.inner_text()
    assert "21/11/2025" in first.inner_text()
    assert first.locator("mark.kh-hl").count() > 0  # question words highlighted in the passage
    shown = page.locator("#kh-answer-panel").inner_text()
    assert '"citations"' not in shown and '"chunk_id"' not in shown  # no raw JSON
    # answer first, then the sources
    box_a = page.locator("#kh-answer-panel .kh-answer").bounding_box()
    box_c = first.bounding_box()
    assert box_a and box_c and box_a["y"] < box_c["y"]
    _no_horizontal_overflow(page)
    _shot(page, "chat-answer.png")

    # copy-ready text with numbered references
    page.locator("#kh-copy").click()
    copied = page.locator("#kh-copy-text textarea")
    copied.wait_for()
    page.wait_for_function("() => document.querySelector('#kh-copy-text textarea')?.value.length > 0")
    text = copied.input_value()
    assert "Nguồn trích dẫn:" in text
    first_ref = r"^1\. Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên, ngày 21/11/2025, mục IV\."
    assert re.search(first_ref, text, re.M), text

    # the card's link opens the plan at the cited passage
    href = first.locator(".kh-card-foot a").get_attribute("href")
    assert href and href.startswith("doc/")
    reader = page.context.new_page()
    reader.goto(f"{base_url}/{href}")
    cited = reader.locator("mark.kh-cite")
    assert cited.count() == 1 and cited.is_visible()
    assert reader.locator(".kh-tree a").count() > 5
    SHOTS.mkdir(parents=True, exist_ok=True)
    reader.screenshot(path=str(SHOTS / "document-reader.png"))  # scrolled to the cited passage
    reader.close()


@pytest.fixture(scope="module")
def examples(index_dir: Path):
    """The example chips the app derives from its index (app.examples), with the plans they came from."""
    from app.examples import example_questions
    from index.store import load_index
    from retriever.corpus import Corpus

    corpus = Corpus(load_index(index_dir))
    return corpus.documents, example_questions(corpus.documents, corpus.facts)


def test_accent_free_question_from_example_chip(page: Page, examples) -> None:
    from ingest.textnorm import has_diacritics

    documents, chips = examples
    assert all(e.doc_id for e in chips)  # every chip comes from an indexed plan: none is generic text
    example = next(e for e in chips if not has_diacritics(e.text))
    page.get_by_role("button", name=example.text).click()
    _wait_answer(page, example.text)
    cards = page.locator("#kh-answer-panel .kh-card")
    assert cards.count() >= 1
    doc = documents[example.doc_id]
    assert cards.first.get_attribute("data-doc-number") == (doc.meta.number or "")
    assert doc.meta.locality in page.locator("#kh-answer-panel").inner_text()
    assert cards.first.locator("mark.kh-hl").count() > 0  # accent-free words highlighted in accented text
    _shot(page, "chat-accent-free.png")


def test_refusal_shows_no_sources(page: Page) -> None:
    _ask(page, "Kế hoạch 07-KH/TU do ai ký?")  # a first turn, so the history is shown too
    question = "Tỉnh Lào Cai giao cơ quan nào chủ trì?"
    _ask(page, question)
    panel = page.locator("#kh-answer-panel")
    assert "Không tìm thấy thông tin này" in panel.inner_text()
    assert panel.locator(".kh-refusal").count() == 1
    assert panel.locator(".kh-card").count() == 0
    assert "Nguồn trích dẫn" not in panel.inner_text()
    history = page.locator("#kh-history-panel")
    assert "Kế hoạch 07-KH/TU do ai ký?" in history.inner_text()
    _shot(page, "chat-refusal.png")


def test_filter_by_locality_scopes_the_sources(page: Page) -> None:
    page.get_by_text("Bộ lọc phạm vi").click()
    page.locator("#kh-f-loc input").click()
    page.get_by_role("option", name="xã Định Hóa").click()
    _ask(page, "Cơ quan nào chủ trì tổ chức Ngày Sức khỏe toàn dân?")
    panel = page.locator("#kh-answer-panel")
    assert "Phạm vi lọc" in panel.inner_text()
    numbers = {c.get_attribute("data-doc-number") for c in panel.locator(".kh-card").all()}
    assert numbers == {"12-CTr/ĐU"}


def test_documents_tab_lists_the_plans(page: Page) -> None:
    page.get_by_role("tab", name="Văn bản").click()
    table = page.locator("#kh-doc-table")
    table.get_by_text("07-KH/TU").first.wait_for()
    text = table.inner_text()
    for number in ("10-CTr/ĐU", "07-KH/TU", "12-CTr/ĐU"):
        assert number in text
    assert text.count("(chưa ghi số)") == 2
    assert "Ủy ban nhân dân xã Mường La" in text
    table.get_by_text("07-KH/TU").first.click()  # selecting a row opens the reader
    reader = page.locator("#kh-reader-panel .kh-reader")
    reader.wait_for()
    assert "Kế hoạch số 07-KH/TU" in reader.locator("h2").inner_text()
    assert reader.locator(".kh-tree a").count() > 5
    assert "TỔ CHỨC THỰC HIỆN" in reader.locator(".kh-tree").inner_text()
    page.locator("#kh-docs-intro").click()  # leave the table so the screenshot shows no cell selection
    _no_horizontal_overflow(page)
    _shot(page, "documents.png")


def test_briefing_tab_filters_tables_and_downloads(page: Page, base_url: str) -> None:
    from app import briefing

    page.get_by_role("tab", name="Tóm tắt").click()
    matrix = page.locator("#kh-b-matrix .kh-matrix")
    matrix.wait_for()
    life = matrix.locator('tr[data-indicator="life_expectancy"]').inner_text()
    for value in ("75,5 tuổi (2030)", "73 tuổi (2030)", "75 tuổi (2030)"):
        assert value in life
    assert page.locator("#kh-b-chart .kh-bar-row").count() == 5  # life expectancy across the five plans

    expected = httpx.get(f"{base_url}/api/assignments", params={"agency": "so y te"}, timeout=30).json()
    page.locator("#kh-b-agency textarea").fill("so y te")  # accent-free free text
    page.locator("#kh-b-count", has_text=f"{len(expected)} nhiệm vụ trong 1 văn bản").wait_for()
    table = page.locator("#kh-b-table")
    leads = table.locator('[role="gridcell"][data-col="1"]').all_inner_texts()
    assert leads and all("Sở Y tế" in lead for lead in leads)
    tasks = table.locator('[role="gridcell"][data-col="0"]').all_inner_texts()
    assert max(len(t) for t in tasks) <= briefing.TASK_CLIP  # long tasks are clipped with "…"
    assert '"lead"' not in page.locator("#kh-tab-briefing").inner_text()  # no raw JSON

    with page.expect_download() as info:
        page.locator("#kh-dl-assignments").click()
    download = info.value
    assert download.suggested_filename == briefing.ASSIGNMENTS_CSV
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeffdoc_number,doc_type,issuer,")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == len(expected) and all("Sở Y tế" in r["lead"] for r in rows)

    with page.expect_download() as info:
        page.locator("#kh-dl-docx").click()
    assert info.value.suggested_filename == briefing.BRIEFING_DOCX
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"  # a .docx is a zip archive

    page.locator("#kh-brief-intro").click()  # leave the text box so the screenshot shows no focus ring
    _no_horizontal_overflow(page)
    _shot(page, "briefing.png")


def _no_horizontal_overflow(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the window"


def test_fifty_concurrent_asks_all_answered(base_url: str) -> None:
    """50 users at once on the served app (loopback load generator of bench/http_load.py): every POST /api/ask
    is answered with 200 and a grounded answer.  No timing is asserted here; the figures are in BENCHMARKS.md."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from bench import DEFAULT_GOLD
    from bench.http_load import run_level
    from evals.gold import load_gold

    questions = [g.question for g in load_gold(DEFAULT_GOLD)][:50]
    # Playwright's sync API keeps an event loop running in this thread: run the load generator in its own
    with ThreadPoolExecutor(1) as pool:
        res = pool.submit(asyncio.run, run_level(base_url, questions, concurrency=50, max_requests=50,
                                                 max_seconds=600)).result()
    assert res["errors"] == 0, res["error_kinds"]
    assert res["ok"] == 50 and res["p95_ms"] is not None
    r = httpx.post(base_url + "/api/ask", json={"question": questions[0], "k": 3}, timeout=60)
    body = r.json()
    assert r.status_code == 200 and body["citations"] and body["citations"][0]["doc_number"]
