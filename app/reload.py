"""Several servers over one database: each polls the content version and reloads when another process wrote.

:class:`ContentWatcher` runs in a daemon thread of ``kehoach serve`` when the index is kept in PostgreSQL
(``KEHOACH_DATABASE_URL``): every ``reload_poll_s`` seconds it reads ``content_version`` (one small query); when it
differs from the version the serving retriever was loaded as, it loads the new content (the store keeps the last
bundle per version) and swaps the retriever, as an admin upload does.  Questions keep being answered from the
previous content until the swap; a failed reload is logged and retried at the next poll.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from app.runtime import load_retriever

if TYPE_CHECKING:
    from app.api import AppState

log = logging.getLogger("app.reload")


class ContentWatcher:
    def __init__(self, state: AppState, interval: float) -> None:
        self.state, self.interval = state, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="kehoach-content-watch")

    @classmethod
    def for_state(cls, state: AppState) -> ContentWatcher | None:
        """A started watcher when the index is in a database and polling is on, else None."""
        s = state.settings
        if not s.database_url.strip() or s.reload_poll_s <= 0:
            return None
        watcher = cls(state, s.reload_poll_s)
        watcher._thread.start()
        log.info("watching the index database for changes", extra={"db": state.store.where,
                                                                    "every_s": s.reload_poll_s})
        return watcher

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def check(self) -> bool:
        """Reload and swap when the database's version differs from the serving one; True when swapped."""
        state = self.state
        current = state.retriever
        if current is None:  # no index yet: AppState.get() loads it once the version appears
            return False
        version = state.store.version()
        if version is None or version == current.bundle.content_version:
            return False
        t0 = time.perf_counter()
        fresh = load_retriever(state.settings, encoder=current.encoder, bundle=state.store.load())
        with state.swap_lock:
            if state.retriever is not current:  # an admin job swapped meanwhile: its content is as new
                return False
            state.retriever = fresh
        log.info("reloaded the index changed by another process",
                 extra={"from": current.bundle.content_version, "to": fresh.bundle.content_version,
                        "chunks": len(fresh.bundle.chunks), "seconds": round(time.perf_counter() - t0, 3)})
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # the loaded index keeps serving; the next poll tries again
                log.exception("reloading the index failed", extra={"db": self.state.store.where})
