"""Tool-call throughput and latency over streamable HTTP: jobs-mcp against a bare SDK server, side by side.

Three set-ups are measured in one run, with the same driver:

- bare: ``hello_server.py --http`` (the official SDK, stateless, one trivial read tool ``hello``);
- one jobs-mcp replica: ``jobs-mcp serve --http --stateless --rate-limit 0`` on its sandbox, ``lytics_list_workflows``
  (a read through the simulated platform) and ``list_pending_actions`` (no platform call: the server's own cost);
- two jobs-mcp replicas sharing a real ``redis-server`` (``--state redis://…``, one ``JOBS_MCP_GATE_KEY``), each
  client sending its calls round-robin across both.

The driver is raw JSON-RPC over HTTP with httpx: N concurrent clients, each with its own connection pool, send
``initialize`` (protocol 2025-11-25) once, then ``tools/call`` in a loop; every answer is checked (HTTP 200, no
JSON-RPC error, ``isError`` not set). All servers run at once; after a 2 s warm-up of each, the counted time
is split into rounds alternating between the set-ups, each round opening with 0.5 s not counted. Peak RSS is
each server process's ``VmHWM`` from /proc, read after the load. The driver runs on the same machine as the
servers, so it takes its share of the CPU in every set-up alike.

Usage: python bench/http_throughput.py [--clients 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
JOBS_MCP = str(Path(sys.executable).with_name("jobs-mcp"))
PROTOCOL = "2025-11-25"
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
INIT: dict[str, Any] = {
    "jsonrpc": "2.0",
    "method": "initialize",
    "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}


@dataclass
class Load:
    """What one set-up did under load."""

    calls: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)

    @property
    def calls_s(self) -> float:
        return self.calls / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3

    def add(self, other: Load) -> None:
        self.calls += other.calls
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.errors += other.errors

    def summary(self) -> dict[str, Any]:
        return {
            "calls_s": self.calls_s,
            "p50_ms": statistics.median(self.latencies) * 1e3,
            "p99_ms": self.percentile_ms(0.99),
            "calls": self.calls,
            "errors": len(self.errors),
            "rss_mib": self.rss_mib,
        }


@dataclass
class Setup:
    """Server processes, the endpoint of each (calls go round-robin across them), and the tool to call."""

    procs: list[subprocess.Popen[bytes]]
    urls: list[str]
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC message in a response, whether sent as JSON or as one SSE event."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:"):
                message: dict[str, Any] = json.loads(line[5:])
                if "id" in message:
                    return message
        raise ValueError(f"no JSON-RPC answer in the event stream: {response.text[:200]!r}")
    return dict(response.json())


def _problem(response: httpx.Response) -> str | None:
    """None when the answer is a successful result, else what is wrong with it."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    message = _answer(response)
    if "error" in message:
        return f"JSON-RPC error: {message['error']}"
    if message.get("result", {}).get("isError"):
        return f"tool error: {json.dumps(message['result'])[:300]}"
    return None


async def _client(
    k: int, urls: Sequence[str], call: dict[str, Any], warm_until: float, stop_at: float, load: Load
) -> None:
    async with httpx.AsyncClient(timeout=60, headers=HEADERS) as http:
        init = await http.post(urls[k % len(urls)], json={**INIT, "id": 0})
        if problem := _problem(init):
            load.errors.append(f"initialize: {problem}")
            return
        headers = {"mcp-protocol-version": PROTOCOL}
        await http.post(
            urls[k % len(urls)], json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers
        )
        n = 0
        while (started := time.perf_counter()) < stop_at:
            n += 1
            response = await http.post(urls[(k + n) % len(urls)], json={**call, "id": n}, headers=headers)
            done = time.perf_counter()
            if problem := _problem(response):
                load.errors.append(problem)
                if len(load.errors) > 20:
                    return
            elif started >= warm_until and done <= stop_at:
                load.calls += 1
                load.latencies.append(done - started)


async def drive(
    urls: Sequence[str], tool: str, arguments: dict[str, Any], clients: int, seconds: float, warmup: float
) -> Load:
    """N clients: `warmup` seconds not counted, then `seconds` counted."""
    call = {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    warm_until = time.perf_counter() + warmup
    stop_at = warm_until + seconds
    load = Load(seconds=seconds)
    await asyncio.gather(*(_client(k, urls, call, warm_until, stop_at, load) for k in range(clients)))
    return load


def _env() -> dict[str, str]:
    """This environment without platform credentials or jobs-mcp settings: the servers run on their sandboxes."""
    return {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("LYTICS_", "JOBS_MCP_")) or k.endswith(("_API_TOKEN", "_API_URL")))
    }


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {' '.join(map(str, proc.args))}")  # type: ignore[arg-type]
        try:
            if httpx.post(url, json={**INIT, "id": 0}, headers=HEADERS, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout} s")


