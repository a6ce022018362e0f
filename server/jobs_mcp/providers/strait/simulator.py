"""The Strait simulator: ``create_app()`` serves Strait's job API (strait-dev/strait @ac094a3) over a DocStore.

Routes (Strait's own paths; ``Authorization: Bearer <api key>``; every key belongs to ``seed.PROJECT_ID``):
- ``GET /v1/jobs`` (``slug``, ``tag_key``, ``tag_value``, ``limit``, ``cursor``), ``POST /v1/jobs`` (201),
  ``POST /v1/jobs/batch`` (201, body ``{"jobs": [...]}`` -> ``{created, errors?}``), ``POST /v1/jobs/batch-enable``
  and ``.../batch-disable`` (body ``{"ids": [...]}`` -> ``{"updated": n}``);
- ``GET|PATCH|DELETE /v1/jobs/{id}`` (DELETE 204; 409 while the job has queued/delayed/dequeued/executing/waiting
  runs), ``POST .../trigger`` (201), ``POST .../trigger/bulk`` (201), ``GET|POST .../dependencies``,
  ``DELETE .../dependencies/{dep_id}`` (204), ``GET .../versions``, ``GET .../versions/{version_id}``,
  ``POST .../clone`` (201), ``GET .../health`` (``window`` 1h|1d|7d|30d), ``POST .../pause``, ``POST .../resume``;
- ``GET /v1/runs`` (``status``, ``statuses``, ``tag_key``/``tag_value``, ``metadata_key``/``metadata_value``,
  ``triggered_by``, ``batch_id``, ``payload_contains``, ``execution_mode``, ``error_class``, ``limit``, ``cursor``),
  ``GET /v1/runs/{id}``, ``DELETE /v1/runs/{id}`` (cancel: 200 with the run), ``GET /v1/runs/{id}/events``
  (the run's log lines: ``level``, ``type``, ``limit``, ``cursor``);
- the ``/_sandbox/...`` fault and hit-count routes (no key).

Reproduced from Strait's source: the scope of each route (``jobs:read|write|trigger``, ``runs:read|write``, ``*``; a
key without scopes has full access) and 403 "insufficient permissions: requires <scope>"; 401 "invalid api key" for
an unknown ``Bearer strait_...`` key, else "invalid or missing internal secret" (Strait checks any other bearer
value, or none, as its internal secret); 406 when Accept excludes JSON and 415 for a non-JSON body, both with code
``internal_error`` (Strait's code table has no entry for them); error bodies ``{"error": {"code", "message",
"details"?}, "request_id"}`` with 5xx messages replaced by "internal server error"; bodies decoded leniently
(unknown fields ignored, null = not given), then the validate tags (422 "validation failed", details like "slug:
failed on 'required'"), then the handler's own 400/403/404/409 checks, in the server's order; pages ``{data,
next_cursor?, has_more}``, newest first, ``cursor`` = the last item's ``created_at`` (limit 50 by default, at most
100); the trigger answer ``{id, status, payload_hash, idempotency_hit}`` (201, not the run), disabled job -> 400
"job is disabled", paused -> 409 "job is paused -- resume it before triggering new runs"; the Idempotency-Key
middleware (create, batch, trigger, dependencies, clone) replaying a 2xx answer for the same key, caller and path
with ``Idempotency-Replayed: true``, and the trigger's own check (``X-Idempotency-Key``, else ``Idempotency-Key``):
a run of the job holding the key that is active or finished in the last 24 h -> 200 ``{id, status, idempotency_hit:
true}``, never a second run; the per-route limits (create 30/min, batch 10/min, trigger 10/min, bulk 5/min) with
httprate's sliding window and its plain-text 429 "Too Many Requests" (``Retry-After: 60``, ``X-RateLimit-*``);
payload-schema checks, ``dedup_window_secs``, dry runs, dependency gating (a triggered run whose dependencies'
latest matching terminal run misses the condition is ``waiting`` until they meet it); versions (each PATCH records
the previous version and bumps ``version``; pause, resume and batch enable do not); the health formula (dead_letter
runs are not counted; score -1 without runs); cancel -> 400 "run already in terminal state" for terminal runs
(dead_letter included), else ``canceled``, "canceled by user"; the events list's quirk: oldest first while its
cursor asks for *older* events.

Simplified or invented: rate limits are kept per API key (Strait keys them per client IP); a slug taken on PATCH or
clone and a duplicate dependency answer 500 (Strait's unique-index path, inferred); ``GET /v1/runs`` has no
``job_id`` filter (nor has Strait: it is ignored); cron jobs fire by themselves as the clock passes while enabled
and not paused (at most 50 missed firings caught up per job, runs enqueued up to 0.9 s after the firing); pausing or
disabling a job leaves its queued and running runs alone; execution windows, debounce/batch keys, plan quotas, the
project-wide rate limit, environments and DNS-based SSRF checks are not simulated; ``request_id`` values only look
like chi's; decoder error wording is approximate; changing a job's ``endpoint_url`` drops its seeded behaviour, so
its runs then succeed like any API-made job; everything ``seed.py`` lists as invented.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import random
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from jobs_mcp.providers.strait import seed as model
from jobs_mcp.providers.strait.seed import (
    ACTIVE,
    ALL_SCOPES,
    CRON_CATCH_UP,
    DEPENDENCY_FIELDS,
    EVENT_FIELDS,
    JOB_FIELDS,
    PROJECT_ID,
    RUN_FIELDS,
    SANDBOX_TOKENS,
    STATUSES,
    TERMINAL,
    VERSION_FIELDS,
    Attempt,
    parse_stamp,
    public,
    stamp,
)
from jobs_mcp.sandbox.auth import TokenAuth, lookup
from jobs_mcp.sandbox.docstore import Doc, DocStore
from jobs_mcp.sandbox.faults import ADMIN_PREFIX, FaultInjector, FaultMiddleware, admin_routes

Clock = Callable[[], datetime]
CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "validation_failed",
    429: "rate_limited",
    503: "service_unavailable",
}
BASE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "X-API-Version": "v1"}
RATE_LIMITS = {"create": 30, "batch": 10, "trigger": 10, "bulk": 5}  # requests per minute per route and key
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
MAX_BATCH, MAX_BULK_ITEMS, MAX_KEY = 50, 500, 256
MAX_PAYLOAD = 5 * 1024 * 1024
IDEMPOTENCY_TTL = timedelta(hours=24)
FAILURE_STATUSES = frozenset({"failed", "timed_out", "crashed", "system_failed", "expired", "dead_letter"})
TRIGGER_ROUTE = "POST /v1/jobs/{jobID}/trigger"
ERROR_CLASSES = frozenset(
    {"rate_limited", "auth", "client", "server", "transient", "timeout", "oom", "connection", "budget", "unknown"}
)
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- wire format ---------------------------------------------------------------------------------------------


def go_json(value: Any) -> bytes:
    """JSON as Go's encoder writes it: compact, HTML characters escaped, newline-terminated."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028")):
        text = text.replace(raw, escaped)
    return (text.replace("\u2029", "\\u2029") + "\n").encode()


