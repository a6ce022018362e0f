"""Fault injection and hit counting for the simulator: a ``FaultInjector``, the ASGI middleware that applies it,
the ``/_sandbox/...`` control routes, and the parser of ``--fault`` specs.

A fault matches a method and a path glob (``fnmatch``: ``*`` also crosses ``/``) and applies to the next ``times``
requests (all of them when ``times`` is None), after letting the first ``skip`` of them pass untouched; the first
matching fault still in force wins. Kinds:
- ``status``: that HTTP status with a v2 error body (and ``Retry-After`` when ``retry_after`` is given);
- ``latency``: wait that many seconds first (then the rest of the fault, or the normal answer);
- ``drop``: the connection closes halfway through the answer. ``True``/``"after"``: the request is handled
  (a write takes effect) and its answer cut short; ``"before"``: the request is never handled;
- ``body="malformed"``: truncated JSON (status 200 unless given); ``body="html"``: a proxy's HTML error page
  (status 502 unless given); ``body="garbled"``: the request is handled (a write takes effect) and its answer
  keeps its status, but its body arrives as truncated JSON.
Every request that reaches the app is counted, faulted or not; the control routes are neither counted nor
faulted and need no token.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from http import HTTPStatus
from typing import Any, Literal, NoReturn

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/_sandbox/"
Body = Literal["json", "malformed", "html", "garbled"]
Drop = bool | Literal["before", "after"]
# A simulator's own error body: (status, message, extra headers) -> the response its platform would send.
ErrorBody = Callable[[int, str, dict[str, str] | None], Response]
_MALFORMED = b'{"data": [{"id": "4f2a9c0e1b7d4e6a8c3f5b2d9e0a1c7b", "name": "Facebook high-val'


class ConnectionDropped(Exception):
    """Raised mid-answer by a ``drop`` fault: uvicorn then closes the connection, SandboxTransport maps it."""


@dataclass(frozen=True)
class Fault:
    method: str
    path_glob: str
    status: int | None = None
    retry_after: float | None = None
    latency: float = 0.0
    drop: Drop = False
    body: Body = "json"
    times: int | None = None
    skip: int = 0  # matching requests let through untouched before the fault applies (e.g. a log's second page)

    def __post_init__(self) -> None:
        if not self.path_glob.startswith("/"):
            raise ValueError(f"path glob {self.path_glob!r} must start with /")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status {self.status} is not an HTTP status (100-599)")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be 0 or more seconds")
        if self.latency < 0:
            raise ValueError("latency must be 0 or more seconds")
        if self.drop not in (True, False, "before", "after"):
            raise ValueError(f"drop must be true, false, 'before' or 'after', not {self.drop!r}")
        if self.body not in ("json", "malformed", "html", "garbled"):
            raise ValueError(f"body must be json, malformed, html or garbled, not {self.body!r}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be 1 or more (leave it out for every request)")
        if self.skip < 0:
            raise ValueError("skip must be 0 or more requests")
        if self.status is None and not self.latency and not self.drop and self.body == "json":
            raise ValueError("the fault does nothing: give status, latency, drop or body")

    def matches(self, method: str, path: str) -> bool:
        return fnmatch.fnmatchcase(method.upper(), self.method.upper()) and fnmatch.fnmatchcase(path, self.path_glob)


class FaultInjector:
    """Faults to inject and requests seen; safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._hits: Counter[tuple[str, str]] = Counter()

    def add(
        self,
        method: str,
        path_glob: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        latency: float = 0.0,
        drop: Drop = False,
        body: Body = "json",
        times: int | None = None,
        skip: int = 0,
    ) -> None:
        fault = Fault(method, path_glob, status, retry_after, latency, drop, body, times, skip)
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take(self, method: str, path: str) -> Fault | None:
        """Count the request and return the fault to apply to it (using up one of its ``times``)."""
        with self._lock:
            self._hits[method.upper(), path] += 1
            for i, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    if fault.skip:
                        self._faults[i] = replace(fault, skip=fault.skip - 1)
                        continue
                    if fault.times is not None:
                        left = fault.times - 1
                        if left:
                            self._faults[i] = replace(fault, times=left)
                        else:
                            del self._faults[i]
                    return fault
        return None

    def hits(self, method: str | None = None, path_glob: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (m, p), n in self._hits.items()
                if (method is None or fnmatch.fnmatchcase(m, method.upper()))
                and (path_glob is None or fnmatch.fnmatchcase(p, path_glob))
            )

    def reset_hits(self) -> None:
        with self._lock:
            self._hits.clear()