def _wait_tcp(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"redis on port {port} not ready after {timeout} s")


def peak_rss_mib(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


class Servers:
    """Start processes, and stop exactly those (by their own pid) on exit."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, command: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        with open(self.tmp / log, "wb") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *_: object) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)


def _jobs_mcp(
    servers: Servers, port: int, name: str, state: str | None, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    command = [JOBS_MCP, "serve", "--http", "--stateless", "--port", str(port), "--rate-limit", "0"]
    command += ["--providers", "lytics", "--audit-db", str(servers.tmp / f"{name}-audit.db")]
    command += ["--state", state or str(servers.tmp / f"{name}-state.db")]
    return servers.start(command, env, f"{name}.log")


def run(clients: int = 16, seconds: float = 10.0, rounds: int = 4) -> dict[str, dict[str, Any]]:
    """calls/s, p50/p99 ms and peak RSS per server process, for bare, one replica, two replicas + Redis.

    All servers are up at once (idle ones cost no CPU); each set-up gets `seconds` of counted load, split into
    `rounds` rounds that alternate between the set-ups (in a rotating order), so a burst of other load on a shared
    machine lands on all of them alike.
    """
    env = _env()
    with tempfile.TemporaryDirectory(prefix="jobs-mcp-http-bench-") as tmp, Servers(Path(tmp)) as servers:
        port = free_port()
        hello = [sys.executable, str(HERE / "hello_server.py"), "--http", "--port", str(port)]
        setups: dict[str, Setup] = {
            "bare": Setup(
                [servers.start(hello, env, "bare.log")], [f"http://127.0.0.1:{port}/mcp"], "hello", {"name": "bench"}
            ),
        }
        port = free_port()
        one = _jobs_mcp(servers, port, "single", None, env)
        setups["one"] = Setup([one], [f"http://127.0.0.1:{port}/mcp"], "lytics_list_workflows")
        # The same replica on a tool that calls no platform: what the server's own machinery costs per call.
        setups["own"] = Setup([one], [f"http://127.0.0.1:{port}/mcp"], "list_pending_actions")
        redis_port = free_port()
        redis_cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", tmp, "--save", ""]
        redis = servers.start([*redis_cmd, "--appendonly", "no"], env, "redis.log")
        _wait_tcp(redis_port)
        shared = {**env, "JOBS_MCP_GATE_KEY": secrets.token_hex(32)}
        ports = [free_port(), free_port()]
        state = f"redis://127.0.0.1:{redis_port}/0"
        pair = [_jobs_mcp(servers, p, f"replica{i}", state, shared) for i, p in enumerate(ports)]
        setups["two"] = Setup(pair, [f"http://127.0.0.1:{p}/mcp" for p in ports], "lytics_list_workflows")

        for setup in setups.values():
            for proc, url in zip(setup.procs, setup.urls, strict=True):
                _wait_http(url, proc)
        loads = {name: Load() for name in setups}
        names = list(setups)
        for name in names:  # warm-up: imports, caches, connection set-up; not counted
            asyncio.run(drive(setups[name].urls, setups[name].tool, setups[name].arguments, clients, 0, 2.0))
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                s = setups[name]
                loads[name].add(asyncio.run(drive(s.urls, s.tool, s.arguments, clients, seconds / rounds, 0.5)))
        results: dict[str, dict[str, Any]] = {}
        for name, load in loads.items():
            if load.errors:
                raise RuntimeError(f"{len(load.errors)} failed calls in set-up {name}; first: {load.errors[0]}")
            load.rss_mib = [peak_rss_mib(proc.pid) for proc in setups[name].procs]
            results[name] = load.summary()
        results["two"]["redis_rss_mib"] = peak_rss_mib(redis.pid)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    results = run(args.clients, args.seconds)
    bare = results["bare"]["calls_s"]
    for name, r in results.items():
        print(
            f"{name:5} {r['calls_s']:7.0f} calls/s ({r['calls_s'] / bare:.2f}x bare)  p50 {r['p50_ms']:6.1f} ms  "
            f"p99 {r['p99_ms']:6.1f} ms  peak RSS {', '.join(f'{m:.0f}' for m in r['rss_mib'])} MiB"
        )


if __name__ == "__main__":
    main()
