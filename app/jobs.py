"""Background jobs of the admin API (indexing uploaded plans, removing plans): one at a time, in a thread.

A :class:`Job` records its status (``queued`` → ``running`` → ``done`` | ``failed``), a progress fraction, the
stage it is in and one result entry per file.  :class:`JobRunner` starts a job only when none is running
(:class:`Busy` otherwise, answered 409 by the API) and keeps the last :data:`KEEP` jobs for ``GET /api/jobs``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("app.jobs")

KEEP = 50  # finished jobs remembered


class Busy(RuntimeError):
    """Another job is running."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


@dataclass
class FileResult:
    """One file of a job: ``ok`` (indexed / removed), ``error`` or ``rejected`` (refused before parsing)."""

    name: str
    status: str = "pending"
    doc_id: str | None = None
    detail: str | None = None
    pages: int | None = None
    chunks: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Job:
    kind: str  # upload | delete
    files: list[FileResult]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = "queued"
    stage: str = "queued"
    progress: float = 0.0
    detail: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    index: dict[str, Any] | None = None  # documents / chunks of the index serving after the job

    def step(self, stage: str, progress: float) -> None:
        self.stage, self.progress = stage, round(min(max(progress, 0.0), 1.0), 3)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "files"}
        out["files"] = [f.to_json() for f in self.files]
        return out


Work = Callable[[Job], None]


class JobRunner:
    """Runs one job at a time in a daemon thread; ``work(job)`` fills the job's results and may raise."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._running: Job | None = None

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    @property
    def running(self) -> Job | None:
        return self._running

    def submit(self, job: Job, work: Work) -> Job:
        """Start ``job`` now, or raise :class:`Busy` naming the running one."""
        with self._lock:
            if self._running is not None:
                raise Busy(self._running.id)
            self._running = job
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        threading.Thread(target=self._run, args=(job, work), daemon=True, name=f"kehoach-job-{job.id}").start()
        return job

    def _run(self, job: Job, work: Work) -> None:
        job.status = "running"
        t0 = time.perf_counter()
        try:
            work(job)
            job.status = "failed" if job.files and not any(f.status == "ok" for f in job.files) else "done"
        except Exception as exc:  # the job's own failure: reported, logged, the previous index keeps serving
            log.exception("job failed", extra={"job": job.id, "kind": job.kind})
            job.status, job.detail = "failed", job.detail or f"Lỗi khi xử lý: {type(exc).__name__}: {exc}"
        finally:
            job.finished = time.time()
            if job.status == "done":
                job.step("done", 1.0)
            with self._lock:
                self._running = None
            log.info("job finished", extra={"job": job.id, "kind": job.kind, "status": job.status,
                                            "seconds": round(time.perf_counter() - t0, 2)})
