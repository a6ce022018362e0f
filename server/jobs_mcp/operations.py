"""The vocabulary of the core: providers, their operations, endpoints and calls, declared as data.

A ``Provider`` declares once everything that is platform-specific (settings, auth scheme, how its answers read,
its status words, hints, what makes a proposal stale, its operations and its simulator); the core asks it and
never names a platform. An ``Operation`` names one tool, says what kind it is, which HTTP endpoint it calls,
which pydantic model its arguments are (that model IS the tool's input schema), which model its result is (the
output schema), how the raw API payload becomes that result, and how the result reads as text. ``app.py``
registers every enabled operation in one loop; nothing else defines tools.
"""

from __future__ import annotations

import base64
import importlib
import string
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import quote as urlquote

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from jobs_mcp.logvocabulary import LogVocabulary

if TYPE_CHECKING:
    from jobs_mcp.config import Account
    from jobs_mcp.http import ApiClient

Kind = Literal["read", "write", "lifecycle"]
# Reports a long read's progress to the client: (done, total when known, what was done so far).
Progress = Callable[[int, int | None, str], Awaitable[None]]
# What a status means, whatever the platform calls it: the one vocabulary health checks and the gate use.
StatusClass = Literal["live", "paused", "fault", "failed", "completed", "deleted", "unknown"]

_UNSAFE_IN_ID = frozenset("/?#%\\")


def _path_segment(value: str) -> str:
    if any(c in _UNSAFE_IN_ID or c.isspace() or not c.isprintable() for c in value) or value in (".", ".."):
        raise ValueError("must be an ID exactly as a list tool printed it (no /, ?, #, %, \\ or spaces)")
    return value


# An ID as the platform gives it: any safe single path segment (bounded), never a guessed format, so a tool never
# refuses an ID that a list tool printed. Endpoints URL-quote it when they send it. Providers narrow the
# description: ``JobId = Annotated[SafeId, Field(description="...")]``.
SafeId = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_path_segment)]


def segment(value: object) -> str:
    """A value as one URL path segment (for paths built from remote text, e.g. a job's workflow). Quoting leaves
    ``.`` and ``..`` as they are, and HTTP clients resolve them (``/v2/job/../ID`` is sent as ``/v2/ID``), so a
    value that is empty or a dot segment is refused: nothing is sent to a path other than the one shown."""
    text = str(value)
    if text in ("", ".", ".."):
        raise ToolError(
            f"Refused to put {text!r} into a request path: it is not an ID or a name, and the request would go to "
            "another path than the one intended. Nothing was sent."
        )
    return urlquote(text, safe="")


class OperationInput(BaseModel):
    """Base of every tool's arguments: unknown arguments are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use: faster start-up


class ToolResult(BaseModel):
    """Base of every tool's structured result."""

    model_config = ConfigDict(defer_build=True)  # built on first use: faster start-up

    sandbox: bool = Field(description="simulated data, not a real account")


In = TypeVar("In", bound=OperationInput)
R = TypeVar("R", bound=ToolResult)


# A query string as sent: one value, or several for a parameter repeated (``?tag=a&tag=b``).
QueryParams = Mapping[str, str | list[str]]


@dataclass(frozen=True)
class QueryStyle:
    """How a platform writes argument values in a query string. ``Provider.query`` is the platform's; a
    ``Param`` may differ for one argument. None is never sent."""

    true: str = "true"
    false: str | None = None  # None: a False is left out (the platform's default applies); else sent as this word
    lists: Literal["comma", "repeat"] = "comma"  # ?x=a,b  or  ?x=a&x=b


@dataclass(frozen=True)
class Param:
    """One argument sent as a query parameter where the plain form (same name, the platform's style) does not
    fit: ``Param("include_archived", "archived", QueryStyle(false="false"))``."""

    arg: str
    name: str = ""  # the query parameter's name, when it is not the argument's
    style: QueryStyle | None = None  # this argument's own style, when it is not the platform's

    @property
    def sent_as(self) -> str:
        return self.name or self.arg


def _query_value(value: Any, style: QueryStyle) -> str | list[str] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return style.true if value else style.false
    if isinstance(value, list | tuple):
        items = [_query_value(item, style) for item in value]
        words = [str(item) for item in items if item is not None]
        return words if style.lists == "repeat" else ",".join(words)
    return str(value)


