"""Atomic replacement of a whole directory (an index, a model folder) with one rename.

Layout of a published directory ``out``::

    out/.versions/<pid>-<hex>/…files…     one complete version (older ones are deleted once replaced)
    out/.current -> .versions/<pid>-<hex>  the pointer, flipped with a single ``os.replace`` of a symlink
    out/<name>   -> .current/<name>        one fixed link per top-level entry, so readers keep opening
                                           ``out/manifest.json`` as before

A writer fills a fresh version folder (:func:`staging`), then :func:`publish` flips ``.current`` — the only
step that changes what readers see, and it is atomic — and afterwards makes the top-level links match the new
version.  A writer killed at any point leaves either the old or the new version readable; :func:`recover`
(run before every write and load) repairs the links, deletes versions whose writer is dead and restores what
the older two-rename scheme (``.out.old-PID`` / ``.out.tmp-PID`` beside ``out``) may have left.

:data:`FAULT_HOOK` lets a test kill the writer at a named point (:func:`checkpoint`).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("index.atomic")

VERSIONS = ".versions"
CURRENT = ".current"
FAULT_HOOK: Callable[[str], None] | None = None  # tests: called at each checkpoint name (may SIGKILL)


def checkpoint(name: str) -> None:
    """A named point of a write ("files-written", "before-flip", "after-flip", "after-links")."""
    if FAULT_HOOK is not None:
        FAULT_HOOK(name)


def current_version(out_dir: Path) -> Path | None:
    """The folder ``out/.current`` points to, or None (not published with this layout, or dangling)."""
    link = Path(out_dir) / CURRENT
    if not link.is_symlink():
        return None
    target = link.parent / os.readlink(link)
    return target if target.is_dir() else None


def resolve(out_dir: Path) -> Path:
    """The folder to read one consistent version from (the directory itself for the older flat layout)."""
    return current_version(out_dir) or Path(out_dir)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writer_alive(name: str) -> bool:
    """Version and temp names start or end with the writer's PID."""
    for part in (name.split("-")[0], name.rsplit("-", 1)[-1]):
        if part.isdigit():
            return int(part) != os.getpid() and _pid_alive(int(part))
    return False


@contextmanager
def staging(out_dir: Path) -> Iterator[Path]:
    """A fresh, empty version folder inside ``out_dir``; deleted again unless :func:`publish` made it current."""
    out_dir = Path(out_dir)
    recover(out_dir)
    (out_dir / VERSIONS).mkdir(parents=True, exist_ok=True)
    folder = out_dir / VERSIONS / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        if folder.exists() and current_version(out_dir) != folder:
            shutil.rmtree(folder, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(version: Path, out_dir: Path) -> None:
    """Make ``version`` (a folder from :func:`staging`) the current content of ``out_dir``, atomically."""
    out_dir = Path(out_dir)
    previous = current_version(out_dir)
    checkpoint("before-flip")
    tmp_link = out_dir / f"{CURRENT}.tmp-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(f"{VERSIONS}/{version.name}", tmp_link)
    os.replace(tmp_link, out_dir / CURRENT)  # the one step readers can observe
    _fsync_dir(out_dir)
    checkpoint("after-flip")
    sync_links(out_dir)
    checkpoint("after-links")
    if previous is not None and previous != version:
        shutil.rmtree(previous, ignore_errors=True)
    _remove_dead_versions(out_dir)


def sync_links(out_dir: Path) -> None:
    """Top-level entries of ``out_dir`` become exactly one link ``name -> .current/name`` per current entry."""
    out_dir = Path(out_dir)
    version = current_version(out_dir)
    if version is None:
        return
    wanted = {p.name for p in version.iterdir()}
    for name in sorted(wanted):
        _link(out_dir, name)
    for entry in out_dir.iterdir():
        if not entry.name.startswith(".") and entry.name not in wanted:
            _remove(entry)


def _link(out_dir: Path, name: str) -> None:
    path = out_dir / name
    target = f"{CURRENT}/{name}"
    if path.is_symlink() and os.readlink(path) == target:
        return
    tmp = out_dir / f".{name}.lnk-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)  # an older flat layout's sub-folder (a file is replaced by the rename itself)
    os.replace(tmp, path)


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def _remove_dead_versions(out_dir: Path) -> None:
    current = current_version(out_dir)
    versions = out_dir / VERSIONS
    if not versions.is_dir():
        return
    for folder in versions.iterdir():
        if folder != current and not _writer_alive(folder.name):
            log.info("removing an unfinished or replaced version", extra={"path": str(folder)})
            _remove(folder)
    for tmp in out_dir.glob(".*.lnk-*"):
        if not _writer_alive(tmp.name):
            _remove(tmp)
    for tmp in out_dir.glob(f"{CURRENT}.tmp-*"):
        if not _writer_alive(tmp.name):
            _remove(tmp)


def _recover_two_rename_leftovers(out_dir: Path) -> None:
    """The older writer renamed ``out`` → ``.out.old-PID`` then ``.out.tmp-PID`` → ``out``: undo a kill between."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{out_dir.name}.old-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in olds:
        if _writer_alive(old.name):
            continue
        if not out_dir.exists():
            log.warning("restoring the previous index left aside by a killed writer", extra={"path": str(old)})
            os.replace(old, out_dir)
        else:
            _remove(old)
    for tmp in parent.glob(f".{out_dir.name}.tmp-*"):
        if not _writer_alive(tmp.name):
            log.info("removing a killed writer's temp folder", extra={"path": str(tmp)})
            _remove(tmp)


def _drop_copied_pointer(out_dir: Path) -> None:
    """A copy that followed the links (``cp -rL``, ``shutil.copytree``) holds real files at the top level and a
    real ``.current`` folder: the top level is then the content, the copied pointer and versions are dropped."""
    pointer = out_dir / CURRENT
    if pointer.is_dir() and not pointer.is_symlink():
        log.info("a copied index: keeping its top-level files", extra={"path": str(out_dir)})
        shutil.rmtree(pointer)
        shutil.rmtree(out_dir / VERSIONS, ignore_errors=True)


def recover(out_dir: Path) -> None:
    """Repair what a killed writer left: links, unfinished versions, older-scheme leftovers.  Never raises."""
    out_dir = Path(out_dir)
    try:
        _recover_two_rename_leftovers(out_dir)
        if out_dir.is_dir():
            _drop_copied_pointer(out_dir)
            sync_links(out_dir)
            _remove_dead_versions(out_dir)
    except OSError as exc:  # a read-only folder: readers still get the current version
        log.warning("could not tidy the directory", extra={"path": str(out_dir), "error": str(exc)})
