"""The HTTP API under load: a server on 127.0.0.1 and a loopback load generator (httpx + asyncio).

The server is either ``kehoach serve`` in its own process (``mode="process"``: the real thing, and the process
start → first answer time is the cold start), or uvicorn in a thread of this process around an already-loaded
retriever (``mode="thread"``: fast, for tests and smoke runs; the load generator then shares the GIL with the
server, so its figures are lower bounds).  Each concurrency level sends at most ``max_requests`` questions or
runs at most ``max_seconds``, whichever comes first.

On its own, against a running server (``make run``) or one it starts on an index::

    python -m bench.http_load --url http://127.0.0.1:8000 --concurrency 50 --requests 50
    python -m bench.http_load --index-dir var/index --concurrency 1,8,32,50
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.measure import proc_rss_mb
from evals.timing import latency_stats

log = logging.getLogger("bench.http")

ASK_PATH = "/api/ask"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen | None = None
    thread: threading.Thread | None = None
    uvicorn_server: Any = None
    started_at: float = 0.0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.uvicorn_server is not None:
            self.uvicorn_server.should_exit = True
            if self.thread is not None:
                self.thread.join(timeout=20)

    def memory(self) -> dict[str, float | None]:
        return proc_rss_mb(self.process.pid) if self.process is not None else {"rss_mb": None, "peak_rss_mb": None}


def start_process_server(index_dir: Path, env_overrides: dict[str, str] | None = None, port: int | None = None
                         ) -> Server:
    """``python -m app.cli serve`` on 127.0.0.1 (what ``kehoach serve`` runs), output discarded."""
    port = port or free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "GRADIO_ANALYTICS_ENABLED": "False", "KEHOACH_LOG_LEVEL": "WARNING", **(env_overrides or {})}
    cmd = [sys.executable, "-m", "app.cli", "serve", "--index-dir", str(index_dir), "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "WARNING"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=Path(__file__).resolve().parents[1])
    return Server(f"http://127.0.0.1:{port}", process=proc, started_at=t0)


def start_thread_server(retriever: Any, settings: Any) -> Server:
    """uvicorn in a daemon thread of this process, serving ``create_app`` around ``retriever``."""
    import uvicorn

    from app.api import create_app

    port = free_port()
    config = uvicorn.Config(create_app(settings, retriever=retriever), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    t0 = time.perf_counter()
    thread = threading.Thread(target=server.run, name="bench-uvicorn", daemon=True)
    thread.start()
    return Server(f"http://127.0.0.1:{port}", thread=thread, uvicorn_server=server, started_at=t0)


def wait_first_answer(server: Server, question: str, timeout_s: float = 300.0) -> float:
    """Seconds from the server's start to its first 200 answer on ``POST /api/ask``."""
    deadline = time.perf_counter() + timeout_s
    with httpx.Client(timeout=60.0) as client:
        while time.perf_counter() < deadline:
            if server.process is not None and server.process.poll() is not None:
                raise RuntimeError(f"server exited with {server.process.returncode} before answering")
            try:
                r = client.post(server.url + ASK_PATH, json={"question": question, "k": 5})
                if r.status_code == 200:
                    return round(time.perf_counter() - server.started_at, 3)
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"no answer from {server.url} within {timeout_s}s")


async def run_level(url: str, questions: list[str], concurrency: int, max_requests: int, max_seconds: float
                 ) -> dict[str, Any]:
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    start = time.perf_counter()
    deadline = start + max_seconds
    async with httpx.AsyncClient(timeout=120.0, limits=limits) as client:

        async def worker() -> None:
            while True:
                i = next(counter)
                if i >= max_requests or time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    r = await client.post(url + ASK_PATH, json={"question": questions[i % len(questions)], "k": 5})
                    if r.status_code == 200:
                        latencies.append(time.perf_counter() - t0)
                    else:
                        errors.append(str(r.status_code))
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    return {"concurrency": concurrency, "ok": len(latencies), "errors": len(errors),
            "error_kinds": sorted(set(errors)), "seconds": round(wall, 3),
            "questions_per_s": round(len(latencies) / wall, 2) if wall > 0 else None, **latency_stats(latencies)}


def load_test(url: str, questions: list[str], levels: tuple[int, ...], max_requests: int, max_seconds: float,
              warmup: int = 3) -> list[dict[str, Any]]:
    """One result per concurrency level (after ``warmup`` untimed questions)."""
    with httpx.Client(timeout=120.0) as client:
        for q in questions[:warmup]:
            client.post(url + ASK_PATH, json={"question": q, "k": 5})
    out = []
    for c in levels:
        res = asyncio.run(run_level(url, questions, c, max_requests, max_seconds))
        log.info("http level", extra=res)
        out.append(res)
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    from bench import DEFAULT_GOLD

    ap = argparse.ArgumentParser(prog="python -m bench.http_load",
                                 description="Concurrent POST /api/ask from 127.0.0.1; prints one JSON line per level.")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    where.add_argument("--index-dir", type=Path, help="start `kehoach serve` on this index for the run")
    ap.add_argument("--concurrency", default="50", help="comma-separated levels (default 50)")
    ap.add_argument("--requests", type=int, default=50, help="questions per level (default 50)")
    ap.add_argument("--seconds", type=float, default=120.0, help="max seconds per level")
    ap.add_argument("--questions", type=Path, default=DEFAULT_GOLD, help="JSONL with a question field per line")
    args = ap.parse_args(argv)
    try:
        levels = tuple(int(x) for x in args.concurrency.split(","))
    except ValueError:
        ap.error(f"--concurrency must be integers separated by commas, got {args.concurrency!r}")
    if any(c < 1 for c in levels) or args.requests < 1:
        ap.error("--concurrency levels and --requests must be at least 1")
    if not args.questions.exists():
        ap.error(f"questions file not found: {args.questions}")
    from bench.harness import load_questions

    try:
        questions = load_questions(args.questions)
    except (ValueError, AttributeError) as exc:  # invalid JSON, a line that is not an object, no questions
        ap.error(f"{args.questions}: {exc}")
    server = None
    url = args.url
    if args.index_dir is not None:
        if not (args.index_dir / "manifest.json").exists():
            ap.error(f"no index in {args.index_dir}; build it with `kehoach ingest --index-dir {args.index_dir}`")
        server = start_process_server(args.index_dir)
        url = server.url
        wait_first_answer(server, questions[0])
    try:
        results = load_test(url.rstrip("/"), questions, levels, args.requests, args.seconds)
    except httpx.HTTPError as exc:
        ap.exit(2, f"cannot reach {url}: {exc}\n")
    finally:
        if server is not None:
            server.stop()
    for res in results:
        print(json.dumps(res, ensure_ascii=False))
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
