"""The OwlMetry simulator: ``create_app()`` serves OwlMetry's job-run API over a seeded SQLite store.

Routes (real, owlmetry/owlmetry@e9b6cab ``apps/server/src/routes/jobs.ts``):
- ``GET  /v1/teams/{team_id}/jobs`` — ``{job_runs, cursor, has_more}``, newest first (created_at, then id);
  filters ``job_type``, ``status``, ``project_id``, ``since``/``until`` (``30s``/``30m``/``1h``/``7d``/``2w`` or an
  ISO date, on created_at), ``cursor`` (``"<ISO>|<id>"``), ``limit`` (``Number(x) || 50``, clamped 1..200).
  Team runs only: system runs (team_id null) never appear. Needs ``jobs:read``; users need admin or owner.
- ``POST /v1/teams/{team_id}/jobs/trigger`` — ``{job_type, project_id?, params?, notify=false}`` -> 201
  ``{job_run}`` (pending). 400 unknown type (lists all 18) / system type / project-scoped type without
  project_id; 404 ``Project not found`` (project not in the caller's teams); 409 ``{error, existing_run_id}``
  when a run of that type (and project, when given) is pending or running in the team. Needs ``jobs:write``;
  users need admin or owner. ``params`` gets ``project_id`` merged in; ``triggered_by`` is
  ``manual:user:<id>`` or ``manual:api_key:<key id>``.
- ``GET  /v1/jobs/{run_id}`` — ``{job_run}``; 404 ``Job run not found`` for unknown runs, other teams' runs and
  system runs. Needs ``jobs:read``; users need only membership.
- ``POST /v1/jobs/{run_id}/cancel`` — ``{cancelled: true}``; 400 ``Cannot cancel a job with status "<s>"``
  unless running; 404 as above except that, as in the real code, a running *system* run may be cancelled
  (the route only checks team access when the run has a team). Needs ``jobs:write``; users need membership.
- ``/_sandbox/...`` fault and hit-count controls (``jobs_mcp.sandbox.faults``), no token.

Errors are ``{"error": "<message>"}`` (plus ``existing_run_id`` on 409). Auth is per route, as Fastify's
preHandler does it: ``Authorization: Bearer <token>`` -> 401 ``Missing authorization`` / ``Invalid authorization
format`` / ``Invalid API key`` / ``API key expired`` / ``Invalid or expired token``; an API key without the
permission -> 403 ``Missing permission: jobs:write``; another team -> 403 ``Not a member of this team``; a
member below admin -> 403 ``Requires admin role or higher``. Fastify's own answers keep Fastify's shape
``{statusCode, [code], error, message}``: unknown route or method (404, checked before any auth), a POST body
that is not JSON (400, also before auth), and the 500s the real server gives for a malformed uuid in the path,
``project_id`` or cursor, an unknown ``status`` value (Postgres enum) or an unparseable ``since``/``until``.

State machine (real): pending -> running -> completed | failed | cancelled. A completed run's progress snaps to
processed = total (when total > 0); failed and cancelled runs keep the partial progress; cancellation is
cooperative: the run goes on until the handler next checks, then ends ``cancelled`` with the partial result and
``cancelled_at`` (a failure that comes first still wins). When the app opens a database that an earlier app
seeded (a file), it does what the real server does at start-up: pending and running runs become failed
``Server restarted during execution``.

Invented (no public source): how long runs wait and run (a triggered run is pending for 2 s, then runs at a
fixed pace per item; the seeded pending run waits ~4 minutes), that a cancel takes effect 2 s after it is
asked, the outcome of a triggered run (from the seeded project's integrations: a missing or disabled one fails
with the real handler's message), the numbers in progress and results; ``limit`` values that are not whole
numbers are rounded down; the sandbox credentials. Tokens: the fixed sandbox tokens in ``seed.py`` always work
with their own identity; with ``tokens=None`` any other non-empty token is an agent key of the seeded team with
every agent permission; with ``tokens`` given, only those (besides the sandbox ones) are accepted: an
``owl_client_``/``owl_agent_``/``owl_import_`` token is an API key of the seeded team holding exactly the given
permissions (``"*"``: every agent permission), any other token is a user of the seeded team whose role is the
set's ``role:<owner|admin|member>`` entry (default owner). There is one server, so ``Job is not currently running
on this server`` never happens.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jobs_mcp.providers.owlmetry import seed as data
from jobs_mcp.sandbox.docstore import DocStore
from jobs_mcp.sandbox.faults import FaultInjector, FaultMiddleware, admin_routes

Clock = Callable[[], datetime]
Doc = dict[str, Any]

TRIGGER_WAIT_MS = 2000  # a triggered run is pending this long
CANCEL_DELAY_MS = 2000  # a cancelled run notices the flag this long after the request
RESTART_ERROR = "Server restarted during execution"
ROLE_RANK = {"member": 1, "admin": 2, "owner": 3}
_RELATIVE_UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- errors --------------------------------------------------------------------------------------------------------


class OwlError(Exception):
    """An answer other than success: the route's own ``{"error": ...}`` body, or Fastify's shape."""

    def __init__(self, status: int, body: Doc) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def fail(status: int, message: str, **extra: Any) -> OwlError:
    return OwlError(status, {"error": message, **extra})


def fastify_fail(status: int, message: str, code: str | None = None) -> OwlError:
    body: Doc = {"statusCode": status}
    if code:
        body["code"] = code
    return OwlError(status, body | {"error": HTTPStatus(status).phrase, "message": message})


def _uuid(value: str, what: str = "uuid") -> str:
    """Postgres' uuid input: a malformed one is a 500 (no error handler maps it)."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise fastify_fail(500, f'invalid input syntax for type {what}: "{value}"') from None


