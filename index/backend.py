"""Where an index lives: the seam between the app and its storage.

:class:`IndexStore` is what the app needs of a store — load the bundle, tell the content's version, write a
whole bundle atomically, apply an update (plans added, replaced or removed) atomically.  Two implementations:

- :class:`DirectoryStore` (the default): one index directory, today's :func:`index.store.load_index`,
  :func:`~index.store.write_index` and :func:`~index.store.update_index` unchanged;
- :class:`index.pg_store.PostgresStore`: PostgreSQL with pgvector, chosen by ``KEHOACH_DATABASE_URL``
  (:func:`app.runtime.index_store` is the one place that chooses).

A reader never sees half a write: the directory flips one pointer, the database commits one transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from index import store as index_files
from index.embed_cache import EmbeddingCache
from index.encoder import Encoder
from index.store import (
    IndexBundle,
    UpdateResult,
    chunk_settings_of,
    parse_plans,
    update_index,
    write_index,
)
from ingest.chunking import ChunkSettings
from ingest.records import Chunk, Document

Validate = Callable[[IndexBundle], None]  # called with the new content before it is made current; may raise
Plans = Sequence[tuple[Document, list[Chunk]]]


class IndexStore(Protocol):
    """A place an index is kept (see the module doc)."""

    @property
    def where(self) -> str:
        """Where the index is, for messages and logs (a database URL without its password)."""
        ...

    def load(self) -> IndexBundle:
        """The current content, validated; raises :class:`index.store.IndexError_` naming the fix."""
        ...

    def version(self) -> str | None:
        """Changes whenever the content changes; None while there is no index."""
        ...

    def write(self, bundle: IndexBundle, validate: Validate | None = None) -> None:
        """Replace the whole content atomically (``validate`` raising keeps the previous content)."""
        ...

    def update(self, plans: Plans, removed: list[str], encoder: Encoder, *, bundle: IndexBundle | None = None,
               cache: EmbeddingCache | None = None, batch_size: int = 32, progress: bool = False,
               validate: Validate | None = None) -> UpdateResult:
        """Add or replace ``plans`` and remove ``removed`` doc ids in one atomic step (see
        :func:`index.store.update_index`); ``bundle``: the caller's loaded copy (left unchanged)."""
        ...

    def chunk_settings(self) -> ChunkSettings:
        """The chunking the index was built with (new plans must be chunked the same way)."""
        ...


class DirectoryStore:
    """The embedded store: one index directory, switched atomically (:mod:`index.atomic`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def where(self) -> str:
        return str(self.directory)

    def load(self) -> IndexBundle:
        stamp = self.version()
        bundle = index_files.load_index(self.directory)
        bundle.content_version = stamp
        return bundle

    def version(self) -> str | None:
        """The published version folder and the manifest's modification time (None: no manifest)."""
        try:
            stamp = (self.directory / "manifest.json").stat().st_mtime_ns
        except OSError:  # missing, or a link whose version is being replaced
            return None
        pointer = self.directory / ".current"
        target = os.readlink(pointer) if pointer.is_symlink() else ""
        return f"{target}@{stamp}"

    def write(self, bundle: IndexBundle, validate: Validate | None = None) -> None:
        write_index(bundle, self.directory, None if validate is None else self._checker(validate))

    def update(self, plans: Plans, removed: list[str], encoder: Encoder, *, bundle: IndexBundle | None = None,
               cache: EmbeddingCache | None = None, batch_size: int = 32, progress: bool = False,
               validate: Validate | None = None) -> UpdateResult:
        res = update_index(self.directory, list(plans), removed, encoder, bundle=bundle, cache=cache,
                           batch_size=batch_size, progress=progress,
                           validate=None if validate is None else self._checker(validate))
        res.bundle.content_version = self.version()
        return res

    def chunk_settings(self) -> ChunkSettings:
        return chunk_settings_of(self.directory)

    def _checker(self, validate: Validate) -> Callable[[Path], None]:
        """The version folder written, loaded back and given to ``validate`` as the directory's bundle."""
        def check(version: Path) -> None:
            loaded = index_files.load_index(version)  # looked up at call time (tests replace it)
            loaded.directory = self.directory.parent.resolve() / self.directory.name
            validate(loaded)
        return check


def update_from_paths(store: IndexStore, paths: list[Path], removed: list[str], encoder: Encoder, *,
                      cache: EmbeddingCache | None = None, batch_size: int = 32, progress: bool = True,
                      max_bytes: int | None = None) -> UpdateResult:
    """Parse the plan files under ``paths`` with the store's chunking and update the store with them."""
    plans = parse_plans(paths, store.chunk_settings(), max_bytes, progress)
    return store.update(plans, removed, encoder, cache=cache, batch_size=batch_size, progress=progress)