@dataclass(frozen=True)
class Endpoint:
    """One HTTP call. ``paths`` are templates tried in order: the first whose placeholders all have a value
    (an argument or a property of the input model) is used, so optional path parts need no extra code."""

    method: str
    paths: tuple[str, ...]
    # arguments sent as query parameters: a name (same name, the platform's QueryStyle) or a Param
    query: tuple[str | Param, ...] = ()
    fixed_query: Mapping[str, str] = field(default_factory=dict)
    body: tuple[str, ...] = ()  # argument names sent as the JSON body (a read that POSTs, e.g. a query check)

    def path_for(self, args: BaseModel) -> str:
        for template in self.paths:
            names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
            values = {name: getattr(args, name, None) for name in names}
            if all(v not in (None, "") for v in values.values()):
                return template.format(**{k: segment(v) for k, v in values.items()})
        raise ValueError(f"no path of {self.paths} fits the arguments")  # a declaration bug, not user input

    def body_for(self, args: BaseModel) -> dict[str, Any] | None:
        if not self.body:
            return None
        return {name: value for name in self.body if (value := getattr(args, name)) is not None}

    def params_for(self, args: BaseModel, style: QueryStyle) -> dict[str, str | list[str]]:
        """The query string for these arguments, written in ``style`` (the platform's, ``Provider.query``)
        unless a ``Param`` says otherwise."""
        params: dict[str, str | list[str]] = dict(self.fixed_query)
        for declared in self.query:
            param = declared if isinstance(declared, Param) else Param(declared)
            value = _query_value(getattr(args, param.arg), param.style or style)
            if value is not None and value != []:
                params[param.sent_as] = value
        return params


@dataclass(frozen=True)
class LogStream:
    """A read whose main answer holds a log: its entries are digested as the answer arrives, never held whole
    (``logstream.read_log``), so a log of any length is read in bounded memory.

    ``at`` is the path of the entries' array in the answer ("data" for ``{"data": [...]}``, "data.logs" for a
    job document holding its log; an answer that is a bare array is read as well); ``digester`` makes the digest
    for the call's arguments and the provider's ``LogVocabulary`` (``LogDigester.for_args``); ``entry`` turns
    one raw entry into the digest's common form. The rest of the document (the job the log belongs to, or just
    the envelope) becomes the call's ``data``."""

    at: str
    digester: Callable[[Any, LogVocabulary], Any]
    entry: Callable[[Any], Any] | None = None


def lazy(*targets: str) -> Callable[..., Any]:
    """A provider part imported only when first used (start-up imports no disabled platform, and little of an
    enabled one). Each target is ``"module:NAME"``; a function is called with the arguments given, and several
    targets' sequences are joined into one tuple."""

    def load(*args: Any, **kwargs: Any) -> Any:
        values = []
        for target in targets:
            module, _, name = target.partition(":")
            value = getattr(importlib.import_module(module), name)
            values.append(value(*args, **kwargs) if callable(value) else value)
        return values[0] if len(values) == 1 else tuple(item for value in values for item in value)

    return load


@dataclass(frozen=True)
class Wire:
    """How a platform's HTTP answers read: the payload inside a success body, the (code, message) of an error
    body, and the cursor of the next page (None when there is none)."""

    unwrap: Callable[[Any], Any]
    error: Callable[[Any], tuple[str, str]]
    next_cursor: Callable[[Any], str | None] = lambda _body: None


