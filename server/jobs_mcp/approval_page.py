"""Approval channel 2: a page the server serves itself, where the person approves or declines a proposal.

``/approve/<nonce>?s=<secret>``: GET shows the whole proposal, POST (a plain form) approves or declines it.
The secret is per proposal and stored hashed (``Gate.issue_page``). Over ``--http`` the route lives on the
server's own origin (``app.py``); over stdio a small loopback-only HTTP server is started inside the MCP
server's lifespan the first time a write needs it, so start-up is unchanged.

Behind auth (``serve --http --auth-tokens``) the page also requires the person to be signed in as the proposal's
principal. A browser cannot send the bearer header, so a GET without a session shows a sign-in form (a password
field for the person's access token) that POSTs to ``/approve/<nonce>/sign-in?s=<secret>``; the token is checked
with the same ``TokenFile`` and forgotten, and a cookie holding only ``principal:expiry:HMAC`` (keyed from the
gate's signing key, so replicas sharing JOBS_MCP_GATE_KEY share it) is set, ``HttpOnly; SameSite=Strict;
Path=/approve`` (``Secure`` over https). Approve and Decline then need that cookie *and* its principal to be the
proposal's; anything else is refused with nothing sent. CSRF: besides ``SameSite=Strict``, a POST whose
``Sec-Fetch-Site`` is not same-origin (or ``none``) is refused; without that header, one whose ``Origin`` is not
this request's own host is.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, quote, urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from jobs_mcp.approvers import person_of
from jobs_mcp.confirmation import ConfirmationRefused
from jobs_mcp.errors import ApiError
from jobs_mcp.page_html import HEADERS, ProofAsk, message_page, outcome_page, proposal_page, sign_in_page
from jobs_mcp.passkeys import Origin
from jobs_mcp.person_proof import ProofRefused, enroll_hint

if TYPE_CHECKING:
    import uvicorn
    from anyio.abc import TaskGroup
    from mcp.server.auth.provider import TokenVerifier
    from starlette.types import ASGIApp

    from jobs_mcp.gate import Gate

log = logging.getLogger(__name__)

PageMode = Literal["auto", "off"]
PATH = "/approve/{nonce}"
SIGN_IN_PATH = "/approve/{nonce}/sign-in"
MAX_FORM = 16384  # bytes of a POSTed form: a decision, the secret and a passkey's answer or a passphrase
COOKIE = "jobs_mcp_page"
COOKIE_PATH = "/approve"
SESSION_SECONDS = 8 * 3600
SIGN_IN_LIMIT = 20  # sign-in attempts a minute per client address
SIGN_IN_WINDOW = 60.0


def _html(text: str, status: int = 200) -> Response:
    return HTMLResponse(text, status_code=status, headers=HEADERS)


def _refused(exc: ConfirmationRefused) -> Response:
    text = str(exc)
    status = 409 if "already decided" in text else 403 if "not valid" in text else 404
    title = {409: "Already decided", 403: "Link not valid", 404: "Not available"}[status]
    return _html(message_page(title, text), status)


def _origin(request: Request) -> Origin:
    """The page's origin as the browser sees it (the Host header is checked by the server's host rules)."""
    return Origin(f"{request.url.scheme}://{request.headers.get('host', '')}")


async def read_form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            break
    fields = parse_qs(body[:MAX_FORM].decode("utf-8", "replace"), max_num_fields=8)
    return {k: v[0] for k, v in fields.items()}


class Sessions:
    """The page's sign-in sessions: a cookie value ``principal:expiry:mac``, never the token."""

    def __init__(self, gate: Gate, clock: Callable[[], float] = time.time) -> None:
        self.gate = gate
        self.clock = clock

    def _mac(self, principal: str, expires: int) -> str:
        key = self.gate.signer.derive("approval-page-session/v1")
        mac = hmac.new(key, f"{principal}\x1f{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self, principal: str) -> str:
        expires = int(self.clock()) + SESSION_SECONDS
        return f"{principal}:{expires}:{self._mac(principal, expires)}"

    def principal(self, value: str | None) -> str | None:
        """The signed-in principal of a cookie value, or None (missing, forged, expired)."""
        if not value or value.count(":") != 2:
            return None
        principal, expires, mac = value.split(":")
        if not expires.isdigit() or int(expires) < self.clock():
            return None
        return principal if hmac.compare_digest(mac, self._mac(principal, int(expires))) else None


def _cross_site(request: Request) -> bool:
    """CSRF guard for POSTs: refused when the browser says the form came from elsewhere."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:  # a modern browser says where the form came from; trust that over Origin vs Host
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def page_handler(
    gate: Gate, verifier: TokenVerifier | None = None, public_url: str | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for ``PATH`` (GET shows, POST decides). With ``verifier`` (the server's access
    tokens), only the proposal's principal, signed in, may see and decide it."""
    sessions = Sessions(gate)

    def where(request: Request) -> Origin:
        """The origin the person's browser is on: the public URL behind a proxy, else this request's own."""
        if public_url:
            parts = urlsplit(public_url)
            return Origin(f"{parts.scheme}://{parts.netloc}")
        return _origin(request)

    def signed_in(request: Request) -> str | None:
        return sessions.principal(request.cookies.get(COOKIE))

    def sign_in(nonce: str, secret: str, note: str = "", status: int = 200) -> Response:
        action = f"/approve/{quote(nonce, safe='')}/sign-in?s={quote(secret, safe='')}"
        return _html(sign_in_page(action, note), status)

    def not_theirs(who: str) -> str:
        return (
            f"You are signed in as {who}, but this proposal was made by another client. Nothing was sent. Sign in "
            "with the access token of the client that proposed it."
        )

    async def approve_page(request: Request) -> Response:
        nonce = request.path_params["nonce"]
        if request.method == "GET":
            secret = request.query_params.get("s", "")
            try:
                record = await gate.page_record(nonce, secret)
            except ConfirmationRefused as exc:
                return _refused(exc)
            if verifier is not None:
                viewer = signed_in(request)
                if viewer is None:
                    return sign_in(nonce, secret)
                if viewer != record.get("principal"):
                    return sign_in(nonce, secret, not_theirs(viewer), 403)
            proof = None
            if gate.record_needs_proof(record):
                approver = gate.people.approver(record.get("principal", ""))
                proof = ProofAsk(
                    passkey_options=gate.people.page_options(gate.signer, record, where(request)),
                    passphrase=approver.passphrase is not None,
                    enroll_hint=enroll_hint(person_of(record.get("principal", ""))),
                )
            return _html(proposal_page(gate.page_view(record), f"/approve/{nonce}", secret, proof))
        if verifier is not None and _cross_site(request):
            return _html(message_page("Nothing was sent", "This form was not sent from this page."), 403)
        form = await read_form(request)
        secret = form.get("s") or request.query_params.get("s", "")
        who: str | None = None
        try:
            record = await gate.page_record(nonce, secret)
            if verifier is not None:
                who = signed_in(request)
                if who is None:
                    return sign_in(nonce, secret, "Sign in first. Nothing was sent.", 403)
                if who != record.get("principal"):
                    return sign_in(nonce, secret, not_theirs(who), 403)
            if form.get("decision") == "approve":
                proven = None
                if gate.record_needs_proof(record):
                    assertion, passphrase = form.get("assertion", ""), form.get("passphrase", "")
                    browser = where(request)
                    proven = await gate.people.verify(gate.signer, gate.store, record, browser, assertion, passphrase)
                result = await gate.approve_on_page(nonce, secret, proven, signed_in=who)
            elif form.get("decision") == "decline":
                result = await gate.decline_on_page(nonce, secret)
            else:
                return _html(message_page("Nothing was sent", "Choose Approve or Decline on the page."), 400)
        except ProofRefused as exc:
            gate.proof_refused(record, str(exc))
            return _html(message_page("Not approved", str(exc)), 403)
        except ConfirmationRefused as exc:
            return _refused(exc)
        except ApiError as exc:  # reading the target failed before anything was sent
            return _html(message_page("Nothing was sent", f"The platform could not be read: {exc}"), 502)
        return _html(outcome_page(result))

    return approve_page


def sign_in_handler(gate: Gate, verifier: TokenVerifier) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for ``SIGN_IN_PATH`` (POST): checks the access token, sets the session cookie and
    sends the browser back to the page. The token goes nowhere: not in a page, a log, the redirect or the cookie."""
    sessions = Sessions(gate)

    async def page_sign_in(request: Request) -> Response:
        nonce = request.path_params["nonce"]
        if _cross_site(request):
            return _html(message_page("Not signed in", "This form was not sent from this page."), 403)
        form = await read_form(request)
        secret = request.query_params.get("s") or form.get("s", "")
        try:
            await gate.page_record(nonce, secret)  # a valid link first: no token checks without one
        except ConfirmationRefused as exc:
            return _refused(exc)
        action = f"/approve/{quote(nonce, safe='')}/sign-in?s={quote(secret, safe='')}"
        client = request.client.host if request.client else "unknown"
        try:
            tries = await gate.store.hit(f"page-sign-in:{client}", SIGN_IN_WINDOW)
        except Exception:  # the store is down: the gate will say so on the next step
            tries = 0
        if tries > SIGN_IN_LIMIT:
            return _html(sign_in_page(action, "Too many sign-in attempts; wait a minute and try again."), 429)
        token = await verifier.verify_token(form.get("token", "").strip())
        if token is None:
            return _html(sign_in_page(action, "That access token is not valid here. Nothing was sent."), 403)
        page = f"/approve/{quote(nonce, safe='')}?s={quote(secret, safe='')}"
        response = RedirectResponse(page, status_code=303, headers=HEADERS)
        response.set_cookie(
            COOKIE,
            sessions.issue(token.client_id),
            max_age=SESSION_SECONDS,
            path=COOKIE_PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    return page_sign_in


def _named(origin: str) -> str:
    """A loopback origin by name (``localhost``): browsers allow passkeys on a host name, never on an IP address."""
    parts = urlsplit(origin)
    if parts.hostname in ("127.0.0.1", "::1"):
        return f"{parts.scheme}://localhost" + (f":{parts.port}" if parts.port else "")
    return origin


def quiet_server(app: ASGIApp) -> uvicorn.Server:
    """uvicorn's server without its signal handlers (the MCP server owns Ctrl-C) and without its log setup
    (stdout is the protocol over stdio)."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield

    return Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", log_level="warning"))


class ApprovalPages:
    """Where the approval page is: the server's own HTTP origin, or a loopback server started on first need."""

    def __init__(self, gate: Gate, mode: PageMode = "auto", *, port: int = 0, public_url: str | None = None) -> None:
        self.gate = gate
        self.mode = mode
        self.port = port  # the loopback page's port under stdio (0: any free one)
        self.public_url = public_url.rstrip("/") if public_url else None  # the page's address behind a proxy
        self._group: TaskGroup | None = None
        self._local: str | None = None
        self._server: uvicorn.Server | None = None
        self._lock: anyio.Lock | None = None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def attach(self, group: TaskGroup) -> None:
        """The MCP server's lifespan task group, where a loopback page server may run."""
        self._group = group

    def detach(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._group, self._local, self._server = None, None, None

    async def base_url(self, origin: str | None) -> str | None:
        """The base URL of the page: ``origin`` when the MCP server is on HTTP, else the loopback server
        (started now if need be). None when the page is off or cannot be served here."""
        if not self.enabled:
            return None
        if self.public_url:
            return self.public_url
        if origin:
            return _named(origin.rstrip("/"))
        if self._local is not None:
            return self._local
        if self._group is None:
            return None
        self._lock = self._lock or anyio.Lock()
        async with self._lock:
            if self._local is None:
                self._local = await self._start(self._group)
        return self._local

    async def _start(self, group: TaskGroup) -> str | None:
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware
        from starlette.routing import Route

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError as exc:
            sock.close()
            log.warning("the approval page cannot listen on 127.0.0.1:%s (%s); ids are used instead", self.port, exc)
            return None
        port = sock.getsockname()[1]
        app = Starlette(
            routes=[Route(PATH, page_handler(self.gate), methods=["GET", "POST"])],
            middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])],
        )
        server = quiet_server(app)

        async def serve() -> None:
            try:
                await server.serve([sock])
            finally:  # the lifespan cancels this before uvicorn's own shutdown: close what it listens on
                for listener in getattr(server, "servers", []):
                    listener.close()
                sock.close()

        group.start_soon(serve)
        with anyio.move_on_after(5):
            while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await anyio.sleep(0.01)
        if not server.started:
            log.warning("the approval page server did not start; proposals fall back to confirmation ids")
            server.should_exit = True
            return None
        self._server = server
        url = f"http://localhost:{port}"  # a host name, not an IP: passkeys work only on a named host
        log.info("approval page served on %s (loopback only)", url)
        return url
