"""Serving the MCP server over streamable HTTP, safely enough to leave a port open.

- Sessions by default, so a 2025-era client can be asked to approve through elicitation; ``stateless`` for
  load balancers (approvals then fall back to confirmation ids for those clients).
- Bearer tokens from a file (``principal token`` per line, or ``principal sha256:<hex>``), held only as SHA-256
  digests and compared in constant time; the token's principal owns the proposals made with it. Required on any
  non-loopback bind. Without tokens a session is a principal, and a request with no session (``--stateless``, or
  any 2026-07-28 request) is a principal of its own, so loopback clients never share proposals.
- Host and Origin allowlists on every loopback address and on named hosts; a request-body limit; a per-principal
  rate limit counted in the gate's state store (so replicas share it); ``/healthz`` and ``/readyz``.
- Replicas: the sealed ``requestState`` of a multi-round ``Resolve`` is keyed from ``JOBS_MCP_GATE_KEY``, so a
  retry may land on any replica.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import stat
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp.server import MCPServer
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jobs_mcp.config import ConfigError, Settings
from jobs_mcp.principal import bind_session
from jobs_mcp.runtime import Runtime
from jobs_mcp.state import window_of

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
TOKENS_ENV = "JOBS_MCP_AUTH_TOKENS"
DEFAULT_RATE_LIMIT = 120
DEFAULT_MAX_BODY = 1024 * 1024
RATE_WINDOW = 60.0
SESSION_IDLE_TIMEOUT = 600.0
"""Seconds an HTTP session may stay silent before it is closed: as long as a proposal stays confirmable."""
MAX_SESSIONS = 2000
"""Open HTTP sessions at most (30-46 KiB each, bench/soak.py: at most ~90 MiB); one more is answered 503."""
PRINCIPAL = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
SHA256 = re.compile(r"^sha256:([0-9a-fA-F]{64})$")
MIN_TOKEN = 16
LOOPBACK_NAMES = ("localhost",)
WILDCARDS = ("0.0.0.0", "::", "")
AUTH_HINT = (
    "Create a tokens file with one 'principal token' line per client (a token of 16+ random characters, or "
    "'sha256:<hex digest>' of it), e.g. `printf 'alice %s\\n' \"$(openssl rand -hex 32)\" > tokens && chmod 600 "
    "tokens`, and pass --auth-tokens tokens (or set JOBS_MCP_AUTH_TOKENS=tokens)."
)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenFile:
    """The SDK ``TokenVerifier`` over a tokens file. Only digests are kept; every entry is compared, in constant
    time, whatever the answer, so timing says nothing about which token (or how much of one) matched."""

    def __init__(self, entries: Sequence[tuple[str, bytes]]) -> None:
        self._entries = tuple(entries)

    @property
    def principals(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p, _ in self._entries))

    @classmethod
    def load(cls, path: str | Path) -> TokenFile:
        file = Path(path).expanduser()
        try:
            text = file.read_text(encoding="utf-8")
            mode = file.stat().st_mode
        except OSError as exc:
            raise ConfigError(f"--auth-tokens {file}: cannot read it ({exc.strerror}). {AUTH_HINT}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("--auth-tokens %s can be read by other users; restrict it with: chmod 600 %s", file, file)
        entries: list[tuple[str, bytes]] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if not line:
                continue
            fields = line.split()
            where = f"--auth-tokens {file} line {number}"  # never the line itself: it holds a token
            if len(fields) != 2:
                raise ConfigError(f"{where}: expected 'principal token' (two fields separated by a space)")
            principal, token = fields
            if not PRINCIPAL.match(principal):
                raise ConfigError(f"{where}: the principal must be 1-64 of A-Z a-z 0-9 _ . @ -")
            hashed = SHA256.match(token)
            if hashed:
                digest = bytes.fromhex(hashed.group(1))
            elif token.lower().startswith("sha256:"):
                raise ConfigError(f"{where}: a sha256: token must be followed by 64 hex digits")
            elif len(token) < MIN_TOKEN:
                raise ConfigError(f"{where}: the token is shorter than {MIN_TOKEN} characters; use a random one")
            else:
                digest = _digest(token)
            if any(hmac.compare_digest(digest, d) for _, d in entries):
                raise ConfigError(f"{where}: this token is already given on an earlier line; each needs its own")
            entries.append((principal, digest))
        if not entries:
            raise ConfigError(f"--auth-tokens {file} names no tokens. {AUTH_HINT}")
        return cls(entries)

    async def verify_token(self, token: str) -> AccessToken | None:
        digest = _digest(token)
        found: str | None = None
        for principal, expected in self._entries:
            if hmac.compare_digest(digest, expected) and found is None:
                found = principal
        if found is None:
            return None
        # AccessToken.token is required; it gets the digest's prefix, so the raw token goes no further.
        return AccessToken(token=f"sha256:{digest.hex()[:12]}", client_id=found, scopes=[])


@dataclass(frozen=True)
class HttpOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    stateless: bool = False
    auth_tokens: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    rate_limit: int = DEFAULT_RATE_LIMIT
    max_body: int = DEFAULT_MAX_BODY
    session_idle_timeout: float = SESSION_IDLE_TIMEOUT
    max_sessions: int = MAX_SESSIONS


def _host_forms(host: str) -> list[str]:
    bracketed = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return [bracketed, f"{bracketed}:*"]


def transport_security(options: HttpOptions) -> TransportSecuritySettings:
    """Host/Origin allowlists: on for every loopback address (127.0.0.2 too) and for named hosts."""
    hosts: list[str] = []
    origins: list[str] = list(options.allowed_origins)
    bind = options.host
    named = [h for h in options.allowed_hosts if h]
    if is_loopback(bind):
        named = ["127.0.0.1", "localhost", "::1", bind, *named]
    elif bind not in WILDCARDS:
        named = [bind, *named]
    for name in dict.fromkeys(named):
        forms = _host_forms(name)
        hosts += forms
        origins += [f"http://{forms[1]}", f"https://{forms[1]}", f"http://{forms[0]}", f"https://{forms[0]}"]
    if not hosts:
        print(
            f"jobs-mcp: warning: --host {bind} with no --allowed-host: Host and Origin checks are off. Name the "
            "host clients use (e.g. --allowed-host mcp.example.com) to turn them on.",
            file=sys.stderr,
        )
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(dict.fromkeys(hosts)),
        allowed_origins=list(dict.fromkeys(origins)),
    )


def request_state_keys(settings: Settings) -> list[bytes] | None:
    """The key that seals ``requestState``, derived from JOBS_MCP_GATE_KEY (same on every replica), or None."""
    if settings.gate_key is None:
        return None
    secret = settings.gate_key.get_secret_value().encode()
    return [hmac.new(secret, b"jobs-mcp/request-state/v1", hashlib.sha256).digest()]


def _server_security(verifier: TokenFile | None, settings: Settings, public_url: str) -> dict[str, Any]:
    """MCPServer's auth and request-state options: bearer tokens when a token file is given, and request-state
    keys from JOBS_MCP_GATE_KEY so an approval retry may land on another replica."""
    options: dict[str, Any] = {}
    if verifier is not None:
        options["token_verifier"] = verifier
        options["auth"] = AuthSettings(
            issuer_url=AnyHttpUrl(public_url), resource_server_url=None, validate_token_resource=False
        )
    keys = request_state_keys(settings)
    if keys is not None:
        options["request_state_security"] = RequestStateSecurity(keys=keys)
    return options


class Guard:
    """Outermost ASGI layer on the MCP path: per-principal rate limit, and the MCP session bound to the
    request (``principal.current_principal`` uses it when there is no token)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        runtime: Runtime,
        verifier: TokenFile | None,
        limit: int,
        security: TransportSecuritySettings | None = None,
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.verifier = verifier
        self.limit = limit
        self._hosts = TransportSecurityMiddleware(security) if security is not None else None
        self._warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not scope["path"].startswith(MCP_PATH):  # /healthz, /readyz, the approval page: Host checked like /mcp
            refusal = self._foreign(Headers(scope=scope))
            await (refusal or self.app)(scope, receive, send)
            return
        headers = Headers(scope=scope)
        session = headers.get("mcp-session-id") or None
        if self.limit > 0:
            refusal = await self._rate(scope, headers, session)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        with bind_session(session, anonymous=self.verifier is None):
            await self.app(scope, receive, send)

    def _foreign(self, headers: Headers) -> Response | None:
        """A 421/403 for a Host (or browser Origin) the MCP endpoint would refuse; None when it would pass."""
        checks = self._hosts
        if checks is None or not checks.settings.enable_dns_rebinding_protection:
            return None
        if not checks._validate_host(headers.get("host")):
            return Response("Invalid Host header", status_code=421)
        if not checks._validate_origin(headers.get("origin")):
            return Response("Invalid Origin header", status_code=403)
        return None

    async def _who(self, scope: Scope, headers: Headers, session: str | None) -> str:
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        if self.verifier is not None and scheme.lower() == "bearer" and credential.strip():
            token = await self.verifier.verify_token(credential.strip())
            if token is not None:
                return token.client_id
        elif self.verifier is None and session:
            return f"session:{session}"
        client = scope.get("client")
        return f"addr:{client[0] if client else 'unknown'}"

    async def _rate(self, scope: Scope, headers: Headers, session: str | None) -> Response | None:
        who = await self._who(scope, headers, session)
        try:
            count = await self.runtime.gate.store.hit(f"rate:{who}", RATE_WINDOW)
        except Exception as exc:  # the limiter must not take the server down with the store; the gate will say
            if not self._warned:
                log.warning("rate limit not counted: the state store is unavailable (%s)", type(exc).__name__)
                self._warned = True
            return None
        self._warned = False
        if count <= self.limit:
            return None
        _, ends = window_of(time.time(), RATE_WINDOW)
        retry = max(1, int(ends - time.time()) + 1)
        body = {
            "error": "rate_limited",
            "error_description": f"More than {self.limit} requests in a minute for this client; retry in {retry} "
            "s. The server's operator sets the limit with --rate-limit.",
            "retry_after": retry,
        }
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry)})


