"""``jobs-mcp sandbox``: serve a platform's simulator over real HTTP, with faults injected on request."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from jobs_mcp import registry
from jobs_mcp.cli.checks import check_sqlite, listen
from jobs_mcp.cli.flags import ANY_PORT, Parser, Subcommands
from jobs_mcp.config import ConfigError


def add_parser(sub: Subcommands, common: Sequence[Parser]) -> None:
    sandbox = sub.add_parser(
        "sandbox",
        parents=list(common),
        help="serve a platform's simulator over real HTTP (for curl, other tools, tests)",
        description="Serve a platform's simulator over HTTP. Point the server at it with "
        "<PLATFORM>_API_URL=http://127.0.0.1:PORT and any <PLATFORM>_API_TOKEN (or one given with --token).",
        epilog="fault spec: 'METHOD PATH_GLOB:key=value,...' with keys status, retry_after, latency, drop, "
        "body (json|malformed|html|garbled), times, skip (let that many matching requests through first). "
        "Example: --fault 'GET /v2/job/*/logs:status=429,retry_after=1,times=2'",
    )
    sandbox.add_argument(
        "--provider", default="lytics", choices=registry.names(), help="which platform (default lytics)"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    sandbox.add_argument(
        "--port", type=ANY_PORT, default=8790, help="port, 1-65535, or 0 for any free one (default 8790)"
    )
    sandbox.add_argument(
        "--token", action="append", metavar="TOKEN", help="accept only this token, with every permission (repeatable)"
    )
    sandbox.add_argument("--fault", action="append", default=[], metavar="SPEC", help="inject a fault (repeatable)")
    sandbox.add_argument("--sandbox-db", metavar="PATH", help="keep state in this SQLite file (default: memory)")


def run(args: argparse.Namespace) -> None:
    import uvicorn

    from jobs_mcp.remote import url_host
    from jobs_mcp.sandbox import FaultInjector, parse_fault_spec

    faults = FaultInjector()
    for spec in args.fault:
        try:
            method, glob, options = parse_fault_spec(spec)
        except ValueError as exc:
            raise ConfigError(f"--fault {spec!r}: {exc}") from None
        faults.add(method, glob, **options)
    check_sqlite("--sandbox-db", args.sandbox_db, makes_folder=False)
    declared = registry.provider(args.provider)
    tokens = {token: {"*"} for token in args.token} if args.token else None
    app = declared.simulator(db_path=args.sandbox_db, tokens=tokens, faults=faults)
    sock = listen(args.host, args.port, ephemeral=True)
    port = sock.getsockname()[1]  # the real one when --port 0
    print(f"{declared.title} sandbox on http://{url_host(args.host)}:{port}  (Ctrl-C stops it)", file=sys.stderr)
    # "critical": an injected drop fault is meant to break the connection; uvicorn would log each one as a crash.
    uvicorn.Server(uvicorn.Config(app, log_level="critical")).run(sockets=[sock])