class FaultMiddleware:
    """Pure ASGI middleware: counts each request and applies the injector's faults to it."""

    def __init__(self, app: ASGIApp, faults: FaultInjector, error_body: ErrorBody) -> None:
        self.app = app
        self.faults = faults
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.latency:
            await anyio.sleep(fault.latency)
        if fault.drop:
            await self._drop(fault, scope, receive, send)
        if fault.body == "garbled":
            await self._garble(scope, receive, send)
            return
        response = self._response(fault)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    def _response(self, fault: Fault) -> Response | None:
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
        if fault.body == "malformed":
            return Response(_MALFORMED, fault.status or 200, headers, media_type="application/json")
        if fault.body == "html":
            status = fault.status or 502
            phrase = f"{status} {_phrase(status)}"
            page = f"<html><head><title>{phrase}</title></head><body><h1>{phrase}</h1>"
            page += "<p>The gateway got no valid answer from the upstream server.</p></body></html>"
            return Response(page, status, headers, media_type="text/html")
        if fault.status is not None:
            message = f"{_phrase(fault.status)} (fault injected by the sandbox)"
            return self.error_body(fault.status, message, headers)
        return None

    async def _garble(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app handle the request, then send its status with a broken body (a 2xx that cannot be read)."""
        sent: list[Message] = []

        async def capture(message: Message) -> None:
            sent.append(message)

        await self.app(scope, receive, capture)
        headers = [(k, v) for k, v in sent[0].get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", b"%d" % len(_MALFORMED)))
        await send({"type": "http.response.start", "status": sent[0]["status"], "headers": headers})
        await send({"type": "http.response.body", "body": _MALFORMED})

    async def _drop(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> NoReturn:
        status, headers, body = 200, [(b"content-type", b"application/json")], b'{"data": [{"id": "3a6c9e2b5d8f'
        if fault.drop != "before":
            sent: list[Message] = []

            async def capture(message: Message) -> None:
                sent.append(message)

            await self.app(scope, receive, capture)
            status, headers = sent[0]["status"], list(sent[0].get("headers", []))
            body = b"".join(m.get("body", b"") for m in sent[1:])
        length = max(len(body), 2)
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", b"%d" % length)],
            }
        )
        await send({"type": "http.response.body", "body": body[: length // 2], "more_body": True})
        raise ConnectionDropped(f"sandbox dropped the connection during {scope['method']} {scope['path']}")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- control over HTTP ----------------------------------------------------------------------------------------


def admin_routes(faults: FaultInjector) -> list[Route]:
    """``/_sandbox/faults`` (POST adds, DELETE clears, GET lists) and ``/_sandbox/hits`` (GET, POST .../reset)."""

    async def add_fault(request: Request) -> Response:
        try:
            spec = await request.json()
            faults.add(**spec)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": f"bad fault: {exc}"}, status_code=400)
        return JSONResponse({"faults": faults.active()}, status_code=201)

    async def list_faults(_request: Request) -> Response:
        return JSONResponse({"faults": faults.active()})

    async def clear_faults(_request: Request) -> Response:
        faults.clear()
        return JSONResponse({"faults": []})

    async def hits(request: Request) -> Response:
        q = request.query_params
        return JSONResponse({"hits": faults.hits(q.get("method") or None, q.get("path") or None)})

    async def reset_hits(_request: Request) -> Response:
        faults.reset_hits()
        return JSONResponse({"hits": 0})

    return [
        Route(ADMIN_PREFIX + "faults", add_fault, methods=["POST"]),
        Route(ADMIN_PREFIX + "faults", list_faults, methods=["GET"]),
        Route(ADMIN_PREFIX + "faults", clear_faults, methods=["DELETE"]),
        Route(ADMIN_PREFIX + "hits", hits, methods=["GET"]),
        Route(ADMIN_PREFIX + "hits/reset", reset_hits, methods=["POST"]),
    ]


# --- --fault specs -----------------------------------------------------------------------------------------------

_PARSERS: dict[str, Callable[[str], Any]] = {
    "status": int,
    "retry_after": float,
    "latency": float,
    "times": int,
    "skip": int,
    "body": str,
    "drop": lambda v: {"true": True, "1": True, "false": False, "0": False}.get(v.lower(), v.lower()),
}


def parse_fault_spec(spec: str) -> tuple[str, str, dict[str, Any]]:
    """``'METHOD /path/glob:key=value,...'`` → ``(method, path_glob, add() keyword arguments)``.

    Keys: status, retry_after, latency, drop (bare ``drop`` means true), body (json|malformed|html), times, skip.
    Example: ``GET /v2/job/*/logs:status=429,retry_after=1,times=2``.
    """
    head, _, options = spec.partition(":")
    parts = head.split()
    if len(parts) != 2:
        raise ValueError("expected 'METHOD /path/glob:key=value,...', e.g. 'GET /v2/job:status=503'")
    method, glob = parts
    if not (method.isalpha() or method == "*"):
        raise ValueError(f"method {method!r} should be a word such as GET or POST, or *")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (o.strip() for o in options.split(","))):
        key, eq, value = (s.strip() for s in item.partition("="))
        if key not in _PARSERS:
            raise ValueError(f"unknown key {key!r}; use {', '.join(_PARSERS)}")
        if not eq and key != "drop":
            raise ValueError(f"{key} needs a value, e.g. {key}=...")
        try:
            kwargs[key] = _PARSERS[key](value if eq else "true")
        except ValueError:
            raise ValueError(f"{key}={value!r} is not a valid {key}") from None
    Fault(method.upper(), glob, **kwargs)  # the same checks add() makes, raised now
    return method.upper(), glob, kwargs