# --- time ----------------------------------------------------------------------------------------------------------


def _parse_date(text: str) -> datetime | None:
    """``new Date(text)`` for the ISO forms; a time without an offset is read as UTC (the server's zone)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def parse_time_param(text: str, now_ms: int) -> int:
    """``parseTimeParam``: ``<n><s|m|h|d|w>`` before now, or an absolute date; else the handler throws (500)."""
    if len(text) >= 2 and text[:-1].isdigit() and text[:-1].isascii() and text[-1] in _RELATIVE_UNITS:
        return now_ms - int(text[:-1]) * _RELATIVE_UNITS[text[-1]]
    moment = _parse_date(text)
    if moment is None:
        raise fastify_fail(500, f'Invalid time input: "{text}". Use relative (e.g. 1h, 30m, 7d) or ISO 8601 format.')
    return data.epoch_ms(moment)


def _ms(iso: str) -> int:
    moment = _parse_date(iso)
    assert moment is not None
    return data.epoch_ms(moment)


# --- the run state machine -------------------------------------------------------------------------------------------


def settle(doc: Doc, now_ms: int) -> Doc:
    """The public JobRun as it stands at ``now_ms``, worked out from the stored run and its plan."""
    plan, run = doc["plan"], dict(doc["run"])
    if plan.get("frozen"):
        return dict(plan["frozen"])
    start, end, outcome = plan["start_ms"], plan["end_ms"], plan["outcome"]
    if now_ms < start:
        return run
    natural_end = end
    if plan.get("cancel_ms") is not None:
        noticed = max(plan["cancel_ms"], start) + CANCEL_DELAY_MS
        if not (outcome == "failed" and end <= noticed):
            end, outcome = min(end, noticed), "cancelled"
    at = min(now_ms, end)
    span = max(natural_end - start, 1)
    processed = min(plan["processed"], plan["processed"] * (at - start) // span)
    total, job_type = plan["total"], run["job_type"]
    progress = None
    if plan["processed"] > 0:
        progress = {
            "processed": processed,
            "total": total,
            "message": data.progress_message(job_type, processed, total),
        }
    run |= {"status": "running", "started_at": data.iso_ms(start), "progress": progress}
    if now_ms < end:
        return run
    run |= {"status": outcome, "completed_at": data.iso_ms(end)}
    if outcome == "failed":
        return run | {"error": plan["error"]}
    result = plan.get("result") or data.run_result(job_type, processed, total)
    if outcome == "cancelled":
        return run | {"result": result | {"cancelled_at": processed}}
    if progress is not None and total > 0:
        progress = {"processed": total, "total": total, "message": data.progress_message(job_type, total, total)}
    return run | {"result": result, "progress": progress}


# --- who is asking ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    kind: str  # api_key | user
    ident: str  # key id or user id
    permissions: frozenset[str]
    roles: dict[str, str | None]  # team id -> role (None for an API key's one team)

    @property
    def triggered_by(self) -> str:
        return f"manual:{'user' if self.kind == 'user' else 'api_key'}:{self.ident}"


def _derived_id(token: str) -> str:
    return str(uuid.UUID(hashlib.sha256(token.encode()).hexdigest()[:32], version=4))


def _key_principal(key: data.ApiKey) -> Principal:
    if key.expired:
        raise fail(401, "API key expired")
    return Principal("api_key", key.key_id, key.permissions, {key.team_id: None})


class Authenticator:
    """Maps a bearer token to a principal, as ``requireAuth`` does (sandbox tokens first, then ``tokens``)."""

    def __init__(self, tokens: dict[str, set[str]] | None) -> None:
        self.tokens = tokens

    def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if header is None:
            raise fail(401, "Missing authorization")
        parts = header.split(" ")
        if parts[0] != "Bearer" or len(parts) < 2 or not parts[1]:
            raise fail(401, "Invalid authorization format")
        token = parts[1]
        if token in data.SANDBOX_KEYS:
            return _key_principal(data.SANDBOX_KEYS[token])
        if token in data.SANDBOX_USERS:
            user = data.SANDBOX_USERS[token]
            return Principal("user", user.user_id, frozenset(), dict(user.roles))
        key_type = next((t for p, t in data.KEY_PREFIXES.items() if token.startswith(p)), None)
        if self.tokens is None:
            return Principal("api_key", _derived_id(token), data.AGENT_PERMISSIONS, {data.TEAM_ID: None})
        if token not in self.tokens:
            raise fail(401, "Invalid API key" if key_type else "Invalid or expired token")
        granted = frozenset(self.tokens[token])
        if "*" in granted:  # every permission, as `jobs-mcp sandbox --token` promises
            granted |= data.AGENT_PERMISSIONS
        if key_type:
            return _key_principal(data.ApiKey(_derived_id(token), key_type, data.TEAM_ID, granted))
        role = next((g.removeprefix("role:") for g in sorted(granted) if g.startswith("role:")), "owner")
        return Principal("user", _derived_id(token), frozenset(), {data.TEAM_ID: role})

    def require(self, request: Request, permission: str) -> Principal:
        """``requirePermission``: users skip permissions (their role is checked by the route)."""
        principal = self.principal(request)
        if principal.kind == "api_key" and permission not in principal.permissions:
            raise fail(403, f"Missing permission: {permission}")
        return principal


def _require_team(principal: Principal, team_id: str, *, admin: bool) -> None:
    if team_id not in principal.roles:
        raise fail(403, "Not a member of this team")
    role = principal.roles[team_id]
    if admin and principal.kind == "user" and ROLE_RANK.get(role or "", 0) < ROLE_RANK["admin"]:
        raise fail(403, "Requires admin role or higher")


# --- the API ---------------------------------------------------------------------------------------------------------


class OwlMetryApi:
    def __init__(self, db_path: str | None, clock: Clock, auth: Authenticator) -> None:
        self.clock = clock
        self.auth = auth
        self._seeded_here = False
        self._opened = False
        self._lock = threading.Lock()
        base_seed = data.seeder(clock)

        def seed(store: DocStore) -> None:
            base_seed(store)
            self._seeded_here = True

        self.store = DocStore(db_path, seed=seed)

    def now_ms(self) -> int:
        return data.epoch_ms(self.clock())

    # --- store ---------------------------------------------------------------------------------------------

    def _open(self) -> None:
        """Seed a new database, or recover stale runs in one an earlier app left behind (server restart)."""
        with self._lock:
            if self._opened:
                return
            self.store.all("team")
            if not self._seeded_here:
                now = self.now_ms()
                with self.store.transaction():
                    for doc in self.store.all("run"):
                        run = settle(doc, now)
                        if run["status"] in ("pending", "running"):
                            run |= {"status": "failed", "error": RESTART_ERROR, "completed_at": data.iso_ms(now)}
                            doc["plan"]["frozen"] = run
                            self.store.put("run", run["id"], doc, parent=run["team_id"] or "")
            self._opened = True

    def _runs(self, team_id: str) -> list[Doc]:
        now = self.now_ms()
        return [settle(doc, now) for doc in self.store.all("run", parent=team_id)]

    def _run_doc(self, raw_id: str) -> Doc:
        doc = self.store.get("run", _uuid(raw_id))
        if doc is None:
            raise fail(404, "Job run not found")
        return doc

    # --- handlers ------------------------------------------------------------------------------------------

    async def list_runs(self, request: Request) -> Response:
        principal = self.auth.require(request, "jobs:read")
        team_id = str(request.path_params["team_id"])
        _require_team(principal, team_id, admin=True)
        self._open()
        q = request.query_params
        now = self.now_ms()
        limit = _limit(q.get("limit"))
        keep = _filters(q, now)
        runs = sorted(
            (r for r in self._runs(team_id) if keep(r)), key=lambda r: (r["created_at"], r["id"]), reverse=True
        )
        page = runs[:limit]
        has_more = len(runs) > limit
        cursor = f"{page[-1]['created_at']}|{page[-1]['id']}" if has_more and page else None
        return JSONResponse({"job_runs": page, "cursor": cursor, "has_more": has_more})

    async def trigger(self, request: Request) -> Response:
        body = await _json_body(request)
        principal = self.auth.require(request, "jobs:write")
        team_id = str(request.path_params["team_id"])
        _require_team(principal, team_id, admin=True)
        if body is UNDEFINED or body is None:
            what = "undefined" if body is UNDEFINED else "null"
            raise fastify_fail(500, f"Cannot destructure property 'job_type' of 'request.body' as it is {what}.")
        self._open()
        fields = body if isinstance(body, dict) else {}
        job_type, project_id = fields.get("job_type"), fields.get("project_id")
        if not isinstance(job_type, str) or job_type not in data.JOB_TYPES:
            raise fail(400, f"Invalid job_type. Must be one of: {', '.join(data.JOB_TYPES)}")
        scope = data.JOB_TYPES[job_type]
        if scope == "system":
            raise fail(400, f'Cannot trigger system job "{job_type}" via API')
        if scope == "project" and not project_id:
            raise fail(400, "project_id is required for project-scoped jobs")
        project = self._project(principal, project_id) if project_id else None
        if project is not None:
            project_id = project["id"]
        now = self.now_ms()
        with self.store.transaction():
            for run in self._runs(team_id):
                same_project = project_id is None or run["project_id"] == project_id
                if run["job_type"] == job_type and run["status"] in ("pending", "running") and same_project:
                    raise fail(409, "A job of this type is already running or pending", existing_run_id=run["id"])
            doc = self._new_run(principal, team_id, job_type, project, fields, now)
            self.store.put("run", doc["run"]["id"], doc, parent=team_id)
        return JSONResponse({"job_run": settle(doc, now)}, status_code=201)

    async def get_run(self, request: Request) -> Response:
        principal = self.auth.require(request, "jobs:read")
        self._open()
        doc = self._run_doc(str(request.path_params["run_id"]))
        team_id = doc["run"]["team_id"]
        if not team_id or team_id not in principal.roles:
            raise fail(404, "Job run not found")
        return JSONResponse({"job_run": settle(doc, self.now_ms())})

    async def cancel(self, request: Request) -> Response:
        await _json_body(request)  # Fastify parses (and may refuse) a body before the route runs
        principal = self.auth.require(request, "jobs:write")
        self._open()
        with self.store.transaction():
            doc = self._run_doc(str(request.path_params["run_id"]))
            team_id = doc["run"]["team_id"]
            if team_id and team_id not in principal.roles:
                raise fail(404, "Job run not found")
            now = self.now_ms()
            status = settle(doc, now)["status"]
            if status != "running":
                raise fail(400, f'Cannot cancel a job with status "{status}"')
            if doc["plan"].get("cancel_ms") is None:
                doc["plan"]["cancel_ms"] = now
                self.store.put("run", doc["run"]["id"], doc, parent=team_id or "")
        return JSONResponse({"cancelled": True})

    # --- helpers -------------------------------------------------------------------------------------------

    def _project(self, principal: Principal, raw_id: Any) -> Doc:
        """``resolveProject``: the project must exist and belong to one of the caller's teams."""
        project = self.store.get("project", _uuid(str(raw_id))) if isinstance(raw_id, str) else None
        if project is None or project["team_id"] not in principal.roles:
            raise fail(404, "Project not found")
        return project

    def _new_run(
        self, principal: Principal, team_id: str, job_type: str, project: Doc | None, fields: Doc, now: int
    ) -> Doc:
        extra = fields.get("params")
        params = ({"project_id": project["id"]} if project else {}) | (extra if isinstance(extra, dict) else {})
        plan = data.trigger_outcome(job_type, project)
        start = now + TRIGGER_WAIT_MS
        return data.new_run(
            run_id=str(uuid.uuid4()),
            job_type=job_type,
            team_id=team_id,
            project_id=project["id"] if project else None,
            triggered_by=principal.triggered_by,
            params=params,
            notify=bool(fields.get("notify") or False),
            created_ms=now,
            start_ms=start,
            end_ms=start + plan.duration_ms,
            outcome=plan.outcome,
            total=plan.total,
            processed=plan.processed,
            error=plan.error,
        )