@dataclass(frozen=True)
class Provider:
    """One platform. The core reads everything platform-specific from here; ``registry.py`` lists them."""

    name: str  # also the tool prefix (``name_``), the settings prefix (``NAME_API_TOKEN``) and the accounts table
    title: str  # as people write it: "Lytics"
    summary: str  # one line for the server's instructions: what the platform runs
    default_url: str
    wire: Wire
    status_class: Callable[[str], StatusClass]  # a status word -> what it means (unknown words stay "unknown")
    operations: Callable[[], Sequence[Operation[Any, Any]]]  # imported only when the provider is enabled
    simulator: Callable[..., Any]  # (db_path=, tokens=, faults=, now=) -> the platform's simulated API (ASGI)
    version: Callable[[dict[str, Any]], Any]  # what of a target makes a proposal stale (never run-time noise)
    # what goes before the token in Authorization: "Bearer", "" (the bare token), "Basic" (the token is
    # "user:password", sent base64-encoded); or a function of the account, for a platform whose hosted and
    # self-hosted forms differ
    auth_scheme: str | Callable[[Account], str] = "Bearer"
    query: QueryStyle = QueryStyle()  # how its query strings write booleans and lists (a Param may differ)
    extras: tuple[str, ...] = ()  # further settings, e.g. "team_id": OWLMETRY_TEAM_ID or team_id in the accounts file
    sandbox_extras: Mapping[str, str] = field(default_factory=dict)  # their values on the simulator
    error_hints: Mapping[str, str] = field(default_factory=dict)  # API error code -> what to do next
    log: LogVocabulary = field(default_factory=LogVocabulary)  # what its logs hold (counters, codes, hints)
    # the argument-free read `jobs-mcp accounts` calls to learn whether an account answers ("": not checked)
    probe: str = ""
    # the read that shows one target as it is now: named after a person decides on the approval page, so the model
    # checks the outcome there ("": list_pending_actions is named instead)
    show: str = ""
    demo: Callable[[], Sequence[Any]] = lambda: ()  # demo steps (demo.Step) for `jobs-mcp demo`: at least one
    health: Callable[[], Sequence[Any]] = lambda: ()  # its checks (health.HealthCheck) for data_health_report

    @property
    def prefix(self) -> str:
        return f"{self.name}_"

    def authorization(self, account: Account) -> str:
        """The ``Authorization`` header for an account (it holds the token: never log or show it)."""
        scheme = self.auth_scheme(account) if callable(self.auth_scheme) else self.auth_scheme
        secret = account.token.get_secret_value()
        if scheme.lower() == "basic":
            secret = base64.b64encode(secret.encode()).decode()
        return f"{scheme} {secret}".strip()

    def env(self, setting: str) -> str:
        """The environment variable of a setting: ``env("api_token")`` -> ``LYTICS_API_TOKEN``."""
        return f"{self.name}_{setting}".upper()


