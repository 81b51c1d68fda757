"""Small measuring helpers of the benchmarks: memory, sizes on disk, the machine (timers and percentiles are
in :mod:`evals.timing`, shared with the evaluation)."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
from pathlib import Path
from typing import Any

from evals.timing import cpu_name


def ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, digits)


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident set size of this process (or of its finished children) in MiB (Linux: KiB units)."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    kb = resource.getrusage(who).ru_maxrss
    return round(kb / 1024 if sys.platform != "darwin" else kb / 2**20, 1)


def proc_rss_mb(pid: int) -> dict[str, float | None]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a live process, from /proc (Linux)."""
    out: dict[str, float | None] = {"rss_mb": None, "peak_rss_mb": None}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                out["peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def dir_size(path: Path) -> dict[str, Any]:
    files = {p.name: p.stat().st_size for p in sorted(Path(path).iterdir()) if p.is_file()}
    return {"bytes": sum(files.values()), "mb": round(sum(files.values()) / 2**20, 2), "files": files}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = cpu_name()
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info: dict[str, Any] = {"nproc": os.cpu_count(), "affinity": len(os.sched_getaffinity(0))
                            if hasattr(os, "sched_getaffinity") else None, "cpu": cpu, "ram_gib": ram,
                            "python": platform.python_version(), "platform": platform.platform(),
                            "loadavg_at_start": [round(x, 2) for x in load] if load else None}
    try:
        import faiss
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads(), faiss=faiss.__version__,
                    faiss_threads=faiss.omp_get_max_threads())
    except ImportError:  # pragma: no cover - both are dependencies
        pass
    return info


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None