def _limit(raw: str | None) -> int:
    """``normalizeLimit``: ``Number(raw) || 50`` clamped to 1..200 (rounded down)."""
    try:
        number = float(raw.strip()) if raw and raw.strip() else 0.0
    except ValueError:
        number = 0.0
    if math.isnan(number) or number == 0:
        number = 50
    return math.floor(min(max(number, 1), 200))


def _filters(q: QueryParams, now: int) -> Callable[[Doc], bool]:
    """The list's WHERE clause; malformed values fail the way Postgres / the handler make them fail."""
    job_type, status, project_id = q.get("job_type"), q.get("status"), q.get("project_id")
    if status and status not in data.STATUSES:
        raise fastify_fail(500, f'invalid input value for enum job_status: "{status}"')
    if project_id:
        project_id = _uuid(project_id)
    since = parse_time_param(q["since"], now) if q.get("since") else None
    until = parse_time_param(q["until"], now) if q.get("until") else None
    after: tuple[int, str] | None = None
    if q.get("cursor"):
        parts = q["cursor"].split("|")
        if len(parts) > 1 and parts[0] and parts[1]:
            moment = _parse_date(parts[0])
            if moment is None:
                raise fastify_fail(500, "Invalid time value")
            after = (data.epoch_ms(moment), _uuid(parts[1]))

    def keep(run: Doc) -> bool:
        created = _ms(run["created_at"])
        if job_type and run["job_type"] != job_type:
            return False
        if (status and run["status"] != status) or (project_id and run["project_id"] != project_id):
            return False
        if (since is not None and created < since) or (until is not None and created > until):
            return False
        if after is not None:
            at, run_id = after
            return created < at or (at <= created < at + 1 and run["id"] < run_id)
        return True

    return keep


