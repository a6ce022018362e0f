"""Logs of any size: `lytics_get_job_logs` end to end on a 10k, 100k and 1M-entry log, against a bare
`httpx` GET + `json.loads` of the same body, and against the server before streaming (a git revision).

A small Lytics-shaped API (this file, `--serve`) answers `GET /v2/job/{id}` and streams `GET /v2/job/{id}/logs`
from a file on disk. Each measurement starts a fresh process: `jobs-mcp serve` over stdio (the tool call timed at
the MCP client, from request to result) or the bare client; peak RSS is the process's `VmHWM`. The revision
measured as "before" runs from a `git worktree` with `PYTHONPATH` pointing at its `server/` folder.

Usage: python bench/log_stream.py [--sizes 10000,100000,1000000] [--before REV] [--layouts compact,spaces,...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

HERE = Path(__file__).parent
JOB_ID = "4f2a9c0e1b7d4e6a8c3f5b2d9e0a1c7b"
NOW = datetime(2026, 11, 23, tzinfo=UTC)
CODES = ["UNAUTHORIZED-017", "JOB-FAULT-022", "RATELIMIT-429", "JOB-BADREQ-002", "INTERNAL-019"]
BARE = """
import json, sys, time, httpx
started = time.perf_counter()
body = httpx.get(sys.argv[1], timeout=600).content
entries = json.loads(body)["data"]
took = time.perf_counter() - started
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": took, "rss_kb": rss, "entries": len(entries)}))
"""


def _indented(entry: dict[str, Any], eol: str = "\n") -> str:
    """An entry as ``json.dumps(indent=2)`` writes it inside the envelope's array (two levels deep)."""
    return ("    " + json.dumps(entry, indent=2).replace("\n", "\n    ")).replace("\n", eol)


# How a server may lay its log out: (the envelope's opening, what stands between entries, an entry, the closing).
LAYOUTS: dict[str, tuple[str, str, Any, str]] = {
    "mixed": ('{"data": [', ",", json.dumps, '], "status": 200, "message": "success"}'),
    "compact": ('{"data":[', ",", lambda e: json.dumps(e, separators=(",", ":")), '],"status":200}'),
    "spaces": ('{"data": [', ", ", json.dumps, '], "status": 200, "message": "success"}'),
    "indent=2": ('{\n  "data": [\n', ",\n", _indented, '\n  ],\n  "status": 200\n}'),
    "newline per entry": ('{"data": [\n', ",\n", json.dumps, '\n], "status": 200}'),
    "CRLF": ('{\r\n  "data": [\r\n', ",\r\n", lambda e: _indented(e, "\r\n"), '\r\n  ],\r\n  "status": 200\r\n}'),
}


def write_log(path: Path, entries: int, seed: int = 7, layout: str = "mixed") -> None:
    """A Lytics job log of ``entries`` entries in the v2 envelope, oldest first (about 230 bytes an entry in the
    "mixed" layout: ``json.dumps``' own spaces inside entries, a bare comma between them), laid out as ``layout``."""
    opening, between, dumps, closing = LAYOUTS[layout]
    rng = random.Random(seed)
    start = NOW - timedelta(seconds=30 * entries)
    with path.open("w") as out:
        out.write(opening)
        for i in range(entries):
            roll = rng.random()
            level = "error" if roll < 0.05 else "warn" if roll < 0.08 else "info"
            entry = {
                "job_id": JOB_ID,
                "level": level,
                "code": rng.choice(CODES) if level != "info" else "",
                "message": f"export run {i}: batch uploaded to the destination" if level == "info" else "upload failed",
                "timestamp": (start + timedelta(seconds=30 * i)).isoformat().replace("+00:00", "Z"),
                "context": {"added": rng.randint(0, 500), "omitted": rng.randint(0, 9), "removed": rng.randint(0, 20)},
            }
            out.write((between if i else "") + dumps(entry))
        out.write(closing)


# --- the Lytics-shaped API -----------------------------------------------------------------------------------


