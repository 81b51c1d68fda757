"""`kehoach db migrate|status`: the PostgreSQL index store (KEHOACH_DATABASE_URL) from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.settings import Settings


def add_db(sub: Any) -> None:
    p = sub.add_parser("db", help="the PostgreSQL index store (KEHOACH_DATABASE_URL): migrate or show status")
    p.add_argument("action", choices=["migrate", "status"],
                   help="migrate: apply the missing schema migrations (idempotent); status: schema version, "
                        "content version, plans and chunks")
    p.add_argument("--database-url", default=None, help="database URL (default: $KEHOACH_DATABASE_URL)")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument("--log-level", default=None)


def cmd_db(args: argparse.Namespace, s: Settings) -> int:
    url = (args.database_url or s.database_url).strip()
    if not url:
        raise ValueError("no database: set KEHOACH_DATABASE_URL=postgresql://user:password@host/db (or pass "
                         "--database-url); without it the index is the directory --index-dir")
    from index.pg_store import PostgresStore

    store = PostgresStore(url)
    if args.action == "migrate":
        done = store.migrate()
        print(f"{store.where}: applied migrations {done}" if done else f"{store.where}: schema is up to date")
        return 0
    info = store.status()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print("\n".join(f"{k}: {v}" for k, v in info.items()))
    return 0