UNDEFINED: Any = object()  # no body at all (JavaScript's undefined)


async def _json_body(request: Request) -> Any:
    """Fastify's body parsing, which happens before the route's auth: UNDEFINED, the JSON value, or a 400/415."""
    raw = await request.body()
    ctype = request.headers.get("content-type")
    if ctype is None:
        if raw:
            raise fastify_fail(415, "Unsupported Media Type", "FST_ERR_CTP_INVALID_MEDIA_TYPE")
        return UNDEFINED
    if "json" not in ctype.lower():
        raise fastify_fail(415, f"Unsupported Media Type: {ctype}", "FST_ERR_CTP_INVALID_MEDIA_TYPE")
    if not raw.strip():
        raise fastify_fail(
            400, "Body cannot be empty when content-type is set to 'application/json'", "FST_ERR_CTP_EMPTY_JSON_BODY"
        )
    try:
        return json.loads(raw)
    except ValueError:
        raise fastify_fail(
            400, "Body is not valid JSON but content-type is set to 'application/json'", "FST_ERR_CTP_INVALID_JSON_BODY"
        ) from None


def create_app(
    *,
    db_path: str | None = None,
    tokens: dict[str, set[str]] | None = None,
    now: Clock | None = None,
    faults: FaultInjector | None = None,
) -> Starlette:
    """An OwlMetry simulator over SQLite (memory unless ``db_path``), seeded on the first request."""
    clock = now or _utcnow
    injector = faults if faults is not None else FaultInjector()
    api = OwlMetryApi(db_path, clock, Authenticator(tokens))

    async def owl_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OwlError)
        return JSONResponse(exc.body, status_code=exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in (404, 405):  # Fastify has no 405: a method without a route is a 404
            message = f"Route {request.method}:{request.url.path} not found"
            return JSONResponse({"message": message, "error": "Not Found", "statusCode": 404}, status_code=404)
        return JSONResponse(fastify_fail(exc.status_code, str(exc.detail)).body, status_code=exc.status_code)

    def fault_body(status: int, message: str, headers: dict[str, str] | None) -> Response:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    routes = [
        Route("/v1/teams/{team_id}/jobs", api.list_runs, methods=["GET"]),
        Route("/v1/teams/{team_id}/jobs/trigger", api.trigger, methods=["POST"]),
        Route("/v1/jobs/{run_id}", api.get_run, methods=["GET"]),
        Route("/v1/jobs/{run_id}/cancel", api.cancel, methods=["POST"]),
    ]
    app = Starlette(
        routes=[*routes, *admin_routes(injector)],
        middleware=[Middleware(FaultMiddleware, faults=injector, error_body=fault_body)],
        exception_handlers={OwlError: owl_error, HTTPException: http_error},
    )
    app.router.redirect_slashes = False
    app.state.store = api.store
    app.state.faults = injector
    return app


__all__ = ["CANCEL_DELAY_MS", "TRIGGER_WAIT_MS", "create_app", "settle"]