@dataclass
class Call(Generic[In]):
    """Everything a shaping function sees: the validated arguments and the payloads that came back."""

    args: In
    api: ApiClient
    now: datetime
    sandbox: bool
    data: Any = None  # the main endpoint's payload
    next_cursor: str | None = None  # the main endpoint's next page, when it has one
    extra: dict[str, Any] = field(default_factory=dict)  # payloads of the `also` endpoints, by key
    extra_next: dict[str, str] = field(default_factory=dict)  # next-page cursors of the `also` answers that have more
    log: Any = None  # the digester the main answer's log was streamed into (operations with a LogStream)
    progress: Progress | None = None  # reports progress to the client
    # set by the runtime for reads that follow a run (waits.py): another read of the same account, the clock and
    # a sleep (tests move a hand clock instead of sleeping)
    read: Callable[[Operation[Any, Any], OperationInput], Awaitable[ToolResult]] | None = None
    clock: Callable[[], datetime] | None = None
    sleep: Callable[[float], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Operation(Generic[In, R]):
    name: str
    title: str
    description: str
    provider: str
    kind: Kind
    endpoint: Endpoint | None  # None for a composite read, which has `run` instead
    input_model: type[In]
    result_model: type[R]
    shape: Callable[[Call[In]], R] | None = None  # reads: payload -> result (writes go through the gate)
    render: Callable[[R], str] | None = None  # reads: result -> text
    also: Mapping[str, Endpoint] = field(default_factory=dict)  # read concurrently with the main call
    # further companions, chosen from those first answers (read only when an answer calls for them)
    then_also: Callable[[Call[In]], Mapping[str, Endpoint]] | None = None
    check: Callable[[Call[In]], Awaitable[None]] | None = None  # pre-flight validation (may use cached reads)
    not_found: str = "Not found (HTTP 404)."  # str.format()-ed with the arguments
    run: Callable[[Call[In]], Awaitable[R]] | None = None  # a composite read that makes its own calls
    log: LogStream | None = None  # the main endpoint answers a log: streamed into a digester (``Call.log``)
    write: WriteSpec | None = None  # set for write and lifecycle operations: how the gate proposes them
    # a wait tool (waits.py): the call that follows what an executed write of this verb answered, or None
    follows: Callable[[str, Any], str | None] | None = None

    @property
    def annotations(self) -> ToolAnnotations:
        """What clients decide their own approval prompts from: a read changes nothing; a write's hints follow from
        what it declares it does (``WriteSpec.destructive`` / ``idempotent``), never set by hand beside it."""
        write = self.write
        return ToolAnnotations(
            title=self.title,
            read_only_hint=write is None,
            destructive_hint=write is not None and write.destructive,
            idempotent_hint=write is None or write.idempotent,
            open_world_hint=True,
        )

    def explain_not_found(self, args: BaseModel) -> str:
        return self.not_found.format(**{name: getattr(args, name) for name in type(args).model_fields})


# --- writes: what the gate needs to know of each write, declared with the operation ------------------------

RiskLevel = Literal["low", "medium", "high"]
# What a write does to the platform, which decides its annotations: "adds" something new (a job, a run), "changes"
# settings or a reversible state, "interrupts" work in progress (cancel, stop), "restarts" it (the run in progress
# is stopped and started over: doing it twice does it twice), "removes" something.
Effect = Literal["adds", "changes", "interrupts", "restarts", "removes"]


class Risk(BaseModel):
    level: RiskLevel
    irreversible: bool = False
    note: str


class Change(BaseModel):
    field: str = Field(description="the changed key path, e.g. config.segment_id")
    before: Any = None
    after: Any = None


def changes_between(before: Any, after: Any, path: str = "") -> list[Change]:
    """Every changed key path from ``before`` to ``after`` (nested objects walked, lists compared whole, a missing
    object read as empty), so a proposal lists each path however deep; values are bounded when shown, paths never
    dropped. An object that appears or goes away empty is itself the change."""
    if before == after:
        return []
    objects = all(side is None or isinstance(side, dict) for side in (before, after))
    if objects and (before or after):
        old, new = before or {}, after or {}
        return [
            change
            for key in sorted(set(old) | set(new), key=str)
            for change in changes_between(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        ]
    return [Change(field=path or "(value)", before=before, after=after)]


@dataclass(frozen=True)
class Plan:
    """What a write will do, worked out from the arguments and the target as it is now."""

    summary: str
    changes: list[Change]
    body: Any = None
    path: str | None = None  # when the path depends on the target (e.g. its workflow), not only the arguments
    headers: dict[str, str] | None = None  # e.g. an Idempotency-Key fixed at proposal time
    existing: tuple[str, ...] = ()  # ids of look-alikes that exist already (a create's namesakes), kept with it


def _target_id(target: dict[str, Any]) -> Any:
    return target.get("id")


@dataclass(frozen=True)
class WriteSpec:
    """How a write operation is proposed and confirmed. ``target`` reads the thing it changes (None for a create).

    Each write declares its own target (how it is read, ``target_id`` its id) and its ``version`` (what of the
    target makes a proposal stale); both default to the platform's (``Provider.version``, the ``id`` field)."""

    verb: str
    risk: Risk
    plan: Callable[[Any, dict[str, Any] | None], Plan]  # (args, current target) -> Plan
    effect: Effect
    target: Endpoint | None = None
    typed_confirmation: bool = False  # the person must type the target's ID back (kill)
    refuse: Callable[[Any, dict[str, Any] | None], str | None] | None = None  # a reason not to propose at all
    # After a lost answer: find exactly this write (args, and the ids that already matched when it was proposed,
    # so an older namesake is never taken for it). Never resend a write that has this.
    find_created: Callable[[ApiClient, Any, list[str]], Awaitable[dict[str, Any] | None]] | None = None
    # A target that one GET cannot show (e.g. a pipeline and its jobs): read by this instead of ``target``.
    read_target: Callable[[ApiClient, Any], Awaitable[dict[str, Any] | None]] | None = None
    # The request carries an idempotency key fixed at proposal time, so when its answer is lost (no HTTP status,
    # an unreadable answer, or 5xx) the very same request may be sent once more: the platform answers it without
    # acting twice.
    resend_when_lost: bool = False
    target_id: Callable[[dict[str, Any]], Any] = _target_id  # the target's id, as the person types it back
    version: Callable[[dict[str, Any]], Any] | None = None  # what makes it stale; None: the platform's

    @property
    def destructive(self) -> bool:
        """It stops, restarts or removes work, cannot be undone, or acts on many things at once."""
        ends_work = self.effect in ("interrupts", "restarts", "removes")
        return ends_work or self.risk.irreversible or self.risk.level == "high"

    @property
    def idempotent(self) -> bool:
        """Doing it again changes nothing more (setting a state, cancelling, deleting); adding or restarting does."""
        return self.effect in ("changes", "interrupts", "removes")
