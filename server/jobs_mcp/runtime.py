"""The server's live state: one API client per account, the embedded simulators, the clock, and running a read.

API clients are made on first use inside the running event loop and closed when the server's lifespan ends,
so one ``Runtime`` can serve many sessions (in-memory tests open several) without leaking connections.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
from mcp.server.mcpserver.exceptions import ToolError

from jobs_mcp.approval_page import ApprovalPages
from jobs_mcp.approvers import FILE_NAME, ApproverFile
from jobs_mcp.audit import AuditLog
from jobs_mcp.config import Account, ConfigError, Settings
from jobs_mcp.confirmation import Signer
from jobs_mcp.errors import ApiError
from jobs_mcp.gate import Gate
from jobs_mcp.operations import Call, Endpoint, Operation, OperationInput, Progress, ToolResult
from jobs_mcp.person_proof import PersonCheck
from jobs_mcp.registry import provider
from jobs_mcp.state import KeyFileError, StateStore, StateUnavailable, load_or_create_key, open_store

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient, RetryPolicy

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        policy: RetryPolicy | None = None,
        sandbox_apps: Mapping[str, Any] | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.sleep = sleep  # between a wait's polls (tests move a hand clock instead)
        self.policy = policy  # None: the ApiClient default
        self._sandbox_apps = dict(sandbox_apps or {})
        self._clients: dict[tuple[str, str], ApiClient] = {}
        audit = AuditLog(settings.audit_db, keep_days=settings.audit_keep_days)
        approvers = ApproverFile(settings.approvers or audit.path.parent / FILE_NAME)
        self.gate = Gate(
            client=self.client,
            audit=audit,
            state=lambda: self._open_state(audit.path.parent),
            ttl=settings.confirm_ttl,
            sandbox=settings.sandbox,
        )
        self.gate.person = PersonCheck(approvers, settings.person_proof)
        self.gate.ids_need_no_proof = settings.allow_high_risk_ids
        self.pages = ApprovalPages(
            self.gate, settings.approval_page, port=settings.approval_port, public_url=settings.public_url
        )  # approval channel 2
        self._group: anyio.abc.TaskGroup | None = None  # while the server runs: work that outlives a request

    def _open_state(self, beside: Path) -> tuple[StateStore, Signer]:
        """The gate's state store and signing key. A local store keeps its key in a 0600 file beside it, so ids
        survive a restart; replicas sharing Redis must share JOBS_MCP_GATE_KEY."""
        spec = self.settings.state
        try:
            store = open_store(spec, default_dir=beside, clock=lambda: self.gate.clock())
        except (ValueError, StateUnavailable) as exc:
            raise ToolError(f"The confirmation state store cannot be opened: {exc}") from None
        if self.settings.gate_key is not None:
            key = self.settings.gate_key.get_secret_value().encode()
        elif spec and spec.startswith(("redis://", "rediss://")):
            raise ToolError(
                "Replicas sharing Redis need one signing key: set JOBS_MCP_GATE_KEY (the same on every replica) "
                "and restart. Nothing was sent."
            )
        elif spec == "memory":
            key = secrets.token_bytes(32)
        else:
            try:
                key = load_or_create_key(beside / "gate.key")
            except KeyFileError as exc:
                raise ToolError(str(exc)) from None
            except OSError as exc:
                raise ToolError(
                    f"The gate's key file {beside / 'gate.key'} cannot be made or read ({exc.strerror or exc}). "
                    "Check that its folder is writable, or set JOBS_MCP_GATE_KEY."
                ) from None
        return store, Signer(key)

    def accounts(self, provider_name: str) -> tuple[str, ...]:
        """The names of a provider's accounts (a tool takes ``account`` only when there are several)."""
        return tuple(a.name for a in self.settings.accounts_of(provider_name))

    def sandbox_app(self, provider_name: str) -> Any:
        """A provider's in-process simulator (built on first use; it seeds itself on its first request)."""
        app = self._sandbox_apps.get(provider_name)
        if app is None:
            db = self.settings.sandbox_db
            if db is not None and len(self.settings.providers) > 1:
                path = Path(db)
                db = str(path.with_name(f"{path.stem}.{provider_name}{path.suffix}"))
            app = self._sandbox_apps[provider_name] = provider(provider_name).simulator(db_path=db)
        return app

    def client(self, provider_name: str, account_name: str | None = None) -> ApiClient:
        try:
            account = self.settings.account(provider_name, account_name)
        except ConfigError as exc:
            raise ToolError(f"account: {exc}") from None
        client = self._clients.get((provider_name, account.name))
        if client is None:
            client = self._clients[provider_name, account.name] = self._new_client(account)
        return client

    def _new_client(self, account: Account) -> ApiClient:
        # httpx is imported on the first call, not at start-up: it is not needed to list the tools.
        from jobs_mcp.http import ApiClient

        transport = None
        if account.sandbox:
            from jobs_mcp.sandbox import SandboxTransport

            transport = SandboxTransport(self.sandbox_app(account.provider))
        client = ApiClient(
            account, provider(account.provider), timeout=self.settings.timeout, transport=transport, policy=self.policy
        )
        if account.sandbox and self.settings.sandbox_db is None:  # in memory: seeded afresh in each process
            client.sandbox_run = _run_of(self.sandbox_app(account.provider))
        return client

    def spawn(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Run ``fn(*args)`` in the background until the server stops (an MCP task following a run)."""
        if self._group is None:
            raise ToolError("The server is not running its background work; call the tool without a task.")
        self._group.start_soon(fn, *args)

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    @asynccontextmanager
    async def lifespan(self, _server: Any) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as group:  # a loopback approval page, tasks being followed
                self.pages.attach(group)
                self._group = group
                try:
                    yield
                finally:
                    self._group = None
                    self.pages.detach()
                    group.cancel_scope.cancel()
        finally:
            await self.aclose()

    async def checked_call(
        self,
        op: Operation[Any, Any],
        args: OperationInput,
        api: ApiClient,
        progress: Progress | None = None,
    ) -> Call[Any]:
        """The call's context, after the operation's pre-flight check (reads and writes alike) has passed."""
        call: Call[Any] = Call(args=args, api=api, now=self.clock(), sandbox=api.account.sandbox, progress=progress)
        call.clock, call.sleep = self.clock, self.sleep

        async def read_also(other: Operation[Any, Any], other_args: OperationInput) -> ToolResult:
            return await self.run_read(other, await self.checked_call(other, other_args, api))

        call.read = read_also
        if op.check is not None:
            await op.check(call)
        return call

    async def read(
        self,
        op: Operation[Any, Any],
        args: OperationInput,
        account: str | None,
        progress: Progress | None = None,
    ) -> ToolResult:
        """Run a read operation: pre-flight check, then the main call and its companions concurrently (then any
        companions those answers call for)."""
        return await self.run_read(op, await self.checked_call(op, args, self.client(op.provider, account), progress))

    async def run_read(self, op: Operation[Any, Any], call: Call[Any]) -> ToolResult:
        """A read on a checked call (``read``'s second half; a wait runs its get tool's read through it)."""
        args, api = call.args, call.api
        if op.run is not None:
            composite: ToolResult = await op.run(call)
            return composite
        assert op.endpoint is not None, f"{op.name} has neither an endpoint nor run"

        log = op.log
        if log is not None:
            call.log = log.digester(args, api.provider.log)  # before any call: a bad page cursor is refused first

        async def fetch(key: str, endpoint: Endpoint) -> None:
            path, params = endpoint.path_for(args), endpoint.params_for(args, api.provider.query)
            if key == "" and log is not None:
                from jobs_mcp.logstream import read_log  # the streaming parser loads with the first log read

                rest = await read_log(
                    api, path, at=log.at, digester=call.log, params=params, entry=log.entry, progress=call.progress
                )
                call.data = api.provider.wire.unwrap(rest)
                return
            answer = await api.fetch(endpoint.method, path, params=params, body=endpoint.body_for(args))
            if key == "":
                call.data, call.next_cursor = answer.payload, answer.next_cursor
            else:
                call.extra[key] = answer.payload
                if answer.next_cursor:
                    call.extra_next[key] = answer.next_cursor

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(fetch, "", op.endpoint)
                for key, endpoint in op.also.items():
                    tg.start_soon(fetch, key, endpoint)
            if op.then_also is not None:
                async with anyio.create_task_group() as tg:
                    for key, endpoint in op.then_also(call).items():
                        tg.start_soon(fetch, key, endpoint)
        except* ApiError as group:
            raise self._explain(op, args, group.exceptions[0]) from None  # type: ignore[arg-type]
        assert op.shape is not None, f"{op.name} has no shape"
        result: ToolResult = op.shape(call)
        return result

    @staticmethod
    def _explain(op: Operation[Any, Any], args: OperationInput, error: ApiError) -> ApiError:
        if error.status == 404:
            return ApiError(op.explain_not_found(args), status=404, code=error.code)
        return error


def _run_of(app: Any) -> str:
    """The identity of one in-memory sandbox (kept on the app itself, which lives as long as its data)."""
    run: str | None = getattr(app, "jobs_mcp_run", None)
    if run is None:
        run = secrets.token_hex(8)
        app.jobs_mcp_run = run
    return run
