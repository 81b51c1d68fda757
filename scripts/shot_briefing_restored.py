"""Screenshot of the briefing tab with the OCR plans restored: ``python scripts/shot_briefing_restored.py``.

Serves the app on a free port (``kehoach serve``), opens the "Tóm tắt" tab in Debian's chromium (Playwright, as
tests/test_browser.py does) and writes docs/img/briefing-restored.png.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen, timeout_s: float = 300) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and proc.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=2).json().get("status") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"error: the app at {url} did not become healthy")


def shoot(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page.set_default_timeout(120_000)
        page.goto(url + "/")
        page.wait_for_selector('#kh-top [data-ready="1"]')
        page.get_by_role("tab", name="Tóm tắt").click()
        page.locator("#kh-b-matrix .kh-matrix").wait_for()
        page.locator("#kh-b-agency textarea").fill("y te")
        page.locator("#kh-b-count").filter(has_text="nhiệm vụ").wait_for()
        time.sleep(2)
        page.locator("#kh-brief-intro").click()
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index-dir", default="var/index")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img" / "briefing-restored.png"))
    args = ap.parse_args()
    port = _port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "KEHOACH_LOG_JSON": "false"}
    cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--index-dir", args.index_dir, "--log-level", "WARNING"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        _wait(f"http://127.0.0.1:{port}", proc)
        shoot(f"http://127.0.0.1:{port}", Path(args.out))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
