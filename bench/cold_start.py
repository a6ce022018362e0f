"""Cold start: spawn → initialize answered → tools/list answered, jobs-mcp (Lytics alone, and all five platforms)
against a bare SDK hello-world. Each jobs-mcp start opens its audit log and state store (as ``serve`` does before
it answers), in a throwaway folder.

A raw JSON-RPC client over the child's pipes keeps client-side cost out of the figure. Runs alternate between
the two servers so machine noise hits both alike; the figures are the ratios of the medians and of the minimums.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jobs_mcp

HERE = Path(__file__).parent
JOBS_MCP = [str(Path(sys.executable).with_name("jobs-mcp")), "serve"]
HELLO = [sys.executable, str(HERE / "hello_server.py")]
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}


def _send(proc: subprocess.Popen[bytes], message: dict[str, object]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    proc.stdin.flush()


def _answer(proc: subprocess.Popen[bytes], request_id: int) -> dict[str, object]:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("server closed stdout")
        message = json.loads(line)
        if message.get("id") == request_id:
            return dict(message)


def one_start(command: list[str]) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and how many tools it listed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LYTICS_", "JOBS_MCP_"))}
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        _send(proc, INIT)
        _answer(proc, 1)
        _send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        tools = _answer(proc, 2)["result"]["tools"]  # type: ignore[index]
        return time.perf_counter() - started, len(tools)
    finally:
        proc.kill()
        proc.wait()


def run(rounds: int = 11) -> dict[str, float]:
    """Medians and minimums; on a shared machine the minimum is the figure least moved by other load."""
    # Byte-compile the package as `pip install` does for an installed one: an editable install under
    # PYTHONDONTWRITEBYTECODE=1 (set on this machine) would otherwise recompile jobs_mcp on every start.
    compileall.compile_dir(str(Path(jobs_mcp.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory(prefix="jobs-mcp-bench-") as scratch:
        lytics = [*JOBS_MCP, "--audit-db", str(Path(scratch) / "audit.db")]
        everything = [*lytics, "--providers", "all"]
        one_start(lytics), one_start(everything), one_start(HELLO)  # warm the page cache
        ours, bare, all_five = [], [], []
        for _ in range(rounds):
            ours.append(one_start(lytics)[0])
            bare.append(one_start(HELLO)[0])
            all_five.append(one_start(everything)[0])
    return {
        "jobs_mcp_s": statistics.median(ours),
        "hello_s": statistics.median(bare),
        "all_s": statistics.median(all_five),
        "jobs_mcp_min_s": min(ours),
        "hello_min_s": min(bare),
        "all_min_s": min(all_five),
    }


if __name__ == "__main__":
    r = run()
    print(
        f"median: jobs-mcp {r['jobs_mcp_s'] * 1e3:.0f} ms, hello {r['hello_s'] * 1e3:.0f} ms, "
        f"ratio {r['jobs_mcp_s'] / r['hello_s']:.2f}x; minimum: ratio {r['jobs_mcp_min_s'] / r['hello_min_s']:.2f}x"
    )
    print(
        f"--providers all: median {r['all_s'] * 1e3:.0f} ms, ratio {r['all_s'] / r['hello_s']:.2f}x; "
        f"minimum: ratio {r['all_min_s'] / r['hello_min_s']:.2f}x"
    )
