"""``jobs-mcp audit``: print the newest records of the audit log, as text or JSON lines."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jobs_mcp.cli.flags import AT_LEAST_ONE, Parser, Subcommands
from jobs_mcp.cli.help_text import AUDIT_HELP
from jobs_mcp.config import ConfigError


def add_parser(sub: Subcommands, common: Sequence[Parser]) -> None:
    audit = sub.add_parser(
        "audit",
        parents=list(common),
        help="print the most recent executed writes (and refusals and declines) from the audit log",
        description="Print recent audit records: every executed write with its account, tool, request and outcome "
        '("outcome unknown" when the server stopped between sending and hearing back), and each decision that sent '
        "nothing (declined, cancelled, stale) or refusal (a tampered record, a replay).",
    )
    audit.add_argument("--limit", type=AT_LEAST_ONE, default=20, help="how many records (default 20)")
    audit.add_argument("--audit-db", metavar="PATH", help=AUDIT_HELP)
    audit.add_argument("--json", action="store_true", help="print JSON lines instead of text")


def _audit_records(path: Path, limit: int) -> list[dict[str, Any]]:
    """The newest records of the audit log at ``path``, read without changing a file that is not one."""
    import sqlite3
    from contextlib import closing

    from jobs_mcp.audit import AuditLog

    hint = "point --audit-db (or JOBS_MCP_AUDIT_DB) at the audit.db that `jobs-mcp serve` writes"
    try:
        with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as db:
            found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"--audit-db {path}: cannot be read as a SQLite file ({exc}); {hint}") from None
    if not found:
        raise ConfigError(f"--audit-db {path}: a SQLite file, but not an audit log; {hint}")
    return AuditLog(path).recent(limit)


def run(args: argparse.Namespace) -> None:
    import json

    from jobs_mcp.audit import AuditLog

    path = AuditLog(args.audit_db or os.environ.get("JOBS_MCP_AUDIT_DB")).path.expanduser()
    if path.is_dir():
        raise ConfigError(f"--audit-db {path}: is a folder; give the audit.db file in it")
    if not path.exists():
        print(f"no audit log at {path} yet: nothing has been executed", file=sys.stderr)
        return
    for record in _audit_records(path, args.limit):
        if args.json:
            print(json.dumps(record, sort_keys=True))
            continue
        outcome = record["outcome"]
        status = outcome.get("status", "?") if isinstance(outcome, dict) else "outcome unknown"
        request = record["request"]
        proven = record.get("proof") or record.get("channel", "")
        print(
            f"{record['at']}  {record['account']:<12} {record['tool']:<22} {status:<10} {proven:<20} "
            f"{request.get('method', '')} {request.get('url', '')}"
        )