async def readiness(runtime: Runtime) -> tuple[bool, dict[str, str]]:
    """Whether this replica can do its work: the state store answers and every enabled account is reachable.

    The answer names components only (``state``, ``platforms``): no file path, Redis address or account name,
    since anyone who reaches the port may read it. What failed, and where, goes to the log at DEBUG."""
    import httpx

    checks: dict[str, str] = {}
    try:
        store = runtime.gate.store
        await store.ping()
        checks["state"] = "ok"
    except Exception as exc:
        log.debug("readyz: state store %s", str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__)
        checks["state"] = "unavailable"
    unreachable = 0
    for account in runtime.settings.accounts:
        if account.sandbox:
            continue
        try:  # any HTTP answer means reachable; no credential is sent
            async with httpx.AsyncClient(timeout=3.0, follow_redirects=False) as client:
                await client.head(account.url)
        except httpx.HTTPError as exc:
            unreachable += 1
            log.debug("readyz: %s/%s unreachable (%s)", account.provider, account.name, type(exc).__name__)
    total = len(runtime.settings.accounts)
    checks["platforms"] = f"unreachable: {unreachable} of {total} accounts" if unreachable else "ok"
    ready = all(v == "ok" for v in checks.values())
    return ready, checks


def _add_readyz(server: MCPServer, runtime: Runtime) -> None:
    @server.custom_route("/readyz", methods=["GET"])  # type: ignore[untyped-decorator]
    async def readyz(_request: Request) -> Response:
        ready, checks = await readiness(runtime)
        return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503)


