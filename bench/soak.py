"""Soak: two jobs-mcp replicas with HTTP sessions on one Redis, many sessions for a few minutes, on loopback.

Each client opens a session on one replica (sessions are per replica, as behind a sticky load balancer) and loops
over a read (``lytics_list_workflows``), a proposal (``lytics_pause_job``: a pending record in Redis) and its own
pending list (``list_pending_actions``). Counted: calls, failed calls, p50/p99 latency, each replica's peak RSS,
Redis keys at the end. Then memory per session: 500 sessions opened and left idle on one replica, its resident
memory (VmRSS) before and after. Everything listens on 127.0.0.1 and lives in a throwaway folder.
Usage: python bench/soak.py [--sessions 20] [--minutes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID

sys.path.insert(0, str(Path(__file__).parent))

from http_throughput import (
    HEADERS,
    INIT,
    JOBS_MCP,
    PROTOCOL,
    Load,
    Servers,
    _env,
    _problem,
    _wait_http,
    _wait_tcp,
    free_port,
    peak_rss_mib,
)

IDLE_SESSIONS = 500
CALLS = [
    ("lytics_list_workflows", {}),
    ("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID}),
    ("list_pending_actions", {}),
]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def _session(url: str, http: httpx.AsyncClient) -> dict[str, str]:
    init = await http.post(url, json={**INIT, "id": 0})
    if problem := _problem(init):
        raise RuntimeError(f"initialize: {problem}")
    headers = {"mcp-protocol-version": PROTOCOL, "mcp-session-id": init.headers["mcp-session-id"]}
    await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


async def _client(url: str, stop_at: float, load: Load) -> None:
    async with httpx.AsyncClient(timeout=60, headers=HEADERS) as http:
        headers = await _session(url, http)
        n = 0
        while (started := time.perf_counter()) < stop_at:
            name, arguments = CALLS[n % len(CALLS)]
            n += 1
            call = {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
            response = await http.post(url, json=call, headers=headers)
            if problem := _problem(response):
                load.errors.append(problem)
            else:
                load.calls += 1
                load.latencies.append(time.perf_counter() - started)


async def _idle_sessions(url: str, count: int) -> None:
    async with httpx.AsyncClient(timeout=60, headers=HEADERS) as http:
        for _ in range(count):
            await _session(url, http)


def run(sessions: int = 20, minutes: float = 2.0) -> dict[str, Any]:
    env = _env()
    with tempfile.TemporaryDirectory(prefix="jobs-mcp-bench-") as tmp, Servers(Path(tmp)) as servers:
        redis_port = free_port()
        redis_cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", tmp, "--save", ""]
        redis = servers.start([*redis_cmd, "--appendonly", "no"], env, "redis.log")
        _wait_tcp(redis_port)
        shared = {**env, "JOBS_MCP_GATE_KEY": secrets.token_hex(32)}
        urls, procs = [], []
        for i in range(2):
            port = free_port()
            command = [JOBS_MCP, "serve", "--http", "--port", str(port), "--rate-limit", "0", "--providers", "lytics"]
            command += ["--audit-db", f"{tmp}/audit{i}.db", "--state", f"redis://127.0.0.1:{redis_port}/0"]
            command += ["--max-sessions", str(IDLE_SESSIONS + sessions + 10)]
            procs.append(servers.start(command, shared, f"replica{i}.log"))
            urls.append(f"http://127.0.0.1:{port}/mcp")
        for proc, url in zip(procs, urls, strict=True):
            _wait_http(url, proc)
        load = Load(seconds=minutes * 60)
        stop_at = time.perf_counter() + minutes * 60

        async def soak() -> None:
            await asyncio.gather(*(_client(urls[k % 2], stop_at, load) for k in range(sessions)))

        asyncio.run(soak())
        keys = subprocess.run(
            ["redis-cli", "-p", str(redis_port), "dbsize"], capture_output=True, text=True, check=True
        ).stdout.strip()
        peaks = [peak_rss_mib(p.pid) for p in procs]
        before = rss_mib(procs[0].pid)
        asyncio.run(_idle_sessions(urls[0], IDLE_SESSIONS))
        time.sleep(1)
        after = rss_mib(procs[0].pid)
        result = load.summary() | {
            "sessions": sessions,
            "minutes": minutes,
            "peak_rss_mib": peaks,
            "redis_keys": int(keys),
            "redis_rss_mib": peak_rss_mib(redis.pid),
            "kib_per_idle_session": (after - before) * 1024 / IDLE_SESSIONS,
            "first_error": load.errors[0] if load.errors else None,
        }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=2.0)
    options = parser.parse_args()
    r = run(options.sessions, options.minutes)
    print(
        f"{r['sessions']} sessions on 2 replicas + Redis, {r['minutes']:g} min: {r['calls']:,} calls "
        f"({r['errors']} failed), {r['calls_s']:.0f} calls/s, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms; "
        f"peak RSS {', '.join(f'{m:.0f}' for m in r['peak_rss_mib'])} MiB (redis {r['redis_rss_mib']:.0f} MiB); "
        f"{r['redis_keys']:,} Redis keys; {r['kib_per_idle_session']:.0f} KiB per idle session; "
        f"first error: {r['first_error']}"
    )
