"""The ``jobs-mcp`` command. Logging goes to stderr only: in stdio mode stdout is the protocol.

Every wrong input ends in one line on stderr saying what to fix, and a non-zero exit: 2 for a wrong flag, value
or setting, 1 when ``accounts`` finds an account that does not answer. Never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import math
import os
import re
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import urlsplit

from jobs_mcp import __version__, approver_cli, registry
from jobs_mcp.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from jobs_mcp.remote import HttpOptions

log = logging.getLogger("jobs_mcp")
AUDIT_HELP = "audit log SQLite file (default ~/.local/state/jobs-mcp/audit.db; or JOBS_MCP_AUDIT_DB)"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SQLITE_HEADER = b"SQLite format 3\x00"
STATE_SCHEMES = ("sqlite://", "redis://", "rediss://")
# A browser Origin: scheme, host and optional port (or :* for any), nothing after it. Browsers send exactly this.
ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(:(\d{1,5}|\*))?$")
HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")

PLATFORMS = ", ".join(registry.names())
DESCRIPTION = f"""\
MCP server for safe, conversational control of data-platform jobs ({PLATFORMS}).
Reads run freely; log tools return short, exact digests instead of raw logs;
nothing changes until a person approves it. A platform without credentials
runs on its embedded sandbox: a simulated account that needs no network."""

# Every environment variable the server reads (config.py, remote.py); tests check that none is left out.
ENVIRONMENT = """\
environment:
  <PLATFORM>_API_TOKEN  a platform's API token, e.g. LYTICS_API_TOKEN, STRAIT_API_TOKEN (never logged)
  <PLATFORM>_API_URL    its API base URL (default: the platform's public API)
  <PLATFORM>_<EXTRA>    further settings a platform needs, e.g. STRAIT_PROJECT_ID, OWLMETRY_TEAM_ID
  JOBS_MCP_PROVIDERS    platforms to serve (same as --providers)
  JOBS_MCP_ACCOUNTS     TOML accounts file for several accounts (same as --accounts)
  JOBS_MCP_TIMEOUT      seconds per HTTP call (default 30; same as --timeout)
  JOBS_MCP_AUDIT_DB     audit log SQLite file (same as --audit-db; default ~/.local/state/jobs-mcp/audit.db,
                        under $XDG_STATE_HOME when that is set)
  JOBS_MCP_STATE        where pending proposals live (same as --state)
  JOBS_MCP_GATE_KEY     signing key for confirmation ids (default: generated once, kept 0600 beside the state;
                        required with --state redis://, the same on every replica)
  JOBS_MCP_AUTH_TOKENS  bearer tokens file for --http (same as --auth-tokens)
  JOBS_MCP_PERSON_PROOF lowest risk whose approval on the page needs a passkey or passphrase (--person-proof)
  JOBS_MCP_APPROVERS    the approvers file `jobs-mcp approver` writes (same as --approvers)"""
PROVIDERS_HELP = (
    f"platforms to serve: a comma-separated list of {PLATFORMS}, or all (default: those with credentials; "
    "with none anywhere, lytics). A platform without credentials runs on its sandbox"
)

N = TypeVar("N", int, float)


class Parser(argparse.ArgumentParser):
    """argparse that reports a wrong flag or value in one line (not the whole usage block) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _checked(cast: Callable[[str], N], ok: Callable[[N], bool], expected: str) -> Callable[[str], N]:
    """An argparse ``type`` that converts with ``cast`` and refuses values outside ``ok`` with ``expected``."""

    def convert(text: str) -> N:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}") from None
        if not ok(value) or (isinstance(value, float) and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {expected}")
        return value

    return convert


PORT = _checked(int, lambda p: 1 <= p <= 65535, "a port: a whole number from 1 to 65535")
ANY_PORT = _checked(int, lambda p: 0 <= p <= 65535, "a port: a whole number from 1 to 65535, or 0 for any free port")


def _seconds(setting: str) -> Callable[[str], float]:
    """Seconds above 0 and at most what ``Settings`` allows for ``setting`` (its ``le`` bound, read from the model,
    so the flag and the setting cannot disagree)."""
    bounds = [getattr(rule, "le", None) for rule in Settings.model_fields[setting].metadata]
    limit = float(next(bound for bound in bounds if bound is not None))
    return _checked(float, lambda s: 0 < s <= limit, f"a number of seconds above 0 and at most {limit:g}")


AT_LEAST_ONE = _checked(int, lambda n: n >= 1, "a whole number, 1 or more")
RATE = _checked(int, lambda n: n >= 0, "a whole number of requests per minute (0 turns the limit off)")
BODY_SIZE = _checked(int, lambda n: n >= 1024, "a number of bytes, 1024 or more")


def _log_level_option(default: str) -> Parser:
    """``--log-level``, accepted before the command (``default``) and after it (SUPPRESS: keep the first)."""
    parent = Parser(add_help=False)
    parent.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=default,
        help="stderr log level (default WARNING); accepted before or after the command",
    )
    return parent


def _account_options(p: argparse.ArgumentParser) -> None:
    """Which accounts: the same flags for ``serve`` and ``accounts``."""
    p.add_argument("--providers", metavar="LIST", help=PROVIDERS_HELP)
    p.add_argument("--accounts", metavar="PATH", help="TOML accounts file (one [PLATFORM.ACCOUNT] table each)")
    p.add_argument("--timeout", type=_seconds("timeout"), metavar="SECONDS", help="per-call HTTP timeout (default 30)")


def _server_options(p: argparse.ArgumentParser) -> None:
    _account_options(p)
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
    p.add_argument(
        "--approval-port",
        type=ANY_PORT,
        default=0,
        metavar="PORT",
        help="under stdio, serve the approval page on this loopback port (default 0: any free one), so its "
        "address stays the same across restarts",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the server's address as people reach it, e.g. https://mcp.example.com behind a proxy: approval "
        "links use it, and its host is allowed like --allowed-host",
    )
    p.add_argument(
        "--person-proof",
        choices=["low", "medium", "high"],
        help="the lowest risk whose approval on the page needs the person's passkey or approver passphrase "
        "(default high; an account's person_proof may lower it; env JOBS_MCP_PERSON_PROOF)",
    )
    p.add_argument(
        "--approvers",
        metavar="PATH",
        help="the approvers file that `jobs-mcp approver` writes (default: approvers.json beside the audit log)",
    )
    p.add_argument(
        "--confirm-ttl",
        type=_seconds("confirm_ttl"),
        metavar="SECONDS",
        help="how long a proposal stays valid (default 600)",
    )
    p.add_argument("--audit-db", metavar="PATH", help=AUDIT_HELP)
    p.add_argument(
        "--audit-keep-days",
        type=_checked(float, lambda d: d > 0, "a number of days above 0"),
        metavar="DAYS",
        help="drop an executed write's audit rows once it is older than this (default: keep everything; about "
        "350 KiB a minute under heavy load); a write whose outcome is unknown is always kept",
    )
    p.add_argument(
        "--state",
        metavar="SPEC",
        help="where pending proposals live: a SQLite file (default: state.db beside the audit log, so they survive "
        "a restart), memory, or redis://host:port/db for replicas (needs JOBS_MCP_GATE_KEY)",
    )
    p.add_argument("--sandbox-db", metavar="PATH", help="keep sandbox state in this SQLite file (default: memory)")


def _serve_parser(sub: argparse._SubParsersAction[Parser], common: list[Parser]) -> None:
    serve = sub.add_parser(
        "serve",
        parents=common,
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
    serve.add_argument("--port", type=PORT, default=8000, help="HTTP port, 1-65535 (default 8000)")
    serve.add_argument(
        "--stateless",
        action="store_true",
        help="no HTTP sessions, for replicas behind a load balancer (2025-era clients then approve with "
        "confirmation ids instead of being asked through elicitation). Without --auth-tokens each request is then "
        "a principal of its own: no client sees or confirms another's proposals, and none gets a confirmation id",
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
        type=RATE,
        default=120,
        metavar="N",
        help="HTTP requests per minute per principal (default 120; 0 turns it off)",
    )
    serve.add_argument(
        "--max-body-size",
        type=BODY_SIZE,
        default=1024 * 1024,
        metavar="BYTES",
        help="largest HTTP request body accepted (default 1 MiB, at least 1024)",
    )
    serve.add_argument(
        "--session-idle-timeout",
        type=_checked(float, lambda s: 0 < s <= 86400, "a number of seconds above 0 and at most 86400"),
        default=600.0,
        metavar="SECONDS",
        help="close an HTTP session after this long without a request (default 600, as long as a proposal lives); "
        "a client that comes back later opens a new one",
    )
    serve.add_argument(
        "--max-sessions",
        type=AT_LEAST_ONE,
        default=2000,
        metavar="N",
        help="open HTTP sessions at most (default 2000, 30-46 KiB each as measured: at most ~90 MiB); one more "
        "is answered 503 until an idle one closes",
    )
    _server_options(serve)


def _other_parsers(sub: argparse._SubParsersAction[Parser], common: list[Parser]) -> None:
    accounts = sub.add_parser(
        "accounts",
        parents=common,
        help="list the configured accounts per platform and check that each answers (one read-only call each)",
        description="List the accounts `jobs-mcp serve` would use (same --providers, --accounts and environment),\n"
        "say which are sandboxes (simulated), and check each with one cheap read-only call.\n"
        "Tokens are never printed. Exits 1 when an account does not answer.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _account_options(accounts)

    demo = sub.add_parser(
        "demo",
        parents=common,
        help="show the server at work: a scripted conversation on the sandbox through a real MCP client",
        description="Run a short scripted conversation through an MCP client session against the server on the "
        "embedded sandbox, printing each step: the tools, the jobs table, a failing export's log digest and "
        "the account-wide log digest. Needs no credentials and no network; leaves no files behind.",
    )
    demo.add_argument("--providers", metavar="LIST", help="platforms to show (a list, or all; default lytics)")
    demo.add_argument("--sandbox-db", metavar="PATH", help=argparse.SUPPRESS)

    audit = sub.add_parser(
        "audit",
        parents=common,
        help="print the most recent executed writes (and refusals and declines) from the audit log",
        description="Print recent audit records: every executed write with its account, tool, request and outcome "
        '("outcome unknown" when the server stopped between sending and hearing back), and each decision that sent '
        "nothing (declined, cancelled, stale) or refusal (a tampered record, a replay).",
    )
    audit.add_argument("--limit", type=AT_LEAST_ONE, default=20, help="how many records (default 20)")
    audit.add_argument("--audit-db", metavar="PATH", help=AUDIT_HELP)
    audit.add_argument("--json", action="store_true", help="print JSON lines instead of text")

    sandbox = sub.add_parser(
        "sandbox",
        parents=common,
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


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="jobs-mcp",
        description=DESCRIPTION,
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_log_level_option("WARNING")],
    )
    parser.add_argument("--version", action="version", version=f"jobs-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common: list[Parser] = [_log_level_option(argparse.SUPPRESS)]
    _serve_parser(sub, common)
    _other_parsers(sub, common)
    approver_cli.add_parser(sub, common)
    return parser


# --- checks that need more than one flag: files and addresses -------------------------------------------------


def _sqlite_problem(path: Path, *, makes_folder: bool) -> str | None:
    """Why ``path`` cannot be a SQLite file this server uses, or None (a missing file is created when needed;
    its folder too when ``makes_folder``)."""
    if path.is_dir():
        return f"is a folder; give a file path, e.g. {path / 'jobs-mcp.db'}"
    if not makes_folder and not path.parent.is_dir():
        return f"is in a folder that does not exist ({path.parent}); create it or choose another path"
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if head and head != SQLITE_HEADER:
        return "is not a SQLite file; give a new path or a file jobs-mcp wrote"
    return None


def _check_sqlite(setting: str, value: str | None, *, makes_folder: bool) -> None:
    problem = _sqlite_problem(Path(value).expanduser(), makes_folder=makes_folder) if value else None
    if problem:
        raise ConfigError(f"{setting} {value}: {problem}")


def _state_file(state: str) -> str | None:
    """The SQLite file a ``--state`` value names (as ``state.open_store`` reads it), or None for other stores."""
    if state in ("", "memory") or state.startswith(("redis://", "rediss://")):
        return None
    if state.startswith("sqlite://"):
        return state.removeprefix("sqlite://")
    if "://" in state:
        raise ConfigError(
            f"--state / JOBS_MCP_STATE {state.split('://')[0]}://… is not a state store; use memory, a file path, "
            "sqlite:///path/state.db or redis://host:port/db"
        )
    path = Path(state).expanduser()
    return str(path / "state.db") if path.is_dir() else state  # a folder gets state.db inside


def _check_files(settings: Settings) -> None:
    """Refuse at start what would otherwise fail only at the first write or sandbox call."""
    _check_sqlite("--audit-db / JOBS_MCP_AUDIT_DB", settings.audit_db, makes_folder=True)
    _check_sqlite("--state / JOBS_MCP_STATE", _state_file((settings.state or "").strip()), makes_folder=True)
    _check_sqlite("--sandbox-db", settings.sandbox_db, makes_folder=False)


def _bind_problem(host: str, port: int, exc: OSError, ephemeral: bool) -> str:
    if exc.errno == errno.EADDRINUSE:
        other = "choose another with --port N" + (", or --port 0 for any free port" if ephemeral else "")
        return f"port {port} on {host} is already in use (another server, or an earlier one still running): {other}"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} (ports below 1024 need privileges): choose one above 1023"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine: use 127.0.0.1 or one of its own addresses"
    return f"cannot listen on {host} port {port} ({exc.strerror or exc}): check --host and --port"


def _listen(host: str, port: int, *, ephemeral: bool) -> socket.socket:
    """A socket bound to ``host:port`` (as uvicorn binds it), or a ConfigError that says what to do."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--host {host}: not a usable address ({exc}); use e.g. 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(_bind_problem(host, port, exc, ephemeral)) from None
    return sock


# --- the commands ------------------------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(
        providers=getattr(args, "providers", None),
        accounts_file=getattr(args, "accounts", None),
        timeout=getattr(args, "timeout", None),
        read_only=getattr(args, "read_only", False),
        confirm=getattr(args, "confirm", "auto"),
        allow_high_risk_ids=getattr(args, "allow_high_risk_ids", False),
        confirm_ttl=getattr(args, "confirm_ttl", None),
        approval_page=getattr(args, "approval_page", "auto"),
        approval_port=getattr(args, "approval_port", 0),
        public_url=_public_url(getattr(args, "public_url", None)),
        audit_db=getattr(args, "audit_db", None),
        audit_keep_days=getattr(args, "audit_keep_days", None),
        state=getattr(args, "state", None),
        sandbox_db=getattr(args, "sandbox_db", None),
        person_proof=getattr(args, "person_proof", None),
        approvers=getattr(args, "approvers", None),
    )
    _check_files(settings)
    return settings


def _public_url(url: str | None) -> str | None:
    """``--public-url`` as an origin approval links start with, or a ConfigError saying how to write it."""
    if url is None:
        return None
    match = ORIGIN.match(url.rstrip("/"))
    if match is None or match.group(3) == "*":
        raise ConfigError(
            f"--public-url {url!r}: write the address people open, scheme://host[:port] with no path, e.g. "
            "https://mcp.example.com"
        )
    return url.rstrip("/")


def _check_origins(origins: Sequence[str], hosts: Sequence[str]) -> None:
    """Refuse an --allowed-origin or --allowed-host that could never match what a browser or client sends (a path,
    a trailing slash, no scheme), instead of a check that silently refuses everyone."""
    for origin in origins:
        match = ORIGIN.match(origin)
        port = match.group(3) if match else None
        if match is None or (port not in (None, "*") and not 1 <= int(port) <= 65535):
            raise ConfigError(
                f"--allowed-origin {origin!r} is not an origin: write scheme://host[:port] with nothing after it "
                "(no path, no trailing slash), e.g. https://app.example.com or http://localhost:5173"
            )
    for host in hosts:
        if not HOST.match(host):
            raise ConfigError(
                f"--allowed-host {host!r} is not a host name: write the name alone, e.g. mcp.example.com "
                "(no scheme or path; no port either: every port of that host is allowed)"
            )


def _http_options(args: argparse.Namespace, public_url: str | None = None) -> HttpOptions:
    """``serve --http``'s options, refused now when they cannot work (a bad tokens file, an open bind without
    auth, a port in use): one line before anything starts, not uvicorn's after start-up."""
    from jobs_mcp.remote import HttpOptions, load_verifier

    _check_origins(args.allowed_origin, args.allowed_host)
    public_host = [urlsplit(public_url).hostname or ""] if public_url else []
    options = HttpOptions(
        host=args.host,
        port=args.port,
        stateless=args.stateless,
        auth_tokens=args.auth_tokens,
        allowed_hosts=(*args.allowed_host, *public_host),
        allowed_origins=tuple(args.allowed_origin),
        rate_limit=args.rate_limit,
        max_body=args.max_body_size,
        session_idle_timeout=args.session_idle_timeout,
        max_sessions=args.max_sessions,
    )
    load_verifier(options)
    _listen(args.host, args.port, ephemeral=False).close()
    return options


def _warn_at_start(settings: Settings) -> None:
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


def _serve(args: argparse.Namespace) -> None:
    import anyio

    from jobs_mcp.preflight import preflight

    settings = _settings(args)
    options = _http_options(args, settings.public_url) if args.http else None
    if options is None and settings.approval_port:
        _listen("127.0.0.1", settings.approval_port, ephemeral=True).close()  # a port in use: one line now
    anyio.run(preflight, settings)
    _warn_at_start(settings)
    if options is not None:
        from jobs_mcp.remote import serve_http

        serve_http(settings, options)
        return
    from jobs_mcp.app import build_server

    build_server(settings).run()


def _sandbox(args: argparse.Namespace) -> None:
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
    _check_sqlite("--sandbox-db", args.sandbox_db, makes_folder=False)
    declared = registry.provider(args.provider)
    tokens = {token: {"*"} for token in args.token} if args.token else None
    app = declared.simulator(db_path=args.sandbox_db, tokens=tokens, faults=faults)
    sock = _listen(args.host, args.port, ephemeral=True)
    port = sock.getsockname()[1]  # the real one when --port 0
    print(f"{declared.title} sandbox on http://{url_host(args.host)}:{port}  (Ctrl-C stops it)", file=sys.stderr)
    # "critical": an injected drop fault is meant to break the connection; uvicorn would log each one as a crash.
    uvicorn.Server(uvicorn.Config(app, log_level="critical")).run(sockets=[sock])


def _audit_records(path: Path, limit: int) -> list[dict[str, Any]]:
    """The newest records of the audit log at ``path``, read without changing a file that is not one."""
    import sqlite3
    from contextlib import closing

    from jobs_mcp.audit import AuditLog

    hint = "point --audit-db (or JOBS_MCP_AUDIT_DB) at the audit.db that `jobs-mcp serve` writes"
    try:
        with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as db:
            found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"--audit-db {path}: cannot be read as a SQLite file ({exc}); {hint}") from None
    if not found:
        raise ConfigError(f"--audit-db {path}: a SQLite file, but not an audit log; {hint}")
    return AuditLog(path).recent(limit)


def _audit(args: argparse.Namespace) -> None:
    import json

    from jobs_mcp.audit import AuditLog

    path = AuditLog(args.audit_db or os.environ.get("JOBS_MCP_AUDIT_DB")).path.expanduser()
    if path.is_dir():
        raise ConfigError(f"--audit-db {path}: is a folder; give the audit.db file in it")
    if not path.exists():
        print(f"no audit log at {path} yet: nothing has been executed", file=sys.stderr)
        return
    for record in _audit_records(path, args.limit):
        if args.json:
            print(json.dumps(record, sort_keys=True))
            continue
        outcome = record["outcome"]
        status = outcome.get("status", "?") if isinstance(outcome, dict) else "outcome unknown"
        request = record["request"]
        proven = record.get("proof") or record.get("channel", "")
        print(
            f"{record['at']}  {record['account']:<12} {record['tool']:<22} {status:<10} {proven:<20} "
            f"{request.get('method', '')} {request.get('url', '')}"
        )


def _accounts(args: argparse.Namespace) -> None:
    import anyio

    from jobs_mcp.accounts import check_accounts

    settings = _settings(args)
    rows = anyio.run(check_accounts, settings)
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, where, verdict in rows:
        print(f"{name:<{widths[0]}}  {where:<{widths[1]}}  {verdict}")
    failed = sum(verdict.startswith("FAILED") for _, _, verdict in rows)
    if failed:
        print(
            f"jobs-mcp: {failed} of {len(rows)} account(s) did not answer: fix the token, URL or extras named above "
            "(environment or --accounts file), then run jobs-mcp accounts again",
            file=sys.stderr,
        )
        sys.exit(1)


