"""The documents tab's admin panel in a real browser: upload a plan with the token, follow the job, see the plan
listed and answered, delete it again.  `kehoach serve` runs on a copy of the index with KEHOACH_ADMIN_TOKEN set.
Skipped only when /usr/bin/chromium is absent (same as tests/test_browser.py)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO_ROOT = Path(__file__).resolve().parents[1]
SHOTS = REPO_ROOT / "docs" / "screenshots"
TOKEN = "trinh-duyet-bi-mat"
PLAN = """KẾ HOẠCH
Phát triển thư viện cộng đồng năm 2026
Ủy ban nhân dân xã Suối Giàng ban hành như sau:
I. MỤC TIÊU
1. Mỗi thôn có một tủ sách cộng đồng phục vụ học sinh và người cao tuổi.
II. TỔ CHỨC THỰC HIỆN
1. Trường Tiểu học xã chủ trì tổ chức ngày hội đọc sách vào tháng 4 hằng năm.
"""

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(index_dir: Path, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve-upload")
    shutil.copytree(index_dir, tmp / "index")
    port, log_path = _free_port(), tmp / "serve.log"
    env = {**os.environ, "KEHOACH_MODEL_CACHE": str(settings.model_cache), "KEHOACH_LOG_JSON": "false",
           "KEHOACH_ADMIN_TOKEN": TOKEN, "KEHOACH_UPLOAD_DIR": str(tmp / "uploads"), "HF_HUB_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--index-dir", str(tmp / "index"), "--log-level", "WARNING"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{url}/health", timeout=2).json().get("status") == "ok":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_upload_and_delete_from_the_documents_tab(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    plan = tmp_path / "thu-vien.txt"
    plan.write_text(PLAN, "utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="vi-VN")
        page.set_default_timeout(90_000)
        page.goto(served + "/")
        page.wait_for_selector('#kh-top [data-ready="1"]')
        page.get_by_role("tab", name="Văn bản").click()
        page.locator("#kh-admin-token").fill(TOKEN)
        page.locator("#kh-admin-files").set_input_files(str(plan))
        page.locator("#kh-admin-upload").click()
        page.locator("#kh-admin-status", has_text="Hoàn tất").wait_for()
        assert "thu-vien.txt: xong" in page.locator("#kh-admin-files-out").inner_text()
        page.locator("#kh-admin-doc option[value='thu-vien']").wait_for(state="attached")
        page.locator("#kh-doc-table", has_text="Ủy ban nhân dân xã Suối Giàng").wait_for()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "upload.png"), full_page=True)
        ask = httpx.post(served + "/api/ask", json={"question": "Ai chủ trì tổ chức ngày hội đọc sách?"}).json()
        assert ask["citations"][0]["doc_id"] == "thu-vien"

        page.locator("#kh-admin-doc").select_option("thu-vien")
        page.once("dialog", lambda d: d.accept())
        page.locator("#kh-admin-delete").click()
        page.locator("#kh-admin-status", has_text="Hoàn tất").wait_for()
        ids = {d["doc_id"] for d in httpx.get(served + "/api/documents").json()}
        assert "thu-vien" not in ids
        browser.close()
