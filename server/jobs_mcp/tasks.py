"""The wait tools as MCP Tasks (the ``io.modelcontextprotocol/tasks`` extension, SEP-2663, 2026-07-28).

A client that declares the extension on a ``tools/call`` of a wait tool gets a task back at once instead of a
result; this server then follows the run in the background (the same wait, called again while the run goes
on, for at most ``FOLLOW_FOR_S``) and keeps the task's state in the gate's state store, so any replica sharing it
answers ``tasks/get``: ``working`` with the last status read as its message, then ``completed`` with exactly the
result the wait tool returns. ``tasks/cancel`` stops the following (on whichever replica it lands: the one
following sees a cancel mark within ``CANCEL_CHECK_S``); it never touches the platform's run, whose cancel stays
a gated write. Task ids are unguessable and belong to the principal that made them (anyone else is told the
task is unknown; a caller with no lasting principal, on unauthenticated loopback, holds a task by its id alone).
Each stored task document is signed with a key derived from the gate's, so whoever can write to the store
cannot forge a result. Clients without the extension, and 2025-era connections, keep the plain call.

Registered through the SDK's own extension seam (``MCPServer(extensions=[...])``: its ``tasks/*`` methods go
to the low-level server's ``add_request_handler``, and ``tools/call`` passes through ``intercept_tool_call``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import anyio
from mcp import MCPError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolRequestParams, CallToolResult, RequestParams, TextContent
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ConfigDict, Field, ValidationError

from jobs_mcp.operations import Operation
from jobs_mcp.principal import current_principal, lasts_beyond_the_request
from jobs_mcp.registry import provider
from jobs_mcp.runtime import Runtime
from jobs_mcp.tools import tool_result
from jobs_mcp.waits import WaitResult

log = logging.getLogger(__name__)

TASKS = "io.modelcontextprotocol/tasks"
KEEP_S = 3600  # a task is kept this long after its last change
FOLLOW_FOR_S = 3600  # a task follows a run at most this long (then it completes with "still running")
POLL_MS = 5000  # how often a client should ask (tasks/get)
CANCEL_CHECK_S = 1.0  # how soon the replica following a task sees a cancel that reached another one
STOPPED = "stopped following (the run itself goes on)"
INVALID_PARAMS = -32602
Status = Literal["working", "completed", "failed", "cancelled"]
UNKNOWN = "Unknown task {task_id}: it never existed, has expired, or belongs to someone else."


class TaskParams(RequestParams):
    """``tasks/get`` and ``tasks/cancel``: the task's id."""

    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId", min_length=1, max_length=100)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def opted_in(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether this request's client declared the tasks extension (only a 2026-era request can)."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return False
    caps = ctx.session.client_capabilities
    return caps is not None and TASKS in (caps.extensions or {})


