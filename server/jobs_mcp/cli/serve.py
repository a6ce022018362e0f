"""``jobs-mcp serve``: run the MCP server over stdio (the default) or streamable HTTP."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from jobs_mcp.cli.checks import check_origins, listen
from jobs_mcp.cli.flags import AT_LEAST_ONE, BODY_SIZE, PORT, RATE, Parser, Subcommands, checked
from jobs_mcp.cli.help_text import ENVIRONMENT
from jobs_mcp.cli.server_settings import server_options, settings_from
from jobs_mcp.config import Settings

if TYPE_CHECKING:
    from jobs_mcp.remote import HttpOptions

log = logging.getLogger("jobs_mcp")


def add_parser(sub: Subcommands, common: Sequence[Parser]) -> None:
    serve = sub.add_parser(
        "serve",
        parents=list(common),
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
        type=checked(float, lambda s: 0 < s <= 86400, "a number of seconds above 0 and at most 86400"),
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
    server_options(serve)


def _http_options(args: argparse.Namespace, public_url: str | None = None) -> HttpOptions:
    """``serve --http``'s options, refused now when they cannot work (a bad tokens file, an open bind without
    auth, a port in use): one line before anything starts, not uvicorn's after start-up."""
    from jobs_mcp.remote import HttpOptions, load_verifier

    check_origins(args.allowed_origin, args.allowed_host)
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
    listen(args.host, args.port, ephemeral=False).close()
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


def run(args: argparse.Namespace) -> None:
    import anyio

    from jobs_mcp.preflight import preflight

    settings = settings_from(args)
    options = _http_options(args, settings.public_url) if args.http else None
    if options is None and settings.approval_port:
        listen("127.0.0.1", settings.approval_port, ephemeral=True).close()  # a port in use: one line now
    anyio.run(preflight, settings)
    _warn_at_start(settings)
    if options is not None:
        from jobs_mcp.remote import serve_http

        serve_http(settings, options)
        return
    from jobs_mcp.app import build_server

    build_server(settings).run()
