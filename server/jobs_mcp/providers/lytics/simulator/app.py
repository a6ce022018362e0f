"""The Lytics simulator as a Starlette app: ``create_app()``.

Routes follow Lytics' published v2 API and its job-manager skill:
``GET|POST /v2/job``, ``GET /v2/job/logs``, ``GET /v2/job/{id}``, ``POST /v2/job/{workflow}``,
``GET|PUT /v2/job/{workflow}/{id}``, ``POST /v2/job/{id}/{pause|resume|bounce|kill|release}``,
``GET /v2/job/{id}/logs``, ``GET /v2/job/{workflow}/{id}/logs``, ``GET /v2/auth`` and the v1 ``GET /api/workflow``.
Invented (no public source): ``GET /api/workflow/{workflow}``, one workflow with the definitions of its config
fields, and the config checks made with them on create and update (rules.py); the bodies of ``GET /v2/stream``,
``GET /v2/schema/user/field`` and ``GET /v2/control/eventquota/thresholds``; what ``release`` does (nothing);
that ``include_errors`` changes nothing (every error is already in the stored log); the ``/_sandbox/...`` control
routes (faults.py).

The token goes raw in ``Authorization`` (``?access_token=`` or ``?key=`` also work on the v1 ``/api`` routes);
``tokens=None`` accepts any non-empty token; Lytics publishes no list of job permissions, so every accepted
token may do everything. A missing or rejected token gets the older 401 body.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jobs_mcp.providers.lytics.simulator.envelope import (
    BADREQ,
    FORBIDDEN,
    INTERNAL,
    JOB_NOTFOUND,
    JSON_BADREQ,
    NOTFOUND,
    RATE_LIMIT,
    UNAUTHORIZED,
    WF_NOTFOUND,
    LyticsError,
    rfc3339,
    v1_ok,
    v1_unauthorized,
    v2_error,
    v2_ok,
    v2_ok_raw,
)
from jobs_mcp.providers.lytics.simulator.rules import (
    ACTIONS,
    LIST_FLAGS,
    apply_action,
    bad,
    check_payload,
    is_deleted,
    parse_flag,
    snake,
    visible,
)
from jobs_mcp.providers.lytics.simulator.seed import USER_EMAIL, job_document
from jobs_mcp.providers.lytics.simulator.store import JobRecord, Store
from jobs_mcp.sandbox.auth import TokenAuth, lookup
from jobs_mcp.sandbox.faults import FaultInjector, FaultMiddleware, admin_routes

Clock = Callable[[], datetime]
Handler = Callable[[Request], Awaitable[Response]]
FAULT_CODES = {400: BADREQ, 401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOTFOUND, 429: RATE_LIMIT}
STATE_FIELDS = ("state", "last_run", "sleep_until")  # only GET /v2/job?show_state=true shows these


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _accepted(tokens: Collection[str] | None) -> Callable[[str], bool | None]:
    """A token -> True when accepted (any token when ``tokens`` is None), else None."""
    known = {t: True for t in tokens} if tokens is not None else None
    return lambda token: True if known is None else lookup(known, token)


def _v1_token(request: Request) -> str:
    """The v1 ``/api`` routes also take the token as ``?access_token=`` or ``?key=``."""
    if not request.url.path.startswith("/api/"):
        return ""
    return request.query_params.get("access_token") or request.query_params.get("key") or ""


class LyticsApi:
    """The route handlers, over one store and one clock."""

    def __init__(self, store: Store, now: Clock) -> None:
        self.store = store
        self.now = now

    # --- helpers ------------------------------------------------------------------------------------------

    def _workflows(self) -> dict[str, dict[str, Any]]:
        return {w["id"]: w for w in self.store.catalog("workflows")}

    def _auths(self) -> dict[str, dict[str, Any]]:
        return {a["id"]: a for a in self.store.catalog("auths")}

    def _job(self, request: Request) -> JobRecord:
        """The job named by the path; with a workflow in the path, it must be the job's workflow."""
        job_id = str(request.path_params["job_id"])
        workflow = request.path_params.get("workflow")
        if workflow is not None and snake(workflow) not in self._workflows():
            raise LyticsError(404, WF_NOTFOUND, f"workflow {snake(workflow)!r} does not exist")
        record = self.store.job(job_id)
        if record is None or (workflow is not None and record.doc["workflow"] != snake(workflow)):
            where = f" in workflow {snake(workflow)}" if workflow else ""
            raise LyticsError(404, JOB_NOTFOUND, f"job {job_id} not found{where}")
        return record

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise bad("request body is not valid JSON", JSON_BADREQ) from None
        if not isinstance(body, dict):
            raise bad("request body must be a JSON object", JSON_BADREQ)
        return body

    def _log(self, record: JobRecord, what: str) -> None:
        self.store.add_log(
            {
                "job_id": record.id,
                "context": {"user_email": USER_EMAIL},
                "code": "",
                "message": f"Job {what} by user {USER_EMAIL}",
                "level": "info",
                "timestamp": rfc3339(self.now()),
            }
        )

    # --- jobs ---------------------------------------------------------------------------------------------

    async def list_jobs(self, request: Request) -> Response:
        query = request.query_params
        flags = {name: parse_flag(name, query.get(name)) for name in LIST_FLAGS}
        workflow = snake(query.get("workflow") or "")
        auth_ids = {a.strip() for value in query.getlist("auth_ids") for a in value.split(",") if a.strip()}
        listed = []
        for record in self.store.jobs():
            job = record.doc
            if not visible(job, flags) or (workflow and job["workflow"] != workflow):
                continue
            if auth_ids and not auth_ids & set(job["auth_ids"]):
                continue
            listed.append(job | {k: record.work.get(k) for k in STATE_FIELDS} if flags["show_state"] else job)
        return v2_ok(listed)

    async def get_job(self, request: Request) -> Response:
        return v2_ok(self._job(request).doc)

    async def create_job(self, request: Request) -> Response:
        run = parse_flag("run_job", request.query_params.get("run_job"), default=True)
        body = await self._body(request)
        in_path, in_body = request.path_params.get("workflow"), body.get("workflow")
        if in_body is not None and not isinstance(in_body, str):
            raise bad("workflow must be a string")
        if in_path and in_body and snake(in_body) != snake(in_path):
            raise bad(f"workflow {in_body!r} in the body differs from {in_path!r} in the path")
        workflow = snake(in_path or in_body or "")
        if not workflow:
            raise bad("workflow is required (in the body or the path)")
        payload = check_payload(body, workflow, self._workflows(), self._auths())
        now = rfc3339(self.now())
        doc = job_document(
            job_id=uuid.uuid4().hex,
            name=payload.name,
            workflow=workflow,
            config=payload.config,
            auth_ids=payload.auth_ids,
            status="initializing" if run else "paused",
            created=now,
            updated=now,
            fields=payload.fields,
        )
        given, monitoring = payload.monitoring
        if given:
            doc["monitoring"] = monitoring
        work: dict[str, Any] = {"state": {"consecutive_errors": 0, "runs": 0}, "last_run": None, "sleep_until": None}
        if run:
            work["settle"] = "running"
        record = JobRecord(doc, work)
        self.store.save(record)
        self._log(record, "created")
        return v2_ok(doc, 201)

    async def update_job(self, request: Request) -> Response:
        record = self._job(request)
        if is_deleted(record.doc):
            raise bad(f"job {record.id} is deleted and cannot be changed")
        body = await self._body(request)
        workflow = record.doc["workflow"]
        if isinstance(body.get("workflow"), str) and snake(body["workflow"]) != workflow:
            raise bad(f"job {record.id} belongs to workflow {workflow}; a job cannot change workflow")
        payload = check_payload(body, workflow, self._workflows(), self._auths())
        record.doc |= {"name": payload.name, "config": payload.config, "auth_ids": payload.auth_ids, **payload.fields}
        given, monitoring = payload.monitoring
        if given:
            record.doc["monitoring"] = monitoring
        record.doc["updated"] = rfc3339(self.now())
        self.store.save(record)
        self._log(record, "configuration updated")
        return v2_ok(record.doc)

    async def act(self, request: Request) -> Response:
        action = str(request.path_params["action"])
        if action not in ACTIONS:
            raise LyticsError(404, NOTFOUND, f"no route POST {request.url.path}")
        record = self._job(request)
        apply_action(action, record.doc, record.work)
        self.store.save(record)
        self._log(record, ACTIONS[action].done)
        return v2_ok(record.doc)

    async def job_logs(self, request: Request) -> Response:
        record = self._job(request)
        parse_flag("include_errors", request.query_params.get("include_errors"))  # checked, changes nothing
        return v2_ok_raw(self.store.job_logs(record.id))

    async def account_logs(self, _request: Request) -> Response:
        since = rfc3339(self.now() - timedelta(hours=24))
        killed = {r.id for r in self.store.jobs() if is_deleted(r.doc)}
        return v2_ok_raw(self.store.logs_since(since, killed))

    # --- catalogue --------------------------------------------------------------------------------------------

    async def list_workflows(self, _request: Request) -> Response:
        return v1_ok([{k: v for k, v in w.items() if k != "fields"} for w in self._workflows().values()])

    async def get_workflow(self, request: Request) -> Response:
        workflow = snake(str(request.path_params["workflow"]))
        found = self._workflows().get(workflow)
        if found is None:
            raise LyticsError(404, WF_NOTFOUND, f"workflow {workflow!r} does not exist")
        return v1_ok(found)

    def catalog(self, kind: str, *, v1: bool = False) -> Handler:
        async def handler(_request: Request) -> Response:
            data = self.store.catalog(kind)
            return v1_ok(data) if v1 else v2_ok(data)

        return handler

    def routes(self) -> list[Route]:
        return [
            Route("/v2/job", self.list_jobs, methods=["GET"]),
            Route("/v2/job", self.create_job, methods=["POST"]),
            Route("/v2/job/logs", self.account_logs, methods=["GET"]),
            Route("/v2/job/{job_id}/logs", self.job_logs, methods=["GET"]),
            Route("/v2/job/{workflow}/{job_id}/logs", self.job_logs, methods=["GET"]),
            Route("/v2/job/{job_id}", self.get_job, methods=["GET"]),
            Route("/v2/job/{workflow}", self.create_job, methods=["POST"]),
            Route("/v2/job/{job_id}/{action}", self.act, methods=["POST"]),
            Route("/v2/job/{workflow}/{job_id}", self.get_job, methods=["GET"]),
            Route("/v2/job/{workflow}/{job_id}", self.update_job, methods=["PUT"]),
            Route("/api/workflow", self.list_workflows, methods=["GET"]),
            Route("/api/workflow/{workflow}", self.get_workflow, methods=["GET"]),
            Route("/v2/auth", self.catalog("auths"), methods=["GET"]),
            Route("/v2/stream", self.catalog("streams"), methods=["GET"]),
            Route("/v2/schema/user/field", self.catalog("fields"), methods=["GET"]),
            Route("/v2/control/eventquota/thresholds", self.catalog("quota"), methods=["GET"]),
        ]


