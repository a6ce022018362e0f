"""A person's pending list with 10 and with 10,000 other users' proposals pending, on SQLite and on Redis.

``list_pending_actions`` reads the caller's proposals through the store's per-principal index, so its cost should
follow what the caller has (here 5 proposals), not what everyone has. Each store is filled through its own ``put``,
then ``all(principal)`` is timed (median of 200 calls); the unindexed figure is ``all()`` of everything, what the
list used to read and decode before keeping the caller's. Redis is a throwaway ``redis-server`` on loopback.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

from jobs_mcp.state import StateStore, open_store

sys.path.insert(0, str(Path(__file__).parent))

from http_throughput import free_port

MINE, CALLS = 5, 100


def _record(n: int, principal: str) -> dict[str, Any]:
    return {
        "id": f"pause:lytics/acme/{n:08x}",
        "principal": principal,
        "tool": "lytics_pause_job",
        "args": {"job_id": f"{n:032x}"},
        "summary": f"Pause job {n:032x} of account acme",
        "request": {"method": "POST", "path": f"/v2/job/{n:032x}/pause", "body": None},
        "changes": [{"field": "status", "before": "running", "after": "paused"}],
    }


async def _fill(store: StateStore, others: int) -> None:
    expires = time.time() + 3600
    for n in range(MINE):
        await store.put(f"mine{n}", _record(n, "alice"), expires)
    for n in range(others):
        await store.put(f"other{n}", _record(10_000 + n, f"user{n % 500}"), expires)


async def _ms(call: Any) -> float:
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


async def _measure(spec: str, folder: Path) -> dict[str, float]:
    found: dict[str, float] = {}
    for others in (10, 10_000):
        store = open_store(spec if spec != "sqlite" else str(folder / f"state-{others}.db"), default_dir=folder)
        try:
            if spec != "sqlite":
                await store._redis.flushdb()  # type: ignore[attr-defined]
            await _fill(store, others)
            assert len(await store.all("alice")) == MINE
            found[f"mine_{others}"] = await _ms(lambda store=store: store.all("alice"))
            if others == 10_000:
                found["everyone_10000"] = await _ms(lambda store=store: store.all())
        finally:
            await store.aclose()
    return found


def run() -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="jobs-mcp-bench-") as tmp:
        folder = Path(tmp)
        results = {"sqlite": anyio.run(_measure, "sqlite", folder)}
        port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            results["redis"] = anyio.run(_measure, f"redis://127.0.0.1:{port}/0", folder)
        finally:
            redis.terminate()
            redis.wait(timeout=10)
    return results


if __name__ == "__main__":
    for backend, r in run().items():
        print(
            f"{backend}: {MINE} own proposals, list with 10 others {r['mine_10']:.2f} ms, with 10,000 others "
            f"{r['mine_10000']:.2f} ms ({r['mine_10000'] / r['mine_10']:.2f}x); reading everyone's at 10,000: "
            f"{r['everyone_10000']:.1f} ms"
        )