# --- entry point -------------------------------------------------------------------------------------------------


def _scrubbed(record: logging.LogRecord) -> bool:
    """Log lines pass through the same scrubber as every answer: no credential reaches stderr."""
    from jobs_mcp.textsafe import scrub

    record.msg, record.args = scrub(record.getMessage()), None
    return True


def _demo(args: argparse.Namespace) -> None:
    from jobs_mcp.demo import run_demo

    _check_sqlite("--sandbox-db", args.sandbox_db, makes_folder=False)
    run_demo(providers=args.providers, sandbox_db=args.sandbox_db)


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "serve": _serve,
    "accounts": _accounts,
    "demo": _demo,
    "sandbox": _sandbox,
    "audit": _audit,
    "approver": approver_cli.run,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_scrubbed)
    command = COMMANDS.get(args.command or "")
    if command is None:
        parser.print_help()
        sys.exit(2)
    try:
        command(args)
    except ConfigError as exc:
        print(f"jobs-mcp: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except BaseException as exc:
        if not _broken_pipe(exc):
            raise
        # The reader went away (`jobs-mcp demo | head`): stop quietly, as other commands do. Python would
        # otherwise complain again while flushing stdout at exit, so stdout now leads nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a command cut off by its pipe


def _broken_pipe(exc: BaseException) -> bool:
    """Whether ``exc`` is (or, from a task group, only holds) a broken pipe."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_broken_pipe(inner) for inner in exc.exceptions)
    return isinstance(exc, BrokenPipeError)
