"""The WiseRows simulator: ``create_app()`` serves WiseRows' Jobs API over a seeded SQLite store.

WiseRows is closed source; the only public description is its Jobs API page (seed 003) and API overview. Routes
(real, base path ``/api/v1``, ``Authorization: Bearer ds_...``):
- ``GET  /api/v1/jobs?status=&category=&limit=`` — jobs, newest first;
- ``GET  /api/v1/jobs/{id}`` — one job plus ``logs: [{timestamp, level, message}]`` (oldest first);
- ``POST /api/v1/jobs/{id}/cancel`` — ``{id, status: "cancelled"}``, only for a pending or running job; best
  effort: the step in progress still finishes (counted in progress), finished items are not rolled back;
- ``/_sandbox/...`` fault and hit-count controls (``jobs_mcp.sandbox.faults``), no token.
Job (real, camelCase): ``{id, name, type, category, status, progress {total, completed, failed}, createdAt,
completedAt}``; times are epoch milliseconds, ``completedAt`` null until the job ends. Statuses pending, running,
completed, failed, cancelled; categories seo, ai, sync, export. Keys carry one of three permission levels, read <
write < admin; a read key may only list and get.

INVENTED — the public docs do not show them:
- the envelope, one shape for every answer: ``{"success": true, "data": ...}`` and
  ``{"success": false, "error": {"code": "...", "message": "..."}}``; the list's ``data`` is a bare array;
- the error codes and statuses: 401 ``UNAUTHORIZED``, 403 ``FORBIDDEN`` (a read key cancelling), 404
  ``NOT_FOUND`` (job or route), 405 ``METHOD_NOT_ALLOWED``, 400 ``VALIDATION_ERROR`` (bad status, category or
  limit), 409 ``JOB_NOT_CANCELLABLE`` (job already ended), 429 ``RATE_LIMITED`` and 5xx ``INTERNAL_ERROR``
  (fault injection only); and every message;
- ``limit``: default 20, a whole number from 1 to 100; no paging beyond it (the docs show none);
- the sort order (newest first), the id format, the job ``type`` names, the pace of each job (one item every
  few seconds), the log wording, that ``completedAt`` of a cancelled job is when the cancel was accepted;
- tokens: the fixed sandbox tokens in ``seed.py`` keep their level whatever ``tokens`` says; with
  ``tokens=None`` any other non-empty token is an admin key; with ``tokens`` given, only those (besides the
  sandbox ones) are accepted, each with the highest level its set names (``"*"``: admin; none: every route is
  refused 403).

The clock moves jobs on: pending until their start, then running with ``progress`` climbing one item per step,
then completed (items may have failed) or failed (a fatal error at a given item); logs grow with them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from jobs_mcp.providers.wiserows import seed as data
from jobs_mcp.sandbox.auth import TokenAuth, lookup
from jobs_mcp.sandbox.docstore import DocStore
from jobs_mcp.sandbox.faults import FaultInjector, FaultMiddleware, admin_routes

Clock = Callable[[], datetime]
Doc = dict[str, Any]
BASE = "/api/v1"
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
LEVEL_RANK = {level: i + 1 for i, level in enumerate(data.LEVELS)}
STATUS_CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 429: "RATE_LIMITED"}


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- envelope ------------------------------------------------------------------------------------------------------


def ok(payload: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"success": True, "data": payload}, status_code=status)


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"success": False, "error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


class WiseRowsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message)
        self.status, self.code, self.message = status, code, message


# --- the job state machine -------------------------------------------------------------------------------------------


def _plural(unit: str) -> str:
    word = unit.lower()
    return word + ("es" if word.endswith(("ch", "sh", "x")) else "s")


def _duration(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def settle(doc: Doc, now: int, *, with_logs: bool = False) -> Doc:
    """The public job as it stands at ``now`` (epoch ms), worked out from its plan; with ``logs`` if asked."""
    job, plan = doc["job"], doc["plan"]
    items: list[list[str]] = plan["items"]
    total, start, step, unit = len(items), plan["start_ms"], plan["step_ms"], plan["unit"]
    fatal = plan.get("fatal")
    fatal_at: int | None = fatal["index"] if fatal else None
    natural = fatal_at + 1 if fatal_at is not None else total
    natural_end = start + natural * step
    cancel: int | None = plan.get("cancel_ms")
    logs: list[tuple[int, str, str]] = [(job["createdAt"], "info", f"Job queued: {job['name']}")]

    if cancel is not None and cancel < natural_end:
        status, ended = "cancelled", cancel
        count = 0 if cancel < start else min(natural, (cancel - start) // step + 1)
    elif now < start:
        status, ended, count = "pending", None, 0
    else:
        count = min(natural, (now - start) // step)
        finished = count == natural
        status = ("failed" if fatal_at is not None else "completed") if finished else "running"
        ended = natural_end if finished else None

    failed = sum(1 for i in range(count) if items[i][1] == "fail" or i == fatal_at)
    public = {
        "id": job["id"],
        "name": job["name"],
        "type": job["type"],
        "category": job["category"],
        "status": status,
        "progress": {"total": total, "completed": count - failed, "failed": failed},
        "createdAt": job["createdAt"],
        "completedAt": ended,
    }
    if not with_logs:
        return public
    clip = ended if status == "cancelled" else None  # the step in flight at a cancel is logged with the cancel
    if status != "pending" and (clip is None or clip >= start):
        logs.append((start, "info", f"Job started: {total} {_plural(unit)} to process"))
        logs += [(start + k + 1, "info", line) for k, line in enumerate(plan["intro"])]
    for i in range(count):
        at = start + (i + 1) * step
        if clip is not None:
            at = min(at, clip)
        label, kind, text = items[i]
        head = f"{unit} {i + 1}/{total} '{label}'"
        if i == fatal_at:
            logs.append((at, "error", f"{head}: {fatal['message']}"))
        elif kind == "retry":
            logs += [(at - step // 2, "warn", f"{head}: {text}"), (at, "info", f"{head}: done after a retry")]
        else:
            logs.append((at, {"ok": "info", "warn": "warn", "fail": "error"}[kind], f"{head}: {text}"))
    done = f"{count - failed} of {total} {_plural(unit)} done, {failed} failed"
    if clip is not None and clip < start:
        logs.append((clip, "info", "Job cancelled before it started"))
    elif clip is not None:
        logs.insert(0, (clip, "warn", "Cancellation requested: the step in progress will finish, then the job stops"))
        logs.append((clip, "info", f"Job cancelled: {done}; finished work is kept (no rollback)"))
    elif status == "failed" and ended is not None:
        logs.append((ended + 1, "error", f"Job failed after {_duration(ended - start)}: {done}"))
    elif status == "completed" and ended is not None:
        logs.append((ended + 1, "info", f"Job completed in {_duration(ended - start)}: {done}"))
    logs.sort(key=lambda entry: entry[0])
    public["logs"] = [{"timestamp": ts, "level": level, "message": message} for ts, level, message in logs]
    return public


# --- auth ------------------------------------------------------------------------------------------------------------


def _key_level(tokens: dict[str, set[str]] | None) -> Callable[[str], str | None]:
    """A bearer key -> its permission level ("" for a key that names none), None for an unknown key."""

    def level(token: str) -> str | None:
        if token in data.SANDBOX_TOKENS:
            return data.SANDBOX_TOKENS[token]
        if tokens is None:
            return "admin"
        granted = lookup(tokens, token)
        if granted is None:
            return None
        named = [level for level in data.LEVELS if level in granted or "*" in granted]
        return named[-1] if named else ""

    return level


def _refuse(_scope: Scope, token: str) -> Response:
    if not token:
        return error_response(401, "UNAUTHORIZED", "Missing API key: send it as 'Authorization: Bearer ds_...'")
    return error_response(401, "UNAUTHORIZED", "Invalid API key")


def _require(request: Request, level: str, action: str) -> None:
    held = request.state.level
    if LEVEL_RANK.get(held or "", 0) < LEVEL_RANK[level]:
        have = f"'{held}' permission" if held else "no permission"
        raise WiseRowsError(403, "FORBIDDEN", f"This API key has {have}; {action} needs '{level}' or higher")


# --- the API ---------------------------------------------------------------------------------------------------------


class WiseRowsApi:
    def __init__(self, db_path: str | None, clock: Clock) -> None:
        self.clock = clock
        self.store = DocStore(db_path, seed=data.seeder(self.now))

    def now(self) -> int:
        return data.epoch_ms(self.clock())

    def _doc(self, request: Request) -> Doc:
        doc = self.store.get("job", str(request.path_params["job_id"]))
        if doc is None:
            raise WiseRowsError(404, "NOT_FOUND", f"Job {request.path_params['job_id']} not found")
        return doc

    async def list_jobs(self, request: Request) -> Response:
        _require(request, "read", "listing jobs")
        q = request.query_params
        status, category = q.get("status") or None, q.get("category") or None
        if status is not None and status not in data.STATUSES:
            raise WiseRowsError(400, "VALIDATION_ERROR", f"status must be one of {', '.join(data.STATUSES)}")
        if category is not None and category not in data.CATEGORIES:
            raise WiseRowsError(400, "VALIDATION_ERROR", f"category must be one of {', '.join(data.CATEGORIES)}")
        limit = _limit(q.get("limit"))
        now = self.now()
        jobs = [settle(doc, now) for doc in self.store.all("job")]
        jobs = [
            j for j in jobs if (not status or j["status"] == status) and (not category or j["category"] == category)
        ]
        jobs.sort(key=lambda j: (j["createdAt"], j["id"]), reverse=True)
        return ok(jobs[:limit])

    async def get_job(self, request: Request) -> Response:
        _require(request, "read", "reading a job")
        return ok(settle(self._doc(request), self.now(), with_logs=True))

    async def cancel_job(self, request: Request) -> Response:
        _require(request, "write", "cancelling a job")
        with self.store.transaction():
            doc = self._doc(request)
            now = self.now()
            status = settle(doc, now)["status"]
            if status not in ("pending", "running"):
                message = f"Job {doc['job']['id']} is {status}; only pending or running jobs can be cancelled"
                raise WiseRowsError(409, "JOB_NOT_CANCELLABLE", message)
            doc["plan"]["cancel_ms"] = now
            self.store.put("job", doc["job"]["id"], doc)
        return ok({"id": doc["job"]["id"], "status": "cancelled"})


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise WiseRowsError(400, "VALIDATION_ERROR", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def create_app(
    *,
    db_path: str | None = None,
    tokens: dict[str, set[str]] | None = None,
    now: Clock | None = None,
    faults: FaultInjector | None = None,
) -> Starlette:
    """A WiseRows simulator over SQLite (memory unless ``db_path``), seeded on the first request."""
    clock = now or _utcnow
    injector = faults if faults is not None else FaultInjector()
    api = WiseRowsApi(db_path, clock)

    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WiseRowsError)
        return error_response(exc.status, exc.code, exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        where = f"{request.method} {request.url.path}"
        if exc.status_code == 405:
            return error_response(405, "METHOD_NOT_ALLOWED", f"Method not allowed: {where}", exc.headers)
        code = STATUS_CODES.get(exc.status_code, "INTERNAL_ERROR")
        return error_response(exc.status_code, code, f"No route: {where}" if exc.status_code == 404 else exc.detail)

    def fault_body(status: int, message: str, headers: dict[str, str] | None) -> Response:
        return error_response(status, STATUS_CODES.get(status, "INTERNAL_ERROR"), message, headers)

    routes = [
        Route(f"{BASE}/jobs", api.list_jobs, methods=["GET"]),
        Route(BASE + "/jobs/{job_id}", api.get_job, methods=["GET"]),
        Route(BASE + "/jobs/{job_id}/cancel", api.cancel_job, methods=["POST"]),
    ]
    app = Starlette(
        routes=[*routes, *admin_routes(injector)],
        middleware=[
            Middleware(FaultMiddleware, faults=injector, error_body=fault_body),
            Middleware(TokenAuth, resolve=_key_level(tokens), refuse=_refuse, state_key="level"),
        ],
        exception_handlers={WiseRowsError: api_error, HTTPException: http_error},
    )
    app.router.redirect_slashes = False
    app.state.store = api.store
    app.state.faults = injector
    return app


__all__ = ["create_app", "settle"]