def respond(value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(go_json(value), status, {**BASE_HEADERS, **(headers or {})}, media_type="application/json")


def error_response(
    status: int,
    message: str,
    request_id: str,
    details: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    error: Doc = {"code": CODES.get(status, "internal_error"), "message": message}
    if details:
        error["details"] = list(details)
    body: Doc = {"error": error}
    if request_id:
        body["request_id"] = request_id
    return respond(body, status, headers)


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = "internal server error" if status >= 500 else message
        self.details = list(details or [])


class RawAnswer(Exception):
    """An answer outside the error envelope (batch create with nothing created, trigger idempotency hits)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"raw answer {status}")
        self.status = status
        self.body = body


def bad(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


# --- callers -------------------------------------------------------------------------------------------------


class Principal(NamedTuple):
    token: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        return "apikey:key_" + hashlib.sha256(self.token.encode()).hexdigest()[:16]

    def allows(self, scope: str) -> bool:
        return not self.scopes or "*" in self.scopes or scope in self.scopes


def _accepts_json(accept: str) -> bool:
    if accept in ("", "*/*", "application/json"):
        return True
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip()
        if media in ("application/json", "application/*", "application/x-ndjson", "text/csv", "*/*"):
            return True
    return False


class RequestIds:
    """Gives every request an id (the caller's ``X-Request-Id`` or the simulator's), as Strait's middleware does
    before anything can answer, so every error body carries it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._counter = 0
        self._prefix = secrets.token_hex(5)

    def _request_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"sandbox-strait/{self._prefix}-{self._counter:06d}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(ADMIN_PREFIX):
            request_id = Headers(scope=scope).get("x-request-id") or self._request_id()
            scope.setdefault("state", {})["request_id"] = request_id
        await self.app(scope, receive, send)


def _principals(tokens: Mapping[str, Iterable[str]] | None) -> Callable[[str], Principal | None]:
    """An API key -> its principal (scopes), None for an unknown key."""
    known = None if tokens is None else {t: frozenset(s) for t, s in tokens.items()}

    def principal(token: str) -> Principal | None:
        scopes = SANDBOX_TOKENS.get(token, ALL_SCOPES) if known is None else lookup(known, token)
        return None if scopes is None else Principal(token, scopes)

    return principal


def _refuse(scope: Scope, token: str) -> Response:
    """Strait tries a key only for "Bearer strait_..."; anything else is checked as its internal secret."""
    message = "invalid api key" if token.startswith("strait_") else "invalid or missing internal secret"
    return error_response(401, message, scope["state"]["request_id"])


class ContentChecks:
    """Strait's Accept and Content-Type checks, made after the key's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self._check(scope) if scope["type"] == "http" and not scope["path"].startswith(ADMIN_PREFIX) else None
        await (answer or self.app)(scope, receive, send)

    @staticmethod
    def _check(scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        request_id = scope["state"]["request_id"]
        if not _accepts_json(headers.get("accept", "")):
            return error_response(406, "this API only serves application/json", request_id)
        if scope["method"] in ("POST", "PUT", "PATCH"):
            kind = headers.get("content-type", "")
            length = headers.get("content-length", "")
            has_body = (length.isdigit() and int(length) > 0) or "chunked" in headers.get("transfer-encoding", "")
            if (has_body or kind) and kind.split(";", 1)[0].strip() != "application/json":
                return error_response(415, "Content-Type must be application/json", request_id)
        return None


class RateLimiter:
    """httprate's sliding window (current window count + the previous window's, weighted), per route and key."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[int, int, int]] = {}

    def hit(self, bucket: str, key: str, limit: int, window: int = 60) -> tuple[bool, dict[str, str]]:
        now = self.clock().timestamp()
        current = int(now // window) * window
        with self._lock:
            start, count, previous = self._windows.get((bucket, key), (current, 0, 0))
            if start != current:
                previous, count = (count if start == current - window else 0), 0
            rate = math.floor(previous * (window - (now - current)) / window + count + 0.5)
            headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Reset": str(current + window)}
            if rate + 1 > limit:
                self._windows[bucket, key] = (current, count, previous)
                return False, {**headers, "X-RateLimit-Remaining": str(limit - rate), "Retry-After": str(window)}
            self._windows[bucket, key] = (current, count + 1, previous)
            return True, {**headers, "X-RateLimit-Remaining": str(limit - rate - 1)}


def too_many(headers: Mapping[str, str]) -> Response:
    merged = {**BASE_HEADERS, **headers}
    return Response(b"Too Many Requests\n", 429, merged, media_type="text/plain; charset=utf-8")


# --- request bodies ------------------------------------------------------------------------------------------

S, N, B, M, INTS, STRS, RAW, TIME = "string", "int", "bool", "map[string]string", "[]int", "[]string", "raw", "time"

CREATE_TYPES: dict[str, str] = {
    "project_id": S, "group_id": S, "name": S, "slug": S, "description": S, "cron": S, "payload_schema": RAW,
    "tags": M, "endpoint_url": S, "endpoint_signing_secret": S, "webhook_secret": S, "fallback_endpoint_url": S,
    "max_attempts": N, "timeout_secs": N, "max_concurrency": N, "max_concurrency_per_key": N,
    "execution_window_cron": S, "timezone": S, "rate_limit_max": N, "rate_limit_window_secs": N,
    "dedup_window_secs": N, "run_ttl_secs": N, "retry_strategy": S, "retry_delays_secs": INTS,
    "retry_priority_boost": N, "environment_id": S, "version_policy": S, "default_run_metadata": M,
    "result_schema": RAW, "cron_overlap_policy": S, "debounce_window_secs": N, "batch_window_secs": N,
    "batch_max_size": N, "execution_mode": S, "enabled": B, "queue_name": S, "poison_pill_threshold": N,
    "on_complete_trigger_workflow": S, "on_complete_trigger_job": S, "on_complete_payload_mapping": RAW,
    "on_failure_trigger_job": S, "on_failure_trigger_workflow": S, "on_failure_payload_mapping": RAW,
}  # fmt: skip
UPDATE_TYPES = {k: v for k, v in CREATE_TYPES.items() if k != "project_id"} | {"backwards_compatible": B}
TRIGGER_TYPES = {
    "payload": RAW, "tags": M, "scheduled_at": TIME, "priority": N, "dry_run": B, "ttl_secs": N,
    "concurrency_key": S, "debounce_key": S, "batch_key": S,
}  # fmt: skip
BULK_ITEM_TYPES = {
    "payload": RAW, "scheduled_at": TIME, "priority": N, "idempotency_key": S, "tags": M, "ttl_secs": N,
    "concurrency_key": S,
}  # fmt: skip

Rules = tuple[tuple[str, tuple[str, ...]], ...]
_MIN0 = ("omitempty", "min=0")
CREATE_RULES: Rules = (
    ("project_id", ("required",)),
    ("name", ("required", "max=255")),
    ("slug", ("required", "max=255")),
    ("description", ("max=2000",)),
    ("endpoint_url", ("omitempty", "url")),
    ("endpoint_signing_secret", ("omitempty", "min=16", "max=4096")),
    ("webhook_secret", ("omitempty", "min=16", "max=4096")),
    ("fallback_endpoint_url", ("omitempty", "url")),
    ("max_attempts", ("omitempty", "min=1", "max=100")),
    ("timeout_secs", ("omitempty", "min=1")),
    ("max_concurrency", _MIN0),
    ("max_concurrency_per_key", _MIN0),
    ("rate_limit_max", _MIN0),
    ("rate_limit_window_secs", _MIN0),
    ("dedup_window_secs", _MIN0),
    ("run_ttl_secs", _MIN0),
    ("retry_strategy", ("omitempty", "oneof=exponential linear fixed custom")),
    ("retry_priority_boost", ("omitempty", "min=0", "max=10")),
    ("version_policy", ("omitempty", "oneof=pin latest minor")),
    ("cron_overlap_policy", ("omitempty", "oneof=allow skip cancel_running")),
    ("debounce_window_secs", _MIN0),
    ("batch_window_secs", _MIN0),
    ("batch_max_size", _MIN0),
    ("execution_mode", ("omitempty", "oneof=http worker")),
    ("poison_pill_threshold", ("omitempty", "min=1")),
)
UPDATE_RULES: Rules = tuple(r for r in CREATE_RULES if r[0] not in ("project_id", "name", "slug", "description"))
CREATE_POINTERS = frozenset({"enabled", "poison_pill_threshold"})
TRIGGER_RULES: Rules = (
    ("priority", ("min=0", "max=10")),
    ("ttl_secs", ("omitempty", "min=0", "max=2592000")),
    ("concurrency_key", ("max=256",)),
    ("debounce_key", ("max=256",)),
    ("batch_key", ("max=256",)),
)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _mismatch(value: Any, where: str, go_type: str) -> ApiError:
    kind = _json_kind(value)
    shown = f"number {value}" if kind == "number" else kind
    return bad(f"invalid request body: json: cannot unmarshal {shown} into Go struct field {where} of type {go_type}")


def _convert(value: Any, kind: str, where: str) -> Any:
    if kind == RAW:
        return value
    if kind in (S, TIME):
        if not isinstance(value, str):
            raise _mismatch(value, where, "time.Time" if kind == TIME else "string")
        if kind == TIME:
            try:
                return parse_stamp(value)
            except ValueError:
                detail = f'parsing time "\\"{value}\\"" as "\\"2006-01-02T15:04:05Z07:00\\""'
                raise bad(f"invalid request body: {detail}: cannot parse as RFC 3339") from None
        return value
    if kind == N:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _mismatch(value, where, "int")
        return value
    if kind == B:
        if not isinstance(value, bool):
            raise _mismatch(value, where, "bool")
        return value
    if kind in (INTS, STRS):
        if not isinstance(value, list):
            raise _mismatch(value, where, kind)
        return [_convert(v, N if kind == INTS else S, where) for v in value if v is not None]
    if not isinstance(value, dict):
        raise _mismatch(value, where, kind)
    for item in value.values():
        if not isinstance(item, str):
            raise _mismatch(item, where, "string")
    return dict(value)


def fields_of(obj: Mapping[str, Any], types: Mapping[str, str], struct: str) -> Doc:
    """The known, non-null fields of a decoded object, type-checked as Go's decoder would."""
    return {k: _convert(v, types[k], f"{struct}.{k}") for k, v in obj.items() if k in types and v is not None}


def decode(raw: bytes, go_type: str) -> Any:
    """The request body (an empty body decodes to an empty object, as Strait's decoder allows)."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        text = exc.doc.rstrip()
        reason = "unexpected EOF"
        if exc.pos < len(text):
            reason = f"invalid character {text[exc.pos]!r} looking for beginning of value"
        raise bad(f"invalid request body: {reason}") from None
    except UnicodeDecodeError:
        raise bad("invalid request body: invalid UTF-8") from None
    if not isinstance(value, dict):
        raise bad(
            f"invalid request body: json: cannot unmarshal {_json_kind(value)} into Go value of type api.{go_type}"
        )
    return value


def _tag_fails(tag: str, value: Any) -> bool:
    name, _, arg = tag.partition("=")
    size = len(value) if isinstance(value, (str, list, dict)) else value
    if name == "min":
        return bool(size < int(arg))
    if name == "max":
        return bool(size > int(arg))
    if name == "oneof":
        return str(value) not in arg.split()
    if name == "url":
        parts = urlsplit(str(value))
        return not (parts.scheme and parts.netloc)
    return False


def validate(values: Mapping[str, Any], rules: Rules, pointers: frozenset[str] | None = None) -> None:
    """go-playground/validator over the struct's tags: one failure per field, 422 listing them all.

    ``pointers`` names the pointer fields (None: all of them, as in an update) - a pointer left out is skipped by
    ``omitempty`` while a zero value it points at is still checked.
    """
    details = []
    for field, tags in rules:
        pointer = pointers is None or field in pointers
        value = values.get(field)
        for tag in tags:
            if tag == "required":
                if value is None or (not pointer and value in ("", 0)):
                    details.append(f"{field}: failed on 'required'")
                    break
                continue
            if tag == "omitempty":
                if value is None or (not pointer and not value):
                    break
                continue
            if _tag_fails(tag, value if value is not None else ""):
                details.append(f"{field}: failed on '{tag.partition('=')[0]}'")
                break
    if details:
        raise ApiError(422, "validation failed", details)


# --- checks shared by create, update and clone ---------------------------------------------------------------


def check_endpoint(url: str, field: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        problem = "url must use http or https scheme"
    elif not parts.netloc:
        problem = "url must have a host"
    else:
        try:
            address = ipaddress.ip_address((parts.hostname or "").strip("[]"))
        except ValueError:
            return
        if address.is_loopback or address.is_private or address.is_link_local:
            problem = "url must not point to private or loopback addresses"
        else:
            return
    raise bad(f"invalid {field}: {problem}")


def check_endpoint_present(url: str) -> None:
    if not url.strip():
        raise bad("endpoint_url is required")
    if len(url) > 2048:
        raise bad("endpoint_url too long (max 2048 characters)")


def check_cron(expr: str | None, message: str) -> None:
    if not expr:
        return
    count = model.cron_field_count(expr)
    if count != 5:
        raise bad(
            f"cron expression must have exactly 5 fields (minute hour day-of-month month day-of-week), got {count}"
        )
    try:
        model.parse_cron(expr)
    except ValueError:
        raise bad(message) from None


def check_tags(tags: Mapping[str, str]) -> None:
    if len(tags) > 20:
        raise bad("too many tags (max 20)")
    for key, value in tags.items():
        if not key:
            raise bad("tag keys must be non-empty")
        if len(key) > 64:
            raise bad("tag key too long (max 64 characters)")
        if len(value) > 256:
            raise bad("tag value too long (max 256 characters)")


def check_name_slug(name: str | None, slug: str | None) -> None:
    if name is not None and len(name.encode()) > 255:
        raise bad("name too long (max 255 characters)")
    if slug is not None and len(slug.encode()) > 128:
        raise bad("slug too long (max 128 characters)")


def check_retry(delays: Sequence[int] | None) -> None:
    if delays and any(d <= 0 for d in delays):
        raise bad("retry_delays_secs values must be positive")


def check_queue(name: str | None) -> None:
    if name and not _QUEUE_NAME.match(name):
        raise bad("queue_name must match ^[A-Za-z0-9_-]{1,63}$")


def check_payload_schema(payload: Any, schema: Any, prefix: str = "payload validation failed: ") -> None:
    """Strait's own JSON-schema subset: type (object|array|string|number|integer|boolean|null), required, items."""
    if schema is None:
        return
    if not isinstance(schema, dict):
        raise bad(f"{prefix}invalid payload_schema: json: cannot unmarshal into map")
    problem = _schema_problem(payload, schema, "$", 0)
    if problem:
        raise bad(prefix + problem)


def _schema_problem(value: Any, schema: Mapping[str, Any], path: str, depth: int) -> str | None:
    if depth > 32:
        return f"{path} exceeds maximum schema nesting depth (32)"
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return f"{path} must be object"
        for key in schema.get("required") or []:
            if isinstance(key, str) and key not in value:
                return f"{path}.{key} is required"
        for key, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and key in value:
                problem = _schema_problem(value[key], sub, f"{path}.{key}", depth + 1)
                if problem:
                    return problem
        return None
    if kind == "array":
        if not isinstance(value, list):
            return f"{path} must be array"
        items = schema.get("items")
        for index, item in enumerate(value):
            if isinstance(items, dict):
                problem = _schema_problem(item, items, f"{path}[{index}]", depth + 1)
                if problem:
                    return problem
        return None
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "integer": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer(),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    if isinstance(kind, str) and kind in checks and not checks[kind](value):
        return f"{path} must be {kind}"
    return None


def page_params(query: QueryParams, cursor_message: str) -> tuple[int, datetime | None]:
    limit = DEFAULT_LIMIT
    raw_limit = query.get("limit", "")
    if raw_limit:
        if not re.fullmatch(r"[+-]?\d+", raw_limit) or int(raw_limit) <= 0:
            raise bad("limit must be a positive integer")
        limit = min(int(raw_limit), MAX_LIMIT)
    cursor = None
    if query.get("cursor"):
        try:
            cursor = parse_stamp(query["cursor"])
        except ValueError:
            raise bad(cursor_message) from None
    return limit, cursor


def paginate(items: Sequence[Doc], limit: int, fields: model.Fields) -> Doc:
    """``items`` already ordered and past the cursor; fetch limit+1 and trim, as Strait's paginatedResult does."""
    page = [public(item, fields) for item in items[: limit + 1]]
    if len(page) > limit:
        page = page[:limit]
        return {"data": page, "next_cursor": page[-1]["created_at"], "has_more": True}
    return {"data": page, "has_more": False}


def newest_first(items: Iterable[Doc], cursor: datetime | None) -> list[Doc]:
    ordered = sorted(items, key=lambda d: parse_stamp(d["created_at"]), reverse=True)
    return [d for d in ordered if cursor is None or parse_stamp(d["created_at"]) < cursor]


def contains(haystack: Any, needle: Any) -> bool:
    """PostgreSQL's jsonb ``@>``."""
    if isinstance(needle, dict):
        return isinstance(haystack, dict) and all(k in haystack and contains(haystack[k], v) for k, v in needle.items())
    if isinstance(needle, list):
        return isinstance(haystack, list) and all(any(contains(h, n) for h in haystack) for n in needle)
    return bool(haystack == needle)


def percentile(values: Sequence[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont (linear interpolation)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


# --- the world: state that moves with the clock --------------------------------------------------------------


class World:
    """The store plus the clock: fires cron jobs, moves runs along their planned steps, releases waiting runs."""

    def __init__(self, store: DocStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def tick(self, now: datetime) -> datetime:
        """A creation moment strictly after the previous one, so ``created_at`` cursors never tie."""
        last = self.store.meta("last_created")
        moment = now
        if last:
            moment = max(now, parse_stamp(last) + timedelta(microseconds=1))
        self.store.set_meta("last_created", stamp(moment))
        return moment

    def rng(self) -> random.Random:
        sequence = int(self.store.meta("sequence") or "0") + 1
        self.store.set_meta("sequence", str(sequence))
        return random.Random(f"{model.SEED}:{sequence}")

    def new_id(self, moment: datetime) -> str:
        return model.uuid7(moment, self.rng())

    def new_version_id(self) -> str:
        return model.version_id(self.rng())

    # cron ------------------------------------------------------------------------------------------------------

    def schedule(self, job: Doc, now: datetime) -> None:
        """(Re)compute the job's next cron firing from ``now`` and keep the earliest one in ``cron_due``."""
        nxt = model.cron_next(job["cron"], job.get("timezone"), now) if job.get("cron") else None
        job["_next_fire"] = stamp(nxt) if nxt else None
        due = self.store.meta("cron_due")
        if nxt and (not due or nxt < parse_stamp(due)):
            self.store.set_meta("cron_due", stamp(nxt))

    def _fire_crons(self, now: datetime) -> None:
        due = self.store.meta("cron_due")
        if not due or parse_stamp(due) > now:
            return
        earliest: datetime | None = None
        for job in self.store.all("job"):
            if not job.get("_next_fire"):
                continue
            fire = parse_stamp(job["_next_fire"])
            if fire <= now:
                if job["enabled"] and not job["paused"]:
                    before = fire - timedelta(microseconds=1)
                    fires = list(model.cron_between(job["cron"], job.get("timezone"), before, now))
                    for moment in fires[-CRON_CATCH_UP:]:
                        self._cron_run(job, moment, now)
                nxt = model.cron_next(job["cron"], job.get("timezone"), now)
                job["_next_fire"] = stamp(nxt) if nxt else None
                self.store.put("job", job["id"], job)
            if job.get("_next_fire"):
                moment = parse_stamp(job["_next_fire"])
                earliest = moment if earliest is None or moment < earliest else earliest
        self.store.set_meta("cron_due", stamp(earliest) if earliest else "")

    def _cron_run(self, job: Doc, moment: datetime, now: datetime) -> None:
        rng = random.Random(f"{job['id']}|{stamp(moment)}")
        moment += model.cron_lag(rng)
        run = model.run_document(job, run_id=model.uuid7(moment, rng), at=moment, triggered_by="cron")
        self.start(job, run, model.script_for(job, rng, moment), moment, now, rng)

    # runs ------------------------------------------------------------------------------------------------------

    def start(
        self,
        job: Doc,
        run: Doc,
        script: Sequence[Attempt],
        moment: datetime,
        now: datetime,
        rng: random.Random,
        *,
        gate: bool = True,
    ) -> None:
        """Store a new run: ``waiting`` when its dependencies are not met yet, else planned from ``moment``."""
        run["_script"] = model.script_json(script)
        if gate and run["status"] == "queued" and self.release_time(run, moment) is None:
            run["status"], run["_await"] = "waiting", True
        else:
            run["_steps"] = model.plan(job, run, moment, script, rng)
        self._advance_one(run, now)
        self._activate(run["id"])

    def _activate(self, run_id: str) -> None:
        live = json.loads(self.store.meta("active_runs") or "[]")
        if run_id not in live:
            live.append(run_id)
            self.store.set_meta("active_runs", json.dumps(live))

    def deactivate(self, run_id: str) -> None:
        live = json.loads(self.store.meta("active_runs") or "[]")
        if run_id in live:
            live.remove(run_id)
            self.store.set_meta("active_runs", json.dumps(live))

    def _advance_one(self, run: Doc, now: datetime) -> None:
        _changed, events = model.advance(run, now)
        self.store.put("run", run["id"], run, parent=run["job_id"])
        if events:
            self.store.put_many("event", [(e["id"], run["id"], e) for e in events])

    def release_time(self, run: Mapping[str, Any], at: datetime) -> datetime | None:
        """When the run's dependencies were met (None: not yet), judged on runs finished by ``at``.

        For each dependency, the dependency job's latest terminal run - with the same idempotency key, else the same
        ``dependency_key`` metadata, when the run has one - must be completed (``completed``), a failure (``failed``)
        or anything terminal (``any``).
        """
        deps = self.store.all("dependency", parent=run["job_id"])
        released = parse_stamp(run["created_at"])
        key = run.get("idempotency_key") or ""
        dependency_key = (run.get("metadata") or {}).get("dependency_key", "")
        for dep in deps:
            candidates = [
                r
                for r in self.store.all("run", parent=dep["depends_on_job_id"])
                if r["status"] in TERMINAL
                and (not r.get("finished_at") or parse_stamp(r["finished_at"]) <= at)
                and (r.get("idempotency_key") == key if key else True)
                and (
                    (r.get("metadata") or {}).get("dependency_key") == dependency_key
                    if dependency_key and not key
                    else True
                )
            ]
            if not candidates:
                return None
            latest = max(
                candidates, key=lambda r: (r.get("finished_at") is not None, _when(r, "finished_at"), _when(r))
            )
            condition = dep["condition"]
            met = {
                "completed": latest["status"] == "completed",
                "failed": latest["status"] in FAILURE_STATUSES,
                "any": latest["status"] in TERMINAL,
            }.get(condition, False)
            if not met:
                return None
            if latest.get("finished_at"):
                released = max(released, parse_stamp(latest["finished_at"]))
        return released

    def settle(self) -> datetime:
        """Bring the whole project up to the clock: cron firings, run steps, waiting runs. Returns the time."""
        now = self.now()
        self._fire_crons(now)
        live: list[str] = json.loads(self.store.meta("active_runs") or "[]")
        kept: list[str] = []
        waiting: list[Doc] = []
        for run_id in live:
            run = self.store.get("run", run_id)
            if run is None:
                continue
            if run.get("_await"):
                waiting.append(run)
                continue
            changed, events = model.advance(run, now)
            if changed:
                self.store.put("run", run_id, run, parent=run["job_id"])
                self.store.put_many("event", [(e["id"], run_id, e) for e in events])
            if model.is_live(run):
                kept.append(run_id)
        for run in waiting:
            released = self.release_time(run, now)
            job = self.store.get("job", run["job_id"])
            if released is not None and job is not None:
                run.pop("_await", None)
                script = model.script_from_json(run.get("_script") or [])
                rng = random.Random(f"{run['id']}|released")
                run["_steps"] = model.plan(job, run, released, script, rng, released=True)
                self._advance_one(run, now)
            if model.is_live(run):
                kept.append(run["id"])
        if kept != live:
            self.store.set_meta("active_runs", json.dumps(kept))
        return now


def _equals(field: str, value: str) -> Callable[[Doc], bool]:
    return lambda run: run.get(field) == value


def _when(doc: Mapping[str, Any], key: str = "created_at") -> datetime:
    value = doc.get(key)
    return parse_stamp(value) if isinstance(value, str) else datetime.min.replace(tzinfo=UTC)


# --- handlers ------------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request as a handler sees it."""

    params: Mapping[str, str]
    query: QueryParams
    headers: Headers
    body: bytes
    principal: Principal
    request_id: str
    now: datetime


Handler = Callable[["StraitApi", Call], Response]


class Spec(NamedTuple):
    method: str
    path: str
    handler: Handler
    scope: str
    idempotent: bool = False
    limit: str | None = None


class StraitApi:
    def __init__(self, store: DocStore, clock: Clock) -> None:
        self.store = store
        self.world = World(store, clock)
        self.limiter = RateLimiter(clock)

    # helpers ---------------------------------------------------------------------------------------------------

    def job(self, job_id: str) -> Doc:
        job = self.store.get("job", job_id)
        if job is None:
            raise not_found("job")
        return job

    def run(self, run_id: str) -> Doc:
        run = self.store.get("run", run_id)
        if run is None:
            raise not_found("run")
        return run

    def slug_taken(self, slug: str, but: str = "") -> bool:
        return any(j["slug"] == slug and j["id"] != but for j in self.store.all("job"))

    def save_job(self, job: Doc) -> None:
        self.store.put("job", job["id"], job)

    # jobs ------------------------------------------------------------------------------------------------------

    def list_jobs(self, call: Call) -> Response:
        query = call.query
        tag_key, tag_value, slug = query.get("tag_key", ""), query.get("tag_value", ""), query.get("slug", "")
        if tag_value and not tag_key:
            raise bad("tag_key is required when tag_value is provided")
        limit, cursor = page_params(query, "invalid cursor format")
        jobs = self.store.all("job")
        if slug:
            return respond(paginate([j for j in jobs if j["slug"] == slug][:1], limit, JOB_FIELDS))
        if tag_key:
            jobs = [
                j
                for j in jobs
                if tag_key in (j.get("tags") or {}) and (not tag_value or j["tags"][tag_key] == tag_value)
            ]
        return respond(paginate(newest_first(jobs, cursor), limit, JOB_FIELDS))

    def _build_job(self, req: Doc, call: Call, *, batch: bool) -> Doc:
        """Strait's create checks (after the 422 tag checks), then the new job document."""
        if req.get("project_id") != PROJECT_ID:
            raise ApiError(403, "project_id does not match authenticated project")
        check_name_slug(req.get("name"), req.get("slug"))
        for field in ("endpoint_url", "fallback_endpoint_url"):
            if req.get(field):
                check_endpoint(req[field], field)
        if (req.get("timeout_secs") or 0) > 86400:
            raise bad("timeout_secs must not exceed 86400 (24 hours)")
        check_cron(req.get("cron"), "invalid cron expression")
        check_cron(req.get("execution_window_cron"), "invalid execution_window_cron expression")
        check_retry(req.get("retry_delays_secs"))
        if req.get("tags"):
            check_tags(req["tags"])
        if (req.get("debounce_window_secs") or 0) > 0 and (req.get("batch_window_secs") or 0) > 0:
            raise bad("debounce_window_secs and batch_window_secs are mutually exclusive")
        check_queue(req.get("queue_name"))
        mode = req.get("execution_mode") or "http"
        if mode == "http":
            check_endpoint_present(req.get("endpoint_url", ""))
        if self.slug_taken(req["slug"]):
            raise ApiError(409, f'job with slug "{req["slug"]}" already exists: job slug conflict')
        values = {k: v for k, v in req.items() if k not in ("project_id", "queue_name", "webhook_secret")}
        values.pop("endpoint_signing_secret", None)
        values.update(execution_mode=mode, queue=req.get("queue_name") or "default")
        values["max_attempts"] = req.get("max_attempts") or 3
        values["timeout_secs"] = req.get("timeout_secs") or 300
        values["retry_priority_boost"] = req.get("retry_priority_boost") or 1
        secret = req.get("webhook_secret") or req.get("endpoint_signing_secret")
        if secret:
            values["_signing_secret"] = secret
        if batch:
            for dropped in (
                "max_concurrency_per_key", "default_run_metadata", "result_schema", "debounce_window_secs",
                "batch_window_secs", "batch_max_size", "poison_pill_threshold", "enabled", "version_policy",
                "on_complete_trigger_workflow", "on_complete_trigger_job", "on_complete_payload_mapping",
                "on_failure_trigger_job", "on_failure_trigger_workflow", "on_failure_payload_mapping",
            ):  # fmt: skip
                values.pop(dropped, None)
        moment = self.world.tick(call.now)
        job = model.job_document(
            values,
            job_id=self.world.new_id(moment),
            version=self.world.new_version_id(),
            actor=call.principal.actor,
            at=stamp(moment),
        )
        self.world.schedule(job, call.now)
        self.save_job(job)
        return job

    def create_job(self, call: Call) -> Response:
        req = fields_of(decode(call.body, "CreateJobRequest"), CREATE_TYPES, "CreateJobRequest")
        validate(req, CREATE_RULES, CREATE_POINTERS)
        return respond(public(self._build_job(req, call, batch=False), JOB_FIELDS), 201)

    def batch_create(self, call: Call) -> Response:
        body = decode(call.body, "BatchCreateJobsRequest")
        items = body.get("jobs")
        if items is not None and not isinstance(items, list):
            raise _mismatch(items, "BatchCreateJobsRequest.jobs", "[]api.CreateJobRequest")
        items = items or []
        if not items:
            raise bad("jobs array is required and must not be empty")
        if len(items) > MAX_BATCH:
            raise bad(f"too many jobs in batch (max {MAX_BATCH})")
        created: list[Doc] = []
        errors: list[Doc] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise _mismatch(item, "BatchCreateJobsRequest.jobs", "api.CreateJobRequest")
            req = fields_of(item, CREATE_TYPES, "BatchCreateJobsRequest.jobs")
            try:
                validate(req, CREATE_RULES, CREATE_POINTERS)
                created.append(public(self._build_job(req, call, batch=True), JOB_FIELDS))
            except ApiError as exc:
                errors.append({"index": index, "message": exc.message})
        answer: Doc = {"created": created or None}
        if errors:
            answer["errors"] = errors
        if not created:
            raise RawAnswer(400, answer)
        return respond(answer, 201)

    def _batch_enabled(self, call: Call, enabled: bool) -> Response:
        body = decode(call.body, "BatchJobIDsRequest")
        ids = fields_of(body, {"ids": STRS}, "BatchJobIDsRequest").get("ids") or []
        if not ids:
            raise bad("ids array is required and must not be empty")
        if len(ids) > MAX_BATCH:
            raise bad(f"too many ids in batch (max {MAX_BATCH})")
        updated = 0
        for job_id in dict.fromkeys(ids):
            job = self.store.get("job", job_id)
            if job is None:
                continue
            job.update(enabled=enabled, updated_at=stamp(call.now))
            if enabled:
                self.world.schedule(job, call.now)
            self.save_job(job)
            updated += 1
        return respond({"updated": updated})

    def batch_enable(self, call: Call) -> Response:
        return self._batch_enabled(call, True)

    def batch_disable(self, call: Call) -> Response:
        return self._batch_enabled(call, False)

    def get_job(self, call: Call) -> Response:
        return respond(public(self.job(call.params["job_id"]), JOB_FIELDS))

    def update_job(self, call: Call) -> Response:
        req = fields_of(decode(call.body, "UpdateJobRequest"), UPDATE_TYPES, "UpdateJobRequest")
        validate(req, UPDATE_RULES)
        job = self.job(call.params["job_id"])
        before = dict(job)
        check_name_slug(req.get("name"), req.get("slug"))
        if "endpoint_url" in req:
            check_endpoint_present(req["endpoint_url"])
        check_cron(req.get("cron"), "invalid cron expression")
        check_cron(req.get("execution_window_cron"), "invalid execution_window_cron expression")
        check_retry(req.get("retry_delays_secs"))
        if "tags" in req:
            check_tags(req["tags"])
        if "endpoint_url" in req:
            check_endpoint(req["endpoint_url"], "endpoint_url")
        if (req.get("timeout_secs") or 0) > 86400:
            raise bad("timeout_secs must not exceed 86400 (24 hours)")
        check_queue(req.get("queue_name"))
        for key, value in req.items():
            if key in ("webhook_secret", "endpoint_signing_secret"):
                job["_signing_secret"] = req.get("webhook_secret") or value
            elif key == "queue_name":
                job["queue"] = value or "default"
            else:
                job[key] = value
        if job.get("fallback_endpoint_url"):
            check_endpoint(job["fallback_endpoint_url"], "fallback_endpoint_url")
        if (job.get("execution_mode") or "http") == "http":
            check_endpoint_present(job.get("endpoint_url") or "")
        if "slug" in req and self.slug_taken(req["slug"], but=job["id"]):
            raise ApiError(500, "failed to update job")
        moment = self.world.tick(call.now)
        row = model.version_snapshot(before, row_id=self.world.new_id(moment), at=stamp(moment))
        self.store.put("version", row["id"], row, parent=job["id"])
        if req.get("endpoint_url", before.get("endpoint_url")) != before.get("endpoint_url"):
            job.pop("_profile", None)
        job.update(
            version=before["version"] + 1,
            version_id=self.world.new_version_id(),
            updated_at=stamp(call.now),
            updated_by=call.principal.actor,
        )
        if {"cron", "timezone", "enabled"} & req.keys():
            self.world.schedule(job, call.now)
        self.save_job(job)
        return respond(public(job, JOB_FIELDS))

    def delete_job(self, call: Call) -> Response:
        job = self.job(call.params["job_id"])
        runs = self.store.all("run", parent=job["id"])
        if any(r["status"] in ACTIVE for r in runs):
            raise ApiError(409, "job has active runs \u2014 cancel them first or wait for completion")
        for run in runs:
            for event in self.store.all("event", parent=run["id"]):
                self.store.delete("event", event["id"])
            self.store.delete("run", run["id"])
            self.world.deactivate(run["id"])
        for version in self.store.all("version", parent=job["id"]):
            self.store.delete("version", version["id"])
        for dep in self.store.all("dependency"):
            if job["id"] in (dep["job_id"], dep["depends_on_job_id"]):
                self.store.delete("dependency", dep["id"])
        self.store.delete("job", job["id"])
        return Response(status_code=204, headers=BASE_HEADERS)

    # triggering ------------------------------------------------------------------------------------------------

    def _triggerable(self, job_id: str) -> Doc:
        job = self.job(job_id)
        if not job["enabled"]:
            raise bad("job is disabled")
        if job["paused"]:
            raise ApiError(409, "job is paused -- resume it before triggering new runs")
        return job

    @staticmethod
    def _check_schedule(moment: datetime | None, now: datetime, prefix: str = "") -> None:
        if moment is None:
            return
        if moment < now:
            raise bad(f"{prefix}scheduled_at must not be in the past")
        if moment - now > timedelta(days=30):
            raise bad(f"{prefix}scheduled_at cannot exceed 30 days from now")

    def _existing(self, job_id: str, key: str, now: datetime) -> Doc | None:
        """The job's run holding this idempotency key, if it still counts (active, or finished in the last 24 h)."""
        recent = now - timedelta(hours=24)
        matches = [
            r
            for r in self.store.all("run", parent=job_id)
            if r.get("idempotency_key") == key
            and (
                r["status"] in ACTIVE
                or (r["status"] in TERMINAL - {"expired"} and r.get("finished_at") and _when(r, "finished_at") > recent)
            )
        ]
        return max(matches, key=_when) if matches else None

    def trigger(self, call: Call) -> Response:
        req = fields_of(decode(call.body, "TriggerRequest"), TRIGGER_TYPES, "TriggerRequest")
        validate(req, TRIGGER_RULES, frozenset({"ttl_secs"}))
        job = self._triggerable(call.params["job_id"])
        payload = req.get("payload")
        if payload is not None and len(model.canonical_json(payload)) > MAX_PAYLOAD:
            raise bad(f"payload too large (max {MAX_PAYLOAD} bytes)")
        check_tags(req.get("tags") or {})
        self._check_schedule(req.get("scheduled_at"), call.now)
        if req.get("dry_run"):
            return self._dry_run(job, req, call)
        check_payload_schema(payload, job.get("payload_schema"))
        digest = model.payload_hash(payload)
        key = call.headers.get("x-idempotency-key") or call.headers.get("idempotency-key") or ""
        if len(key) > MAX_KEY:
            raise bad(f"idempotency key must be {MAX_KEY} characters or fewer")
        if key and (hit := self._existing(job["id"], key, call.now)) is not None:
            raise RawAnswer(200, {"id": hit["id"], "status": hit["status"], "idempotency_hit": True})
        if job.get("dedup_window_secs"):
            since = call.now - timedelta(seconds=int(job["dedup_window_secs"]))
            same = [
                r
                for r in self.store.all("run", parent=job["id"])
                if _when(r) >= since and model.canonical_json(r.get("payload")) == model.canonical_json(payload or {})
            ]
            if same:
                earlier = max(same, key=_when)
                return respond({"id": earlier["id"], "status": earlier["status"], "payload_hash": digest,
                                "idempotency_hit": False}, 201)  # fmt: skip
        moment = self.world.tick(call.now)
        metadata = {"_sentry_actor_type": "api_key", "_sentry_request_id": call.request_id}
        metadata["_sentry_route"] = TRIGGER_ROUTE
        rng = self.world.rng()
        run = model.run_document(
            job,
            run_id=model.uuid7(moment, rng),
            at=moment,
            triggered_by="manual",
            payload=payload,
            tags=req.get("tags"),
            priority=int(req.get("priority") or 0),
            idempotency_key=key,
            created_by=call.principal.actor,
            scheduled_at=req.get("scheduled_at"),
            ttl_secs=req.get("ttl_secs"),
            metadata=metadata,
            concurrency_key=req.get("concurrency_key", ""),
        )
        self.world.start(job, run, model.script_for(job, rng, moment), moment, call.now, rng)
        return respond(
            {"id": run["id"], "status": run["status"], "payload_hash": digest, "idempotency_hit": False}, 201
        )

    def _dry_run(self, job: Doc, req: Doc, call: Call) -> Response:
        check_payload_schema(req.get("payload"), job.get("payload_schema"))
        scheduled: datetime | None = req.get("scheduled_at")
        base = scheduled if scheduled is not None and scheduled > call.now else call.now
        ttl = req.get("ttl_secs") or job.get("run_ttl_secs") or int(job["timeout_secs"]) + 60
        info = {
            "id": job["id"],
            "name": job["name"],
            "slug": job["slug"],
            "execution_mode": job.get("execution_mode") or "http",
            "queue": job.get("queue") or "",
            "timeout_secs": job["timeout_secs"],
            "max_attempts": job["max_attempts"],
            "version": job["version"],
            "version_id": job.get("version_id") or "",
        }
        answer: Doc = {
            "job": {k: v for k, v in info.items() if v != "" or k in ("id", "name", "slug", "execution_mode")},
            "payload_hash": model.payload_hash(req.get("payload")),
            "payload": req.get("payload") if req.get("payload") is not None else {},
        }
        if scheduled is not None:
            answer["scheduled_at"] = stamp(scheduled)
        answer["expires_at"] = stamp(base + timedelta(seconds=int(ttl)))
        raise RawAnswer(200, answer)

    def bulk_trigger(self, call: Call) -> Response:
        body = decode(call.body, "BulkTriggerRequest")
        items = body.get("items")
        if items is not None and not isinstance(items, list):
            raise _mismatch(items, "BulkTriggerRequest.items", "[]api.BulkTriggerItem")
        if items is None:
            raise ApiError(422, "validation failed", ["items: failed on 'required'"])
        if not items:
            raise ApiError(422, "validation failed", ["items: failed on 'min'"])
        parsed = []
        for item in items:
            if not isinstance(item, dict):
                raise _mismatch(item, "BulkTriggerRequest.items", "api.BulkTriggerItem")
            parsed.append(fields_of(item, BULK_ITEM_TYPES, "BulkTriggerRequest.items"))
        job = self._triggerable(call.params["job_id"])
        if len(parsed) > MAX_BULK_ITEMS:
            raise bad(f"maximum {MAX_BULK_ITEMS} items per bulk trigger request")
        moment = self.world.tick(call.now)
        batch_id = self.world.new_id(moment)
        results: list[Doc] = []
        created = 0
        for index, item in enumerate(parsed):
            self._check_schedule(
                item.get("scheduled_at"), call.now, f"scheduled_at validation failed for item {index}: "
            )
            ttl = item.get("ttl_secs")
            if ttl is not None and not 0 <= ttl <= 2592000:
                problem = "must be greater than or equal to 0" if ttl < 0 else "cannot exceed 30 days"
                raise bad(f"ttl_secs validation failed for item {index}: ttl_secs {problem}")
            try:
                check_tags(item.get("tags") or {})
            except ApiError as exc:
                raise bad(f"invalid tags for item {index}: {exc.message}") from None
            check_payload_schema(item.get("payload"), job.get("payload_schema"),
                                 f"payload validation failed for item {index}: ")  # fmt: skip
            key = item.get("idempotency_key") or ""
            if len(key) > MAX_KEY:
                raise bad(f"idempotency key for item {index} must be {MAX_KEY} characters or fewer")
            if key and (hit := self._existing(job["id"], key, call.now)) is not None:
                results.append({"id": hit["id"], "status": hit["status"], "idempotency_hit": True})
                continue
            at = self.world.tick(call.now)
            rng = self.world.rng()
            run = model.run_document(
                job,
                run_id=model.uuid7(at, rng),
                at=at,
                triggered_by="manual",
                payload=item.get("payload"),
                tags=item.get("tags"),
                priority=int(item.get("priority") or 0),
                idempotency_key=key,
                created_by=call.principal.actor,
                scheduled_at=item.get("scheduled_at"),
                ttl_secs=ttl,
                batch_id=batch_id,
                concurrency_key=item.get("concurrency_key", ""),
            )
            run["metadata"] = {k: v for k, v in run["metadata"].items() if k != "dependency_key"} or {}
            self.world.start(job, run, model.script_for(job, rng, at), at, call.now, rng, gate=False)
            results.append({"id": run["id"], "status": run["status"], "idempotency_hit": False})
            created += 1
        return respond({"batch_id": batch_id, "results": results, "total": len(parsed), "created": created}, 201)

    # dependencies, versions, clone, health, pause ------------------------------------------------------------

    def create_dependency(self, call: Call) -> Response:
        types = {"depends_on_job_id": S, "condition": S}
        req = fields_of(decode(call.body, "CreateJobDependencyRequest"), types, "CreateJobDependencyRequest")
        validate(req, (("depends_on_job_id", ("required",)),), frozenset())
        job = self.job(call.params["job_id"])
        other = req["depends_on_job_id"]
        if other == job["id"]:
            raise bad("job cannot depend on itself")
        if self.store.get("job", other) is None:
            raise bad("depends_on_job_id does not exist")
        condition = req.get("condition") or "completed"
        if condition not in ("completed", "failed", "any"):
            raise bad("condition must be one of: completed, failed, any")
        if any(d["depends_on_job_id"] == other for d in self.store.all("dependency", parent=job["id"])):
            raise ApiError(500, "failed to create job dependency")
        moment = self.world.tick(call.now)
        dep = {
            "id": self.world.new_id(moment),
            "job_id": job["id"],
            "depends_on_job_id": other,
            "condition": condition,
            "created_at": stamp(moment),
        }
        self.store.put("dependency", dep["id"], dep, parent=job["id"])
        return respond(public(dep, DEPENDENCY_FIELDS), 201)

    def list_dependencies(self, call: Call) -> Response:
        limit, cursor = page_params(call.query, "invalid cursor format")
        job = self.job(call.params["job_id"])
        deps = newest_first(self.store.all("dependency", parent=job["id"]), cursor)
        return respond(paginate(deps, limit, DEPENDENCY_FIELDS))

    def delete_dependency(self, call: Call) -> Response:
        job = self.job(call.params["job_id"])
        dep = self.store.get("dependency", call.params["dep_id"])
        if dep is None or dep["job_id"] != job["id"]:
            raise not_found("job dependency")
        self.store.delete("dependency", dep["id"])
        return Response(status_code=204, headers=BASE_HEADERS)

    def list_versions(self, call: Call) -> Response:
        limit, cursor = page_params(call.query, "invalid cursor format")
        job = self.job(call.params["job_id"])
        rows = [
            r
            for r in self.store.all("version", parent=job["id"])
            if cursor is None or parse_stamp(r["created_at"]) < cursor
        ]
        rows.sort(key=lambda r: int(r["version"]), reverse=True)
        return respond(paginate(rows, limit, VERSION_FIELDS))

    def get_version(self, call: Call) -> Response:
        wanted = call.params["version_id"]
        rows = [r for r in self.store.all("version") if r.get("version_id") == wanted]
        if not rows or rows[0]["job_id"] != call.params["job_id"]:
            raise not_found("version")
        if self.store.get("job", call.params["job_id"]) is None:
            raise not_found("version")
        return respond(public(rows[0], VERSION_FIELDS))

    def clone_job(self, call: Call) -> Response:
        req = fields_of(decode(call.body, "CloneJobRequest"), {"name": S, "slug": S}, "CloneJobRequest")
        source = self.job(call.params["job_id"])
        if not req.get("name") or not req.get("slug"):
            raise bad("name and slug are required")
        check_name_slug(req["name"], req["slug"])
        if self.slug_taken(req["slug"]):
            raise ApiError(500, "failed to clone job")
        copied = {
            key: source.get(key)
            for key in (
                "group_id", "description", "cron", "payload_schema", "tags", "endpoint_url", "fallback_endpoint_url",
                "max_attempts", "timeout_secs", "max_concurrency", "max_concurrency_per_key", "execution_window_cron",
                "timezone", "rate_limit_max", "rate_limit_window_secs", "dedup_window_secs", "webhook_url",
                "run_ttl_secs", "retry_strategy", "retry_delays_secs", "retry_priority_boost", "dlq_alert_threshold",
                "queue_depth_alert_threshold", "environment_id", "default_run_metadata", "result_schema",
                "debounce_window_secs", "batch_window_secs", "batch_max_size", "version_policy",
                "backwards_compatible", "cron_overlap_policy", "execution_mode", "queue", "poison_pill_threshold",
                "on_complete_trigger_workflow", "on_complete_trigger_job", "on_complete_payload_mapping",
                "on_failure_trigger_job", "on_failure_trigger_workflow", "on_failure_payload_mapping",
                "_profile", "_signing_secret", "_webhook_secret",
            )
            if source.get(key) is not None
        }  # fmt: skip
        copied.update(name=req["name"], slug=req["slug"], queue=source.get("queue") or "default")
        moment = self.world.tick(call.now)
        job = model.job_document(
            copied,
            job_id=self.world.new_id(moment),
            version=self.world.new_version_id(),
            actor=call.principal.actor,
            at=stamp(moment),
        )
        job.update(enabled=True, paused=False)
        self.world.schedule(job, call.now)
        self.save_job(job)
        return respond(public(job, JOB_FIELDS), 201)

    def health(self, call: Call) -> Response:
        job = self.job(call.params["job_id"])
        window = call.query.get("window", "")
        spans = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
        if window == "":
            window = "7d"
        if window not in spans:
            raise bad("invalid window: must be 1h, 1d, 7d, or 30d")
        since = call.now - spans[window]
        counted = TERMINAL - {"dead_letter"}
        runs = [r for r in self.store.all("run", parent=job["id"]) if r["status"] in counted and _when(r) >= since]
        count = {s: sum(1 for r in runs if r["status"] == s) for s in counted}
        durations = [
            (parse_stamp(r["finished_at"]) - parse_stamp(r["started_at"])).total_seconds()
            for r in runs
            if r.get("finished_at") and r.get("started_at")
        ]
        total = len(runs)
        average = sum(durations) / len(durations) if durations else 0.0
        p95, p99 = percentile(durations, 0.95), percentile(durations, 0.99)
        success = count["completed"] / total * 100 if total else 0.0
        score = -1.0
        if total:
            stability = 0.0
            if average > 0:
                stability = 30.0
                if p95 > 2 * average:
                    stability = max(0.0, 30 - min((p95 / average - 2) * 15, 30))
            score = min(100.0, success * 0.7 + stability)
        return respond(
            {
                "job_id": job["id"],
                "window": window,
                "since": stamp(since),
                "total_runs": total,
                "completed_runs": count["completed"],
                "failed_runs": count["failed"],
                "timed_out_runs": count["timed_out"],
                "crashed_runs": count["crashed"] + count["system_failed"],
                "canceled_runs": count["canceled"],
                "expired_runs": count["expired"],
                "success_rate": _number(success),
                "avg_duration_secs": _number(average),
                "p95_duration_secs": _number(p95),
                "p99_duration_secs": _number(p99),
                "health_score": _number(score),
            }
        )

    def pause(self, call: Call) -> Response:
        body = fields_of(decode(call.body, "PauseJobRequest"), {"reason": S}, "PauseJobRequest")
        reason = body.get("reason", "")
        if len(reason.encode()) > 500:
            raise bad("reason must be 500 characters or fewer")
        job = self.job(call.params["job_id"])
        if not job["paused"]:
            job.update(paused=True, paused_at=stamp(call.now), pause_reason=reason, updated_at=stamp(call.now))
            self.save_job(job)
        return respond(public(job, JOB_FIELDS))

    def resume(self, call: Call) -> Response:
        job = self.job(call.params["job_id"])
        if job["paused"] or job.get("paused_at") or job.get("pause_reason"):
            job.update(paused=False, paused_at=None, pause_reason="", updated_at=stamp(call.now))
            self.world.schedule(job, call.now)
            self.save_job(job)
        return respond(public(job, JOB_FIELDS))

    # runs ------------------------------------------------------------------------------------------------------

    def list_runs(self, call: Call) -> Response:
        query = call.query
        wanted = {s for s in [query.get("status", ""), *query.getlist("statuses"), *query.getlist("statuses[]")] if s}
        if any(s not in STATUSES for s in wanted):
            raise bad("status is invalid")
        tag_key, tag_value = query.get("tag_key", ""), query.get("tag_value", "")
        if tag_value and not tag_key:
            raise bad("tag_key is required when tag_value is provided")
        if tag_key:
            check_tags({tag_key: tag_value})
        meta_key, meta_value = query.get("metadata_key", ""), query.get("metadata_value", "")
        if meta_value and not meta_key:
            raise bad("metadata_key is required when metadata_value is provided")
        if tag_key and meta_key:
            raise bad("tag_key and metadata_key filters are mutually exclusive")
        needle: Any = None
        if query.get("payload_contains"):
            try:
                needle = json.loads(query["payload_contains"])
            except ValueError:
                raise bad("payload_contains must be valid JSON") from None
        mode, error_class = query.get("execution_mode", ""), query.get("error_class", "")
        if mode and mode not in ("http", "worker"):
            raise bad("execution_mode is invalid")
        if error_class and error_class not in ERROR_CLASSES:
            raise bad("error_class is invalid")
        limit, cursor = page_params(query, "cursor must be a valid RFC3339 timestamp")
        tests: list[Callable[[Doc], bool]] = []
        if wanted:
            tests.append(lambda r: r["status"] in wanted)
        if tag_key:
            tests.append(
                lambda r: tag_key in (r.get("tags") or {}) and (not tag_value or r["tags"][tag_key] == tag_value)
            )
        if meta_key:
            tests.append(
                lambda r: (
                    meta_key in (r.get("metadata") or {}) and (not meta_value or r["metadata"][meta_key] == meta_value)
                )
            )
        for field in ("triggered_by", "batch_id"):
            if query.get(field):
                tests.append(_equals(field, query[field]))
        if needle is not None:
            tests.append(lambda r: contains(r.get("payload"), needle))
        if mode:
            tests.append(lambda r: (r.get("execution_mode") or "http") == mode)
        if error_class:
            tests.append(lambda r: r.get("error_class") == error_class)
        runs = [r for r in self.store.all("run") if all(t(r) for t in tests)]
        return respond(paginate(newest_first(runs, cursor), limit, RUN_FIELDS))

    def get_run(self, call: Call) -> Response:
        return respond(public(self.run(call.params["run_id"]), RUN_FIELDS))

    def cancel_run(self, call: Call) -> Response:
        run = self.run(call.params["run_id"])
        if run["status"] in TERMINAL:
            raise bad("run already in terminal state")
        for key in ("_steps", "_await", "_hb_until"):
            run.pop(key, None)
        run.update(status="canceled", finished_at=stamp(call.now), error="canceled by user")
        self.store.put("run", run["id"], run, parent=run["job_id"])
        self.world.deactivate(run["id"])
        return respond(public(run, RUN_FIELDS))

    def list_events(self, call: Call) -> Response:
        run = self.run(call.params["run_id"])
        limit, cursor = page_params(call.query, "invalid cursor format")
        level, kind = call.query.get("level", ""), call.query.get("type", "")
        events = [
            e
            for e in self.store.all("event", parent=run["id"])
            if (not level or e.get("level") == level)
            and (not kind or e["type"] == kind)
            and (cursor is None or parse_stamp(e["created_at"]) < cursor)
        ]
        events.sort(key=lambda e: parse_stamp(e["created_at"]))
        return respond(paginate(events, limit, EVENT_FIELDS))


SPECS: tuple[Spec, ...] = (
    Spec("GET", "/v1/jobs", StraitApi.list_jobs, "jobs:read"),
    Spec("POST", "/v1/jobs", StraitApi.create_job, "jobs:write", True, "create"),
    Spec("POST", "/v1/jobs/batch", StraitApi.batch_create, "jobs:write", True, "batch"),
    Spec("POST", "/v1/jobs/batch-enable", StraitApi.batch_enable, "jobs:write"),
    Spec("POST", "/v1/jobs/batch-disable", StraitApi.batch_disable, "jobs:write"),
    Spec("GET", "/v1/jobs/{job_id}", StraitApi.get_job, "jobs:read"),
    Spec("PATCH", "/v1/jobs/{job_id}", StraitApi.update_job, "jobs:write"),
    Spec("DELETE", "/v1/jobs/{job_id}", StraitApi.delete_job, "jobs:write"),
    Spec("POST", "/v1/jobs/{job_id}/trigger", StraitApi.trigger, "jobs:trigger", True, "trigger"),
    Spec("POST", "/v1/jobs/{job_id}/trigger/bulk", StraitApi.bulk_trigger, "jobs:trigger", False, "bulk"),
    Spec("POST", "/v1/jobs/{job_id}/dependencies", StraitApi.create_dependency, "jobs:write", True),
    Spec("GET", "/v1/jobs/{job_id}/dependencies", StraitApi.list_dependencies, "jobs:read"),
    Spec("DELETE", "/v1/jobs/{job_id}/dependencies/{dep_id}", StraitApi.delete_dependency, "jobs:write"),
    Spec("GET", "/v1/jobs/{job_id}/versions", StraitApi.list_versions, "jobs:read"),
    Spec("GET", "/v1/jobs/{job_id}/versions/{version_id}", StraitApi.get_version, "jobs:read"),
    Spec("POST", "/v1/jobs/{job_id}/clone", StraitApi.clone_job, "jobs:write", True),
    Spec("GET", "/v1/jobs/{job_id}/health", StraitApi.health, "jobs:read"),
    Spec("POST", "/v1/jobs/{job_id}/pause", StraitApi.pause, "jobs:write"),
    Spec("POST", "/v1/jobs/{job_id}/resume", StraitApi.resume, "jobs:write"),
    Spec("GET", "/v1/runs", StraitApi.list_runs, "runs:read"),
    Spec("GET", "/v1/runs/{run_id}", StraitApi.get_run, "runs:read"),
    Spec("DELETE", "/v1/runs/{run_id}", StraitApi.cancel_run, "runs:write"),
    Spec("GET", "/v1/runs/{run_id}/events", StraitApi.list_events, "runs:read"),
)


class Endpoint:
    """One route: scope check, idempotency replay, rate limit, then the handler in one transaction."""

    def __init__(self, api: StraitApi, spec: Spec) -> None:
        self.api = api
        self.spec = spec

    async def __call__(self, request: Request) -> Response:
        body = await request.body()
        return self.handle(request, body)

    def handle(self, request: Request, body: bytes) -> Response:
        spec, api = self.spec, self.api
        principal: Principal = request.state.principal
        request_id: str = request.state.request_id
        try:
            if not principal.allows(spec.scope):
                raise ApiError(403, f"insufficient permissions: requires {spec.scope}")
            key = request.headers.get("idempotency-key") or request.headers.get("x-idempotency-key") or ""
            if spec.idempotent and key:
                if len(key) > MAX_KEY:
                    raise bad(f"idempotency key must be {MAX_KEY} characters or fewer")
                replay = self._replay(principal, request.url.path, key)
                if replay is not None:
                    return replay
            extra: dict[str, str] = {}
            if spec.limit is not None:
                allowed, extra = api.limiter.hit(spec.limit, principal.token, RATE_LIMITS[spec.limit])
                if not allowed:
                    return too_many(extra)
            response = self._run(request, body, principal, request_id)
            response.headers.update(extra)
            if spec.idempotent and key and 200 <= response.status_code < 300:
                self._remember(principal, request.url.path, key, response)
            return response
        except ApiError as exc:
            return error_response(exc.status, exc.message, request_id, exc.details)

    def _run(self, request: Request, body: bytes, principal: Principal, request_id: str) -> Response:
        api = self.api
        try:
            with api.store.transaction():
                now = api.world.settle()
                call = Call(
                    params={k: str(v) for k, v in request.path_params.items()},
                    query=request.query_params,
                    headers=request.headers,
                    body=body,
                    principal=principal,
                    request_id=request_id,
                    now=now,
                )
                return self.spec.handler(api, call)
        except RawAnswer as answer:  # nothing to commit (idempotency hits, dry runs, a batch with no job created)
            return respond(answer.body, answer.status)

    def _replay_id(self, principal: Principal, path: str, key: str) -> str:
        return hashlib.sha256("\x00".join((principal.actor, path.rstrip("/") or "/", key)).encode()).hexdigest()

    def _replay(self, principal: Principal, path: str, key: str) -> Response | None:
        saved = self.api.store.get("idempotency", self._replay_id(principal, path, key))
        if saved is None or parse_stamp(saved["at"]) < self.api.world.now() - IDEMPOTENCY_TTL:
            return None
        headers = {**BASE_HEADERS, "Idempotency-Replayed": "true"}
        return Response(saved["body"].encode(), saved["status"], headers, media_type=saved["media_type"])

    def _remember(self, principal: Principal, path: str, key: str, response: Response) -> None:
        doc = {
            "status": response.status_code,
            "body": bytes(response.body).decode(),
            "media_type": response.media_type or "application/json",
            "at": stamp(self.api.world.now()),
        }
        with self.api.store.transaction():
            self.api.store.put("idempotency", self._replay_id(principal, path, key), doc)


def _no_route(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return Response(b"", 405, {**BASE_HEADERS, **(exc.headers or {})})
    return Response(b"404 page not found\n", 404, BASE_HEADERS, media_type="text/plain; charset=utf-8")


def create_app(
    *,
    db_path: str | None = None,
    tokens: dict[str, set[str]] | None = None,
    now: Callable[[], datetime] | None = None,
    faults: FaultInjector | None = None,
) -> Starlette:
    """A Strait simulator. State lives in SQLite (memory unless ``db_path``), seeded on first use.

    ``tokens`` maps API keys to their scopes (an empty set is full access, as for a Strait key without scopes);
    None accepts any key with every scope except the sandbox keys of ``seed.SANDBOX_TOKENS``.
    """
    clock = now or _utcnow
    injector = faults if faults is not None else FaultInjector()
    store = DocStore(db_path, seed=lambda s: model.seed_project(s, clock()))
    api = StraitApi(store, clock)

    def fault_body(status: int, message: str, headers: dict[str, str] | None) -> Response:
        return error_response(status, message, "", headers=headers)

    routes = [Route(s.path, Endpoint(api, s).__call__, methods=[s.method]) for s in SPECS]
    app = Starlette(
        routes=[*routes, *admin_routes(injector)],
        middleware=[
            Middleware(FaultMiddleware, faults=injector, error_body=fault_body),
            Middleware(RequestIds),
            Middleware(TokenAuth, resolve=_principals(tokens), refuse=_refuse, state_key="principal"),
            Middleware(ContentChecks),
        ],
        exception_handlers={HTTPException: _no_route},
    )
    app.router.redirect_slashes = False
    app.state.store = store
    app.state.faults = injector
    return app