def serve(folder: Path, port_file: Path) -> None:
    """Answer the job and stream its log from ``folder/<entries>.json`` (the job ID's log size is chosen by the
    query ``?n=``; jobs-mcp sends none, so the current size is read from ``folder/current``)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == f"/v2/job/{JOB_ID}":
                body = json.dumps({"data": _job(), "status": 200}).encode()
                self._send(len(body), iter([body]))
            elif path == f"/v2/job/{JOB_ID}/logs":
                log = folder / (folder / "current").read_text().strip()
                self._send(log.stat().st_size, _chunks(log))
            else:
                self.send_error(404)

        def _send(self, length: int, chunks: Iterator[bytes]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(chunk)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


def _job() -> dict[str, Any]:
    return {"id": JOB_ID, "name": "Facebook export", "workflow": "facebook_audience_populate", "status": "running"}


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            yield chunk


# --- the measurements ----------------------------------------------------------------------------------------


async def tool_call(command: list[str], env: dict[str, str], pid_file: Path) -> dict[str, float]:
    """One `lytics_get_job_logs` call to a fresh server: seconds at the client and the server's peak RSS."""
    wrapped = ["sh", "-c", f'echo $$ > "{pid_file}"; exec "$@"', "sh", *command]
    params = StdioServerParameters(command=wrapped[0], args=wrapped[1:], env=env)
    async with Client(stdio_client(params, errlog=sys.stderr)) as client:
        started = time.perf_counter()
        result = await client.call_tool("lytics_get_job_logs", {"job_id": JOB_ID})
        seconds = time.perf_counter() - started
        assert not result.is_error, result.content
        rss = _peak_rss_kb(int(pid_file.read_text()))
    return {"seconds": seconds, "rss_kb": rss}


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def bare_get(url: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", BARE, url], capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out))


def run(sizes: list[int], before: str | None, layout: str = "mixed") -> list[dict[str, Any]]:
    """One row per size: the streaming server (and ``before``, if given) against the bare GET, for one layout."""
    work = Path(tempfile.mkdtemp(prefix="jobs-mcp-bench-logs-"))
    server = None
    try:
        for n in sizes:
            write_log(work / f"{n}.json", n, layout=layout)
        port_file = work / "port"
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(work), str(port_file)])
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        api = f"http://127.0.0.1:{port_file.read_text()}"
        setups = {"streaming": _setup([str(Path(sys.executable).with_name("jobs-mcp")), "serve"], None)}
        if before:
            tree = work / "before"
            git = ["git", "-C", str(HERE.parent), "worktree"]
            subprocess.run([*git, "add", "--detach", str(tree), before], check=True, capture_output=True)
            setups["before"] = _setup([sys.executable, "-m", "jobs_mcp", "serve"], tree / "server")
        rows = []
        for n in sizes:
            (work / "current").write_text(f"{n}.json")
            tries = 3 if n <= 100_000 else 1
            row: dict[str, Any] = {"entries": n, "layout": layout, "mb": (work / f"{n}.json").stat().st_size / 1e6}
            for name, (command, extra) in setups.items():
                env = _env(api, work, extra)
                runs = [anyio.run(tool_call, command, env, work / "pid") for _ in range(tries)]
                row[name] = min(runs, key=lambda r: r["seconds"]) | {"rss_kb": max(r["rss_kb"] for r in runs)}
            bares = [bare_get(f"{api}/v2/job/{JOB_ID}/logs") for _ in range(tries)]
            row["bare"] = min(bares, key=lambda r: r["seconds"])
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
        return rows
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        if before:
            subprocess.run(["git", "-C", str(HERE.parent), "worktree", "remove", "--force", str(work / "before")])
        shutil.rmtree(work, ignore_errors=True)


def _setup(command: list[str], pythonpath: Path | None) -> tuple[list[str], dict[str, str]]:
    return command, ({"PYTHONPATH": str(pythonpath)} if pythonpath else {})


def _env(api: str, work: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LYTICS_", "JOBS_MCP_"))}
    return (
        env
        | extra
        | {
            "LYTICS_API_URL": api,
            "LYTICS_API_TOKEN": "bench-token",
            "JOBS_MCP_AUDIT_DB": str(work / "audit.db"),
            "JOBS_MCP_TIMEOUT": "600",
        }
    )


def table(rows: list[dict[str, Any]]) -> str:
    has_before = "before" in rows[0]
    head = "| layout | entries (body) | bare GET + json.loads | streaming digest (tool call) | ratio | peak RSS |"
    if has_before:
        head += " before streaming (tool call, peak RSS) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        s, b = r["streaming"], r["bare"]
        line = (
            f"| {r['layout']} | {r['entries']:,} ({r['mb']:.0f} MB) | {b['seconds']:.2f} s | {s['seconds']:.2f} s "
            f"| {s['seconds'] / b['seconds']:.2f}x | {s['rss_kb'] / 1024:.0f} MiB |"
        )
        if has_before:
            line += f" {r['before']['seconds']:.2f} s, {r['before']['rss_kb'] / 1024:.0f} MiB |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="log sizes in entries, comma-separated")
    parser.add_argument("--before", metavar="REV", help="also measure the server at this git revision")
    parser.add_argument("--layouts", default="mixed", help=f"comma-separated, of: {', '.join(LAYOUTS)}")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    rows = [row for layout in args.layouts.split(",") for row in run(sizes, args.before, layout)]
    print(table(rows))


if __name__ == "__main__":
    main()
