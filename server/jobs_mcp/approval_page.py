"""Approval channel 2: a page the server serves itself, where the person approves or declines a proposal.

``/approve/<nonce>?s=<secret>``: GET shows the whole proposal, POST (a plain form) approves or declines it.
The secret is per proposal and stored hashed (``Gate.issue_page``). Over ``--http`` the route lives on the
server's own origin (``app.py``); over stdio a small loopback-only HTTP server is started inside the MCP
server's lifespan the first time a write needs it, so start-up is unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from jobs_mcp.confirmation import ConfirmationRefused
from jobs_mcp.errors import ApiError
from jobs_mcp.page_html import HEADERS, message_page, outcome_page, proposal_page

if TYPE_CHECKING:
    import uvicorn
    from anyio.abc import TaskGroup
    from starlette.types import ASGIApp

    from jobs_mcp.gate import Gate

log = logging.getLogger(__name__)

PageMode = Literal["auto", "off"]
PATH = "/approve/{nonce}"
MAX_FORM = 4096  # bytes of a POSTed form: a decision, the secret and a short code


def _html(text: str, status: int = 200) -> Response:
    return HTMLResponse(text, status_code=status, headers=HEADERS)


def _refused(exc: ConfirmationRefused) -> Response:
    text = str(exc)
    status = 409 if "already decided" in text else 403 if "not valid" in text else 404
    title = {409: "Already decided", 403: "Link not valid", 404: "Not available"}[status]
    if "did not match" in text:
        status, title = 400, "Wrong code"
    return _html(message_page(title, text), status)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            break
    fields = parse_qs(body[:MAX_FORM].decode("utf-8", "replace"), max_num_fields=8)
    return {k: v[0] for k, v in fields.items()}


def page_handler(gate: Gate) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for ``PATH`` (GET shows, POST decides)."""

    async def approve_page(request: Request) -> Response:
        nonce = request.path_params["nonce"]
        if request.method == "GET":
            secret = request.query_params.get("s", "")
            try:
                record = await gate.page_record(nonce, secret)
            except ConfirmationRefused as exc:
                return _refused(exc)
            typed = gate.record_challenge(record) if _typed(gate, record["tool"]) else None
            return _html(proposal_page(gate.page_view(record), f"/approve/{nonce}", secret, typed))
        form = await _form(request)
        secret = form.get("s") or request.query_params.get("s", "")
        try:
            if form.get("decision") == "approve":
                result = await gate.approve_on_page(nonce, secret, form.get("code", ""))
            elif form.get("decision") == "decline":
                result = await gate.decline_on_page(nonce, secret)
            else:
                return _html(message_page("Nothing was sent", "Choose Approve or Decline on the page."), 400)
        except ConfirmationRefused as exc:
            return _refused(exc)
        except ApiError as exc:  # reading the target failed before anything was sent
            return _html(message_page("Nothing was sent", f"The platform could not be read: {exc}"), 502)
        return _html(outcome_page(result))

    return approve_page


def _typed(gate: Gate, tool: str) -> bool:
    write = gate._ops[tool].write
    return write is not None and write.typed_confirmation


def _quiet_server(app: ASGIApp) -> uvicorn.Server:
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

    def __init__(self, gate: Gate, mode: PageMode = "auto") -> None:
        self.gate = gate
        self.mode = mode
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
        if origin:
            return origin.rstrip("/")
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
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        app = Starlette(
            routes=[Route(PATH, page_handler(self.gate), methods=["GET", "POST"])],
            middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])],
        )
        server = _quiet_server(app)
        group.start_soon(server.serve, [sock])
        with anyio.move_on_after(5):
            while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await anyio.sleep(0.01)
        if not server.started:
            log.warning("the approval page server did not start; proposals fall back to confirmation ids")
            server.should_exit = True
            return None
        self._server = server
        url = f"http://127.0.0.1:{port}"
        log.info("approval page served on %s (loopback only)", url)
        return url