def load_verifier(options: HttpOptions) -> TokenFile | None:
    path = options.auth_tokens or os.environ.get(TOKENS_ENV) or None
    verifier = TokenFile.load(path) if path else None
    if verifier is None and not is_loopback(options.host):
        raise ConfigError(
            f"--host {options.host} is not a loopback address, and serving it without authentication would let "
            f"anyone who can reach the port act on your accounts. {AUTH_HINT}"
        )
    return verifier


def build_http_app(settings: Settings, options: HttpOptions, runtime: Runtime | None = None) -> ASGIApp:
    """The whole HTTP application: the MCP endpoint behind auth and the guards, /healthz, /readyz."""
    from jobs_mcp.app import build_server

    verifier = load_verifier(options)
    if settings.state and settings.state.startswith(("redis://", "rediss://")) and settings.gate_key is None:
        raise ConfigError(
            "--state redis://… is for replicas, which need one shared signing key: set JOBS_MCP_GATE_KEY (a long "
            "random string, the same on every replica, e.g. `openssl rand -hex 32`) and start again."
        )
    runtime = runtime or Runtime(settings)
    display = f"[{options.host}]" if ":" in options.host else options.host
    server_security = _server_security(verifier, settings, f"http://{display}:{options.port}")
    server = build_server(settings, runtime, **server_security)
    _add_readyz(server, runtime)
    security = transport_security(options)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=options.stateless,
        max_request_body_size=options.max_body,
        session_idle_timeout=options.session_idle_timeout,
        max_sessions=options.max_sessions,
        transport_security=security,
        host=options.host,
    )
    return Guard(app, runtime=runtime, verifier=verifier, limit=options.rate_limit, security=security)