class WaitTasks(Extension):
    """The tasks extension for the wait tools of the enabled providers (``waits`` by tool name)."""

    identifier = TASKS

    def __init__(self, runtime: Runtime, waits: Sequence[Operation[Any, Any]]) -> None:
        self.runtime = runtime
        self.waits = {op.name: op for op in waits}
        self._following: dict[str, anyio.CancelScope] = {}  # the tasks this replica follows

    def methods(self) -> Sequence[MethodBinding]:
        versions = frozenset(MODERN_PROTOCOL_VERSIONS)
        return [
            MethodBinding("tasks/get", TaskParams, self._get, versions),
            MethodBinding("tasks/cancel", TaskParams, self._cancel, versions),
        ]

    # --- the store -------------------------------------------------------------------------------------

    def _sign(self, doc: Mapping[str, Any]) -> str:
        key = self.runtime.gate.signer.derive("tasks")
        return hmac.new(key, json.dumps(doc, sort_keys=True).encode(), hashlib.sha256).hexdigest()

    async def _save(self, task_id: str, doc: dict[str, Any]) -> None:
        doc["lastUpdatedAt"] = _now()
        expires = self.runtime.gate.clock() + KEEP_S
        await self.runtime.gate.store.put_task(task_id, {"doc": doc, "sig": self._sign(doc)}, expires)

    async def _load(self, task_id: str) -> dict[str, Any] | None:
        """The task as stored, if it is intact and this caller's."""
        stored = await self.runtime.gate.store.get_task(task_id)
        doc = stored.get("doc") if stored else None
        if not isinstance(doc, dict) or not hmac.compare_digest(str(stored.get("sig")), self._sign(doc)):  # type: ignore[union-attr]
            return None
        return doc if doc.get("principal") == _owner() else None

    # --- tools/call ------------------------------------------------------------------------------------

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        op = self.waits.get(params.name)
        if op is None or not opted_in(ctx):
            return await call_next(ctx)
        arguments = dict(params.arguments or {})
        account = arguments.pop("account", None)
        try:
            args = op.input_model.model_validate(arguments)
            self.runtime.client(op.provider, account if isinstance(account, str) else None)
        except (ValidationError, ToolError):
            return await call_next(ctx)  # the plain call explains bad arguments as it always does
        task_id = secrets.token_urlsafe(24)
        created = _now()
        doc: dict[str, Any] = {
            "principal": _owner(),
            "tool": op.name,
            "status": "working",
            "statusMessage": f"following {op.name}",
            "createdAt": created,
        }
        await self._save(task_id, doc)
        self.runtime.spawn(self._follow, task_id, op, args, account, doc)
        return {"resultType": "task", "taskId": task_id, **self._wire(doc), "pollIntervalMs": POLL_MS}

    async def _follow(
        self, task_id: str, op: Operation[Any, Any], args: Any, account: Any, doc: dict[str, Any]
    ) -> None:
        """Follow the run in this replica's background until it ends, the task is cancelled, or time is up."""
        with anyio.CancelScope() as scope:
            self._following[task_id] = scope
            try:
                async with anyio.create_task_group() as group:
                    group.start_soon(self._watch_cancel, task_id, scope)
                    await self._run(op, args, account, doc, task_id)
                    group.cancel_scope.cancel()  # done: stop watching
            finally:
                self._following.pop(task_id, None)
        if scope.cancel_called:
            doc.update(status="cancelled", statusMessage=STOPPED)
            doc.pop("result", None)
        with anyio.CancelScope(shield=True):
            await self._save(task_id, doc)

    async def _watch_cancel(self, task_id: str, scope: anyio.CancelScope) -> None:
        """A cancel that reached another replica leaves a mark in the store: seen within CANCEL_CHECK_S."""
        while True:
            if await self.runtime.gate.store.get_task(f"{task_id}:cancel") is not None:
                scope.cancel()
                return
            await anyio.sleep(CANCEL_CHECK_S)

    async def _run(self, op: Operation[Any, Any], args: Any, account: Any, doc: dict[str, Any], task_id: str) -> None:
        """The wait, called again while the run goes on; its last answer becomes the task's result."""
        assert op.render is not None
        started = anyio.current_time()

        async def progress(_done: int, _total: int | None, message: str) -> None:
            doc["statusMessage"] = f"{message} (followed for {anyio.current_time() - started:.0f} s)"
            await self._save(task_id, doc)

        try:
            while True:
                result = await self.runtime.read(op, args, account, progress)
                assert isinstance(result, WaitResult)
                if result.ended or anyio.current_time() - started > FOLLOW_FOR_S:
                    break
            outcome = tool_result(result, op.render(result), provider(op.provider).title)
            doc.update(status="completed", statusMessage=result.status, result=_dump(outcome))
        except ToolError as exc:  # what the plain call answers as an error result
            failed = CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)
            doc.update(status="completed", statusMessage="error", result=_dump(failed))
        except Exception:
            log.exception("task %s of %s failed", task_id[:6], op.name)
            doc.update(status="failed", statusMessage="internal error", error={"code": -32603, "message": "failed"})

    # --- tasks/* ---------------------------------------------------------------------------------------

    def _wire(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        fields = ("status", "statusMessage", "createdAt", "lastUpdatedAt")
        return {k: doc[k] for k in fields if k in doc} | {"ttlMs": KEEP_S * 1000}

    async def _get(self, _ctx: ServerRequestContext[Any, Any], params: TaskParams) -> dict[str, Any]:
        doc = await self._load(params.task_id)
        if doc is None:
            raise MCPError(INVALID_PARAMS, UNKNOWN.format(task_id=params.task_id))
        answer = {"taskId": params.task_id, **self._wire(doc), "pollIntervalMs": POLL_MS, "resultType": "complete"}
        for key in ("result", "error"):
            if key in doc:
                answer[key] = doc[key]
        return answer

    async def _cancel(self, _ctx: ServerRequestContext[Any, Any], params: TaskParams) -> dict[str, Any]:
        """Stop following (never the platform's run). A finished task stays as it ended."""
        doc = await self._load(params.task_id)
        if doc is None:
            raise MCPError(INVALID_PARAMS, UNKNOWN.format(task_id=params.task_id))
        if doc.get("status") == "working":
            scope = self._following.get(params.task_id)
            if scope is not None:
                scope.cancel()
            else:  # followed by another replica: it reads this mark at its next poll
                mark = {"doc": {"cancel": True}, "sig": ""}
                await self.runtime.gate.store.put_task(
                    f"{params.task_id}:cancel", mark, self.runtime.gate.clock() + KEEP_S
                )
            doc.update(status="cancelled", statusMessage=STOPPED)
            await self._save(params.task_id, doc)
        return {"resultType": "complete"}


def _owner() -> str:
    """Who a task belongs to: the caller's principal; for a caller who is a principal of one request only (an
    unauthenticated 2026-era request on loopback), whoever holds the unguessable task id."""
    return current_principal() if lasts_beyond_the_request() else "request:*"


def _dump(result: CallToolResult) -> dict[str, Any]:
    dumped: dict[str, Any] = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped
