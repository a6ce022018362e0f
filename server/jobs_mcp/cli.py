"""The ``jobs-mcp`` command. Logging goes to stderr only: in stdio mode stdout is the protocol."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from jobs_mcp import __version__, registry
from jobs_mcp.config import ConfigError, Settings, load_settings

log = logging.getLogger("jobs_mcp")
AUDIT_HELP = "audit log SQLite file (default ~/.local/state/jobs-mcp/audit.db)"

PLATFORMS = ", ".join(registry.names())
DESCRIPTION = f"""\
MCP server for safe, conversational control of data-platform jobs ({PLATFORMS}).
Reads run freely; log tools return short, exact digests instead of raw logs;
nothing changes until a person approves it. A platform without credentials
runs on its embedded sandbox: a simulated account that needs no network."""

ENVIRONMENT = """\
environment:
  <PLATFORM>_API_TOKEN  a platform's API token, e.g. LYTICS_API_TOKEN, STRAIT_API_TOKEN (never logged)
  <PLATFORM>_API_URL    its API base URL (default: the platform's public API)
  <PLATFORM>_<EXTRA>    further settings a platform needs, e.g. OWLMETRY_TEAM_ID
  JOBS_MCP_PROVIDERS    platforms to serve (same as --providers)
  JOBS_MCP_ACCOUNTS     TOML accounts file for several accounts (same as --accounts)
  JOBS_MCP_TIMEOUT      seconds per HTTP call (default 30)
  JOBS_MCP_STATE        where pending proposals live (same as --state)
  JOBS_MCP_GATE_KEY     signing key for confirmation ids (default: generated once, kept 0600 beside the state)
  JOBS_MCP_AUTH_TOKENS  bearer tokens file for --http (same as --auth-tokens)"""
PROVIDERS_HELP = (
    f"platforms to serve: a comma-separated list of {PLATFORMS}, or all (default: those with credentials; "
    "with none anywhere, lytics). A platform without credentials runs on its sandbox"
)


def _server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--providers", metavar="LIST", help=PROVIDERS_HELP)
    p.add_argument("--accounts", metavar="PATH", help="TOML accounts file (one [PLATFORM.ACCOUNT] table each)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="per-call HTTP timeout (default 30)")
    p.add_argument("--read-only", action="store_true", help="register read tools only (no write or lifecycle tools)")
    p.add_argument(
        "--confirm",
        choices=["auto", "elicit", "token"],
        default="auto",
        help="how writes are approved: elicit asks the person through the client; token returns a proposal with a "
        "confirmation id for confirm_action; auto (default) elicits where the client can, else uses the token",
    )
    p.add_argument(
        "--allow-high-risk-ids",
        action="store_true",
        help="let high-risk actions (kill, delete, batch) be approved with a confirmation id when the client cannot "
        "ask the person; weaker: the model could call confirm_action itself (a warning is logged at start-up)",
    )
    p.add_argument(
        "--approval-page",
        choices=["auto", "off"],
        default="auto",
        help="auto (default): when the client cannot ask the person, writes are approved on a page the server "
        "serves (its own HTTP origin, or loopback 127.0.0.1 under stdio, started on first need); off: no page",
    )
    p.add_argument("--confirm-ttl", type=float, metavar="SECONDS", help="how long a proposal stays valid (default 600)")
    p.add_argument(
        "--audit-db", metavar="PATH", help="audit log SQLite file (default ~/.local/state/jobs-mcp/audit.db)"
    )
    p.add_argument(
        "--state",
        metavar="SPEC",
        help="where pending proposals live: a SQLite file (default: state.db beside the audit log, so they survive "
        "a restart), memory, or redis://host:port/db for replicas (needs JOBS_MCP_GATE_KEY)",
    )
    p.add_argument("--sandbox-db", metavar="PATH", help="keep sandbox state in this SQLite file (default: memory)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jobs-mcp",
        description=DESCRIPTION,
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"jobs-mcp {__version__}")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the MCP server (stdio by default; what Claude Desktop and Claude Code launch)",
        description="Run the MCP server. stdio by default; --http serves streamable HTTP (sessions by default, "
        "--stateless for replicas; bearer tokens required off loopback).",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    serve.add_argument(
        "--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1; any other needs --auth-tokens)"
    )
    serve.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    serve.add_argument(
        "--stateless",
        action="store_true",
        help="no HTTP sessions, for replicas behind a load balancer (2025-era clients then approve with "
        "confirmation ids instead of being asked through elicitation)",
    )
    serve.add_argument(
        "--auth-tokens",
        metavar="FILE",
        help="bearer tokens file: one 'principal token' line each (token may be sha256:<hex>; # comments); "
        "required off loopback (default: $JOBS_MCP_AUTH_TOKENS)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a Host clients use to reach the server (repeatable; turns Host/Origin checks on for it)",
    )
    serve.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser Origin allowed to call the server, e.g. https://app.example.com (repeatable)",
    )
    serve.add_argument(
        "--rate-limit",
        type=int,
        default=120,
        metavar="N",
        help="HTTP requests per minute per principal (default 120; 0 turns it off)",
    )
    serve.add_argument(
        "--max-body-size",
        type=int,
        default=1024 * 1024,
        metavar="BYTES",
        help="largest HTTP request body accepted (default 1 MiB)",
    )
    _server_options(serve)

    demo = sub.add_parser(
        "demo",
        help="show the server at work: a scripted conversation on the sandbox through a real MCP client",
        description="Run a short scripted conversation through an MCP client session against the server on the "
        "embedded sandbox, printing each step: the tools, the jobs table, a failing export's log digest and "
        "the account-wide log digest. Needs no credentials and no network.",
    )
    demo.add_argument("--providers", metavar="LIST", help="platforms to show (a list, or all; default lytics)")
    demo.add_argument("--sandbox-db", metavar="PATH", help=argparse.SUPPRESS)

    audit = sub.add_parser(
        "audit",
        help="print the most recent executed writes from the audit log",
        description="Print recent audit records: every executed write with its account, tool, request and outcome "
        '("outcome unknown" when the server stopped between sending and hearing back).',
    )
    audit.add_argument("--limit", type=int, default=20, help="how many records (default 20)")
    audit.add_argument(
        "--audit-db", metavar="PATH", help="audit log SQLite file (default ~/.local/state/jobs-mcp/audit.db)"
    )
    audit.add_argument("--json", action="store_true", help="print JSON lines instead of text")

    sandbox = sub.add_parser(
        "sandbox",
        help="serve a platform's simulator over real HTTP (for curl, other tools, tests)",
        description="Serve a platform's simulator over HTTP. Point the server at it with "
        "<PLATFORM>_API_URL=http://127.0.0.1:PORT and any <PLATFORM>_API_TOKEN (or one given with --token).",
        epilog="fault spec: 'METHOD PATH_GLOB:key=value,...' with keys status, retry_after, latency, drop, "
        "body (json|malformed|html), times. Example: --fault 'GET /v2/job/*/logs:status=429,retry_after=1,times=2'",
    )
    sandbox.add_argument(
        "--provider", default="lytics", choices=registry.names(), help="which platform (default lytics)"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8790, help="port (default 8790)")
    sandbox.add_argument(
        "--token", action="append", metavar="TOKEN", help="accept only this token, with every permission (repeatable)"
    )
    sandbox.add_argument("--fault", action="append", default=[], metavar="SPEC", help="inject a fault (repeatable)")
    sandbox.add_argument("--sandbox-db", metavar="PATH", help="keep state in this SQLite file (default: memory)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        providers=getattr(args, "providers", None),
        accounts_file=getattr(args, "accounts", None),
        timeout=getattr(args, "timeout", None),
        read_only=getattr(args, "read_only", False),
        confirm=getattr(args, "confirm", "auto"),
        allow_high_risk_ids=getattr(args, "allow_high_risk_ids", False),
        confirm_ttl=getattr(args, "confirm_ttl", None),
        approval_page=getattr(args, "approval_page", "auto"),
        audit_db=getattr(args, "audit_db", None),
        state=getattr(args, "state", None),
        sandbox_db=getattr(args, "sandbox_db", None),
    )


def _serve(args: argparse.Namespace) -> None:
    from jobs_mcp.app import build_server

    settings = _settings(args)
    for account in settings.accounts:
        if account.sandbox:
            name = account.provider
            log.warning(
                "%s: no %s set, serving its embedded sandbox (simulated data)", name, f"{name.upper()}_API_TOKEN"
            )
    if settings.allow_high_risk_ids:
        log.warning(
            "--allow-high-risk-ids: permanent and bulk actions may be approved with confirmation ids; a model could "
            "confirm them itself. Rely on your client's tool-approval prompt for confirm_action."
        )
    if not args.http:
        build_server(settings).run()
        return
    from jobs_mcp.remote import HttpOptions, serve_http

    if args.rate_limit < 0 or args.max_body_size < 1024:
        raise ConfigError("--rate-limit must be 0 or more and --max-body-size at least 1024")
    options = HttpOptions(
        host=args.host,
        port=args.port,
        stateless=args.stateless,
        auth_tokens=args.auth_tokens,
        allowed_hosts=tuple(args.allowed_host),
        allowed_origins=tuple(args.allowed_origin),
        rate_limit=args.rate_limit,
        max_body=args.max_body_size,
    )
    serve_http(settings, options)


def _sandbox(args: argparse.Namespace) -> None:
    import uvicorn

    from jobs_mcp.sandbox import FaultInjector, parse_fault_spec

    faults = FaultInjector()
    for spec in args.fault:
        try:
            method, glob, options = parse_fault_spec(spec)
        except ValueError as exc:
            raise ConfigError(f"--fault {spec!r}: {exc}") from None
        faults.add(method, glob, **options)
    declared = registry.provider(args.provider)
    tokens = {token: {"*"} for token in args.token} if args.token else None
    app = declared.simulator(db_path=args.sandbox_db, tokens=tokens, faults=faults)
    print(f"{declared.title} sandbox on http://{args.host}:{args.port}  (Ctrl-C stops it)", file=sys.stderr)
    # "critical": an injected drop fault is meant to break the connection; uvicorn would log each one as a crash.
    uvicorn.run(app, host=args.host, port=args.port, log_level="critical")


def _audit(args: argparse.Namespace) -> None:
    import json

    from jobs_mcp.audit import AuditLog

    log_file = AuditLog(args.audit_db or os.environ.get("JOBS_MCP_AUDIT_DB"))
    if not log_file.path.exists():
        print(f"no audit log at {log_file.path} yet: nothing has been executed", file=sys.stderr)
        return
    for record in log_file.recent(args.limit):
        if args.json:
            print(json.dumps(record, sort_keys=True))
            continue
        outcome = record["outcome"]
        status = outcome.get("status", "?") if isinstance(outcome, dict) else "outcome unknown"
        request = record["request"]
        print(
            f"{record['at']}  {record['account']:<12} {record['tool']:<22} {status:<10} "
            f"{request.get('method', '')} {request.get('url', '')}"
        )


def _scrubbed(record: logging.LogRecord) -> bool:
    """Log lines pass through the same scrubber as every answer: no credential reaches stderr."""
    from jobs_mcp.textsafe import scrub

    record.msg, record.args = scrub(record.getMessage()), None
    return True


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_scrubbed)
    try:
        if args.command == "serve":
            _serve(args)
        elif args.command == "demo":
            from jobs_mcp.demo import run_demo

            run_demo(providers=args.providers, sandbox_db=args.sandbox_db)
        elif args.command == "sandbox":
            _sandbox(args)
        elif args.command == "audit":
            _audit(args)
        else:
            parser.print_help()
            sys.exit(2)
    except ConfigError as exc:
        print(f"jobs-mcp: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