def _no_query(record: logging.LogRecord) -> bool:
    """uvicorn's access lines without query strings: an approval link's secret (``?s=…``) stays out of logs."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
        record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
    return True


def url_host(host: str) -> str:
    """A bind address as a URL writes it (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def endpoint_url(options: HttpOptions) -> str:
    return f"http://{url_host(options.host)}:{options.port}{MCP_PATH}"


def principals_line(options: HttpOptions, tokens: bool) -> str:
    """Who owns a proposal over this server, said once at start."""
    if tokens:
        return "each bearer token's name; a proposal is seen and confirmed only with its own token."
    own = (
        "is a principal of its own: no client lists, confirms or cancels another's proposals, and a confirmation id "
        "is never handed out (it could not be confirmed); approve by being asked or on the approval page, or give "
        "clients tokens with --auth-tokens."
    )
    if options.stateless:
        return f"no tokens and no sessions, so each request {own}"
    return f"each MCP session; a request without one (no tokens; every 2026-07-28 request) {own}"


def serve_http(settings: Settings, options: HttpOptions) -> None:
    import uvicorn

    app = build_http_app(settings, options)
    auth = "bearer tokens" if (options.auth_tokens or os.environ.get(TOKENS_ENV)) else "none (loopback only)"
    mode = "stateless" if options.stateless else "sessions"
    print(
        f"jobs-mcp: serving MCP on {endpoint_url(options)} ({mode}; auth: {auth}; "
        f"rate limit {options.rate_limit or 'off'}/min per principal); /healthz, /readyz",
        file=sys.stderr,
    )
    if options.stateless:
        print(
            "jobs-mcp: --stateless: 2025-era clients cannot be asked to approve through elicitation (there is no "
            "session to ask them on), so their approvals fall back to confirmation ids (confirm_action). "
            "Modern (2026-07-28) clients are still asked.",
            file=sys.stderr,
        )
    print(f"jobs-mcp: principals: {principals_line(options, auth.startswith('bearer'))}", file=sys.stderr)
    # uvicorn logs through our stderr handler (scrubbed, one format) at the configured --log-level: nothing per
    # request at the default WARNING; at INFO and DEBUG one access line per request, query strings left out.
    logging.getLogger("uvicorn.access").addFilter(_no_query)
    # uvicorn lets in-flight requests finish on SIGTERM; pending proposals already live in the state store.
    uvicorn.run(
        app,
        host=options.host.strip("[]"),
        port=options.port,
        log_config=None,
        log_level=logging.getLogger().getEffectiveLevel(),
        timeout_graceful_shutdown=30,
        server_header=False,
    )