def create_app(
    *,
    db_path: str | None = None,
    tokens: Collection[str] | None = None,
    now: Clock | None = None,
    faults: FaultInjector | None = None,
) -> Starlette:
    """A Lytics simulator. State lives in SQLite (memory unless ``db_path``), seeded on the first request."""
    clock = now or _utcnow
    injector = faults if faults is not None else FaultInjector()
    api = LyticsApi(Store(db_path, clock), clock)

    async def lytics_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LyticsError)
        return v2_error(exc.status, exc.code, exc.message, clock())

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        where = f"{request.method} {request.url.path}"
        message = {404: f"no route {where}", 405: f"method not allowed: {where}"}.get(exc.status_code, exc.detail)
        code = NOTFOUND if exc.status_code == 404 else BADREQ
        return v2_error(exc.status_code, code, message, clock(), exc.headers)

    def fault_body(status: int, message: str, headers: dict[str, str] | None) -> Response:
        return v2_error(
            status, FAULT_CODES.get(status, INTERNAL if status >= 500 else BADREQ), message, clock(), headers
        )

    app = Starlette(
        routes=[*api.routes(), *admin_routes(injector)],
        middleware=[
            Middleware(FaultMiddleware, faults=injector, error_body=fault_body),
            Middleware(
                TokenAuth,
                resolve=_accepted(tokens),
                refuse=lambda _s, _t: v1_unauthorized(),
                scheme="",
                fallback=_v1_token,
            ),
        ],
        exception_handlers={LyticsError: lytics_error, HTTPException: http_error},
    )
    app.router.redirect_slashes = False
    app.state.store = api.store
    app.state.faults = injector
    return app
