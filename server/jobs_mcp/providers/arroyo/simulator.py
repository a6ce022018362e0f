"""A simulator of Arroyo's REST API (``/api/v1``) as a Starlette app: ``create_app()``.

Routes (ArroyoSystems/arroyo@addb390 ``crates/arroyo-api/src/rest.rs``), all under ``/api/v1``:
``GET /ping``; ``POST|GET /pipelines``; ``POST /pipelines/preview``; ``POST /pipelines/validate_query``;
``PUT|GET|PATCH|DELETE /pipelines/{id}``; ``POST /pipelines/{id}/restart``; ``GET /jobs``;
``GET /pipelines/{id}/jobs``; ``GET /pipelines/{id}/jobs/{job_id}/errors|checkpoints|operator_metric_groups|
output`` and ``GET .../checkpoints/{epoch}/operator_checkpoint_groups``. The pipeline and job routes are also
mounted under ``/api/v1/admin/organizations/{org}/`` for tokens holding the ``admin`` role (403
``Admin role required`` otherwise). Errors are ``{"error": "..."}`` everywhere; an unknown path under the API is
404 ``Route not found``; a known path with the wrong method is 405 with an empty body (axum's default).

Faithful to the source: create/PUT/preview/validate/patch/restart/delete rules and their messages (the
plan-limit messages keep the line breaks the Rust string literals have), ``{data, hasMore}`` paging by
``starting_after`` (newest first; an unknown ``starting_after`` gives an empty page), previews hidden from
``GET /pipelines`` and ``GET /jobs``, ``errors`` returning only ``error``-level entries, the 14 controller
states with ``get_action``'s action/action_text table, ``Stopped -> Compiling`` when ``stop`` goes back to
``none``, ``Failed`` left only by a restart, ``Recovering`` giving up after 20 restarts (``Exhausted retries:``),
the restart counter reset after 2 min of healthy running, the 60 s preview TTL, checkpoints every
``checkpoint_interval_micros`` while Running (``scheduled``; ``stopping`` for the final one), metric groups
holding the five series the controller really fills (``bytes_recv``, ``bytes_sent``, ``messages_recv``,
``messages_sent`` rates and ``backpressure``, 2 s buckets over 5 min; ``tx_queue_size``/``tx_queue_rem`` exist
only as enum names) and ``{"data": []}`` when the job is not running, the output SSE stream (``data:`` an
``OutputData`` JSON, ``id:`` a counter) that ends when the job stops.

Invented or simplified (no public source, or a controller we do not run):
- the SQL "planner": a small checker (``Query is empty!``, ``The provided SQL does not contain a query``,
  ``table 'x' not found`` with a span, DataFusion's ``Connection x not found`` for INSERT targets) and a graph
  builder (sources, key/join/lookup-join/window/aggregate nodes, sink) over the saved tables in ``seed.py``;
- timings: Created 0.5 s, Compiling 2 s, Scheduling 3 s, a config change noticed 0.5 s later, final
  checkpoints ~2.6 s, Stopping 2 s (force 1 s), Finishing/Failing 2 s, recovery backoff 0.75 x min(60 s,
  0.5 s x 2^restarts) without jitter; a restart asked for while Compiling/Scheduling/Recovering applies once
  the job reaches Running, one asked for while Stopped is absorbed by the next start; a bounded input (a
  filesystem source, impulse ``message_count``, nexmark ``runtime``) finishes 30 s into its first run;
- ``restart`` with ``ignore_state`` behaves as in ``job-controller = worker`` mode (replace a Stopped/Failed
  job with a fresh one, else 409 ``... stop the job first``); plain restarts bump the nonce as in both modes;
- at most 200 checkpoints are kept per job (older ones are dropped as if compacted); checkpoint sizes, event
  spans, metric values and the preview rows are generated deterministically from ids and times;
- create is atomic (the real API can leave an invisible pipeline row behind when the job checks fail);
- JSON body and query-string rejections imitate axum/serde wording, with the error position approximated by
  the end of the body;
- auth: Arroyo OSS ignores the token and cloud's 401 body is not public, so this simulator requires
  ``Authorization: Bearer <token>`` and answers 401 ``{"error": "..."}`` with its own wording.
"""

from __future__ import annotations

import json
import re
import secrets
import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Scope

from jobs_mcp.providers.arroyo.seed import (
    ADMIN_PERMISSION,
    DEFAULT_CHECKPOINT_INTERVAL_MICROS,
    MAX_OPERATORS,
    MAX_PARALLELISM,
    MAX_RUNNING_JOBS,
    NON_ADMIN_TOKEN,
    ORG_ID,
    SAVED_TABLES,
    Doc,
    Graph,
    SavedTable,
    behaviour,
    job_doc,
    log_doc,
    pipeline_doc,
    populate,
    public_id,
)
from jobs_mcp.sandbox.auth import TokenAuth, lookup
from jobs_mcp.sandbox.docstore import DocStore
from jobs_mcp.sandbox.faults import FaultInjector, FaultMiddleware, admin_routes

Clock = Callable[[], datetime]
Event = tuple[int, Callable[[Doc, int], None]]

API = "/api/v1"
ADMIN_MOUNT = API + "/admin/organizations/{org}"
SEC = 1_000_000
DAY = 86_400 * SEC
REACT = SEC // 2
ALLOWED_RESTARTS = 20
HEALTHY_DURATION = 120 * SEC
CHECKPOINTS_KEPT = 200
OUTPUT_TICK_SECONDS = 0.2
METRIC_BUCKET = 2 * SEC
METRIC_WINDOW = 300 * SEC
TERMINAL = ("Stopped", "Finished", "Failed")
STOP_TYPES = ("none", "checkpoint", "graceful", "immediate", "force")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# get_action() in crates/arroyo-api/src/jobs.rs: (state, running_desired) -> (action_text, action, in progress).
_ACTIONS: dict[tuple[str, bool], tuple[str, str | None, bool]] = {
    ("Created", True): ("Stop", "checkpoint", True),
    ("Created", False): ("Start", "none", False),
    ("Compiling", True): ("Stop", "checkpoint", True),
    ("Compiling", False): ("Stopping", None, True),
    ("Scheduling", True): ("Stop", "checkpoint", True),
    ("Scheduling", False): ("Stopping", None, True),
    ("Running", True): ("Stop", "checkpoint", False),
    ("Running", False): ("Stopping", None, True),
    ("Rescaling", True): ("Stop", "checkpoint", True),
    ("Rescaling", False): ("Stopping", None, True),
    ("CheckpointStopping", True): ("Force Stop", "immediate", True),
    ("CheckpointStopping", False): ("Force Stop", "immediate", True),
    ("Recovering", True): ("Stop", "checkpoint", True),
    ("Recovering", False): ("Stopping", None, True),
    ("Restarting", True): ("Stop", "checkpoint", True),
    ("Restarting", False): ("Stopping", None, True),
    ("Stopping", True): ("Stopping", "checkpoint", True),
    ("Stopping", False): ("Stopping", None, True),
    ("Stopped", True): ("Starting", None, True),
    ("Stopped", False): ("Start", "none", False),
    ("Finishing", True): ("Finishing", None, True),
    ("Finishing", False): ("Finishing", None, True),
    ("Finished", True): ("Finished", None, False),
    ("Finished", False): ("Finished", None, False),
    ("Failed", True): ("Failed", None, False),
    ("Failed", False): ("Start", "none", False),
    ("Failing", True): ("Failing", None, True),
    ("Failing", False): ("Failing", None, True),
}
JOB_STATES = tuple(dict.fromkeys(state for state, _ in _ACTIONS))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def rfc3339(at: int) -> str:
    return (_EPOCH + timedelta(microseconds=at)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


# --- request bodies and query strings (axum's Json / Query rejections) ------------------------------------------

_DESER = "Failed to deserialize the JSON body into the target type"
Spec = dict[str, tuple[str, str]]  # field -> (kind, "required" | "option" | "default")

PIPELINE_POST: Spec = {
    "name": ("string", "required"),
    "query": ("string", "required"),
    "udfs": ("udfs", "option"),
    "parallelism": ("u64", "required"),
    "checkpoint_interval_micros": ("u64", "option"),
    "state_url": ("string", "option"),
    "tags": ("map", "option"),
    "env_vars": ("map", "option"),
    "scheduler_config": ("any", "option"),
}
PREVIEW_POST: Spec = {"query": ("string", "required"), "udfs": ("udfs", "option"), "enable_sinks": ("bool", "default")}
VALIDATE_POST: Spec = {"query": ("string", "required"), "udfs": ("udfs", "option")}
PIPELINE_PATCH: Spec = {
    "parallelism": ("u64", "option"),
    "checkpoint_interval_micros": ("u64", "option"),
    "stop": ("stop", "option"),
    "env_vars": ("map", "option"),
    "scheduler_config": ("any", "option"),
}
PIPELINE_RESTART: Spec = {"force": ("bool", "option"), "ignore_state": ("bool", "option")}


class _Mismatch(Exception):
    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _unexpected(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    return "sequence" if isinstance(value, list) else "map"


def _expect(value: Any, expected: str) -> _Mismatch:
    return _Mismatch(f"invalid type: {_unexpected(value)}, expected {expected}")


def _check(kind: str, value: Any) -> Any:
    if kind == "any":
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise _expect(value, "a string")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _expect(value, "a boolean")
        return value
    if kind in ("u64", "u32"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _expect(value, kind)
        if value < 0 or value >= 2 ** int(kind[1:]):
            raise _Mismatch(f"invalid value: integer `{value}`, expected {kind}")
        return value
    if kind == "stop":
        if not isinstance(value, str):
            raise _expect(value, "value of enum StopType")
        if value not in STOP_TYPES:
            choices = ", ".join(f"`{s}`" for s in STOP_TYPES)
            raise _Mismatch(f"unknown variant `{value}`, expected one of {choices}")
        return value
    if kind == "map":
        if not isinstance(value, dict):
            raise _expect(value, "a map")
        for key, item in value.items():
            if not isinstance(item, str):
                raise _Mismatch(_expect(item, "a string").message, f".{key}")
        return dict(value)
    if kind == "udfs":
        if not isinstance(value, list):
            raise _expect(value, "a sequence")
        udfs = []
        for i, udf in enumerate(value):
            if not isinstance(udf, dict):
                raise _Mismatch(_expect(udf, "struct Udf").message, f"[{i}]")
            if "definition" not in udf:
                raise _Mismatch("missing field `definition`", f"[{i}]")
            definition = udf["definition"]
            if not isinstance(definition, str):
                raise _Mismatch(_expect(definition, "a string").message, f"[{i}].definition")
            language = udf.get("language", "rust")
            if language not in ("rust", "python"):
                raise _Mismatch(f"unknown variant `{language}`, expected `python` or `rust`", f"[{i}].language")
            udfs.append({"definition": definition, "language": language})
        return udfs
    raise AssertionError(kind)


def _end_position(text: str) -> str:
    lines = text.rstrip().split("\n")
    return f" at line {len(lines)} column {len(lines[-1])}"


def _syntax_error(exc: json.JSONDecodeError, text: str) -> str:
    known = {
        "Expecting value": "expected value",
        "Expecting property name enclosed in double quotes": "key must be a string",
        "Extra data": "trailing characters",
        "Expecting ',' delimiter": "expected `,` or `}`",
        "Expecting ':' delimiter": "expected `:`",
    }
    message = known.get(exc.msg, exc.msg[:1].lower() + exc.msg[1:])
    if exc.pos >= len(text.rstrip()):
        message = "EOF while parsing a value"
    return f"{message} at line {exc.lineno} column {exc.colno}"


async def read_json(request: Request, struct: str, spec: Spec) -> dict[str, Any]:
    """The body as axum's ``Json<T>`` would take it, or the ApiError it would answer."""
    mime = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))):
        raise ApiError(415, "Expected request with `Content-Type: application/json`")
    text = (await request.body()).decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_request(f"Failed to parse the request body as JSON: {_syntax_error(exc, text)}") from None
    where = _end_position(text)
    if not isinstance(value, dict):
        raise ApiError(422, f"{_DESER}: invalid type: {_unexpected(value)}, expected struct {struct}{where}")
    out: dict[str, Any] = {}
    for name, (kind, presence) in spec.items():
        if name not in value:
            if presence == "required":
                raise ApiError(422, f"{_DESER}: missing field `{name}`{where}")
            out[name] = None
            continue
        item = value[name]
        if item is None and presence == "option":
            out[name] = None
            continue
        try:
            out[name] = _check(kind, item)
        except _Mismatch as exc:
            raise ApiError(422, f"{_DESER}: {name}{exc.path}: {exc.message}{where}") from None
    return out


def query_u32(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw == "":
        problem = "cannot parse integer from empty string"
    elif not raw.lstrip("+").isdigit() or not raw.isascii():
        problem = "invalid digit found in string"
    elif int(raw) >= 2**32:
        problem = "number too large to fit in target type"
    else:
        return int(raw)
    raise bad_request(f"Failed to deserialize query string: {problem}")


def pagination(request: Request) -> tuple[str | None, int]:
    limit = query_u32(request, "limit")
    if limit is not None and limit < 1:
        raise bad_request("Limit must be greater than 0")
    return request.query_params.get("starting_after"), 10 if limit is None else limit


# --- the SQL "planner" ----------------------------------------------------------------------------------------

_LEXEMES = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.S)
_CREATE_TABLE = re.compile(
    r"\s*create\s+(?:temporary\s+)?table\s+(?:if\s+not\s+exists\s+)?(\"[^\"]+\"|[\w.]+)", re.I | re.S
)
_CREATE_VIEW = re.compile(r"\s*create\s+(?:or\s+replace\s+)?view\s+(\"[^\"]+\"|[\w.]+)\s+as\s+", re.I | re.S)
_INSERT = re.compile(r"\s*insert\s+into\s+(\"[^\"]+\"|[\w.]+)", re.I)
_REFERENCE = re.compile(r"\b(?:from|join)\s+(\"[^\"]+\"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", re.I)
_CTE = re.compile(r"(?:\bwith|,)\s*([A-Za-z_]\w*)\s+as\s*\(", re.I)
_OPTION = re.compile(r"'?([\w.\-]+)'?\s*=\s*'([^']*)'")
_NOT_TABLES = {"extract", "substring", "trim", "overlay", "position"}
_KEYWORDS = {"select", "lateral", "unnest", "values"}
_STATEMENTS = {"select", "insert", "with", "create", "set"}


@dataclass
class Plan:
    nodes: list[Doc] = field(default_factory=list)
    edges: list[Doc] = field(default_factory=list)
    errors: list[Doc] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    bounded: bool = False

    def graph(self) -> Graph:
        return {"nodes": self.nodes, "edges": self.edges}

    def add(self, operator_id: str, description: str, role: str, parallelism: int, operator: str = "") -> int:
        """A node; ``{i}`` in ``operator_id`` becomes its node id; ``operator`` defaults to the operator id."""
        node_id = len(self.nodes) + 1
        op_id = operator_id.replace("{i}", str(node_id))
        self.nodes.append(
            {
                "node_id": node_id,
                "operator": operator or op_id,
                "description": description,
                "parallelism": parallelism,
                "operator_id": op_id,
                "role": role,
            }
        )
        return node_id

    def link(self, sources: list[int], dest: int, edge_type: str = "Forward") -> None:
        for src in sources:
            self.edges.append(
                {"src_id": src, "dest_id": dest, "key_type": "()", "value_type": "()", "edge_type": edge_type}
            )


@dataclass
class _Table:
    connector: str | None  # None: a memory table
    target: str
    role: str
    columns: tuple[str, ...]
    bounded: bool = False


def _mask(query: str) -> str:
    """The query with comments blanked and string literals' contents hidden (same length, same lines)."""

    def blank(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("'"):
            return "'" + "_" * (len(text) - 2) + "'"
        return re.sub(r"[^\n]", " ", text)

    return _LEXEMES.sub(blank, query)


def _location(query: str, pos: int) -> Doc:
    line = query.count("\n", 0, pos) + 1
    return {"line": line, "column": pos - (query.rfind("\n", 0, pos) + 1) + 1}


def _name(raw: str) -> str:
    raw = raw.split(".")[-1]
    return raw.strip('"') if raw.startswith('"') else raw.lower()


def _in_function(masked: str, pos: int) -> bool:
    """Whether ``pos`` sits directly inside extract(...), substring(...) and the like."""
    depth = 0
    for i in range(pos - 1, -1, -1):
        ch = masked[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                word = re.search(r"(\w+)\s*$", masked[:i])
                return bool(word and word.group(1).lower() in _NOT_TABLES)
            depth -= 1
    return False


def _describe(name: str, table: _Table, as_sink: bool) -> str:
    kind = "Sink" if as_sink else "Source"
    return {
        "kafka": f"Kafka{kind}<{table.target}>",
        "kinesis": f"Kinesis{kind}<{table.target}>",
        "mqtt": f"Mqtt{kind}<{table.target}>",
        "webhook": f"WebhookSink<{table.target}>",
        "filesystem": f"FileSystem{kind}<parquet, {table.target}>",
        "nexmark": f"Nexmark<{table.target} eps>",
        "impulse": f"Impulse<{table.target} eps>",
        "redis": "RedisSink",
        "preview": "PreviewSink",
    }.get(table.connector or "", f"{(table.connector or 'memory').title()}{kind}<{name}>")


def _select_columns(query: str, masked: str, start: int, end: int, tables: Mapping[str, _Table]) -> list[str]:
    head = re.search(r"\bselect\b", masked[start:end], re.I)
    if not head:
        return []
    begin = start + head.end()
    depth, parts, last = 0, [], begin
    stop = end
    for i in range(begin, end):
        ch = masked[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch == ",":
            parts.append(query[last:i])
            last = i + 1
        elif depth == 0 and re.match(r"\bfrom\b", masked[i : i + 5], re.I) and not masked[i - 1 : i].isalnum():
            stop = i
            break
    parts.append(query[last:stop])
    columns: list[str] = []
    for part in (p.strip() for p in parts):
        alias = re.search(r"\bas\s+\"?(\w+)\"?\s*$", part, re.I)
        if alias:
            columns.append(alias.group(1))
        elif part == "*":
            ref = _REFERENCE.search(masked, stop)
            table = tables.get(_name(ref.group(1))) if ref else None
            columns.extend(table.columns if table else ("value",))
        elif re.search(r"(\w+)\s*$", part):
            columns.append(re.findall(r"\w+", part)[-1])
    return columns


def _statements(masked: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(";", masked):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(masked)))
    return [(s, e) for s, e in spans if masked[s:e].strip()]


def plan_query(query: str, parallelism: int, saved: Mapping[str, SavedTable] = SAVED_TABLES) -> Plan:
    """Check a query the way the planner's first steps do and build a plausible operator graph."""
    plan = Plan()
    if not query.strip():
        plan.errors.append({"message": "Query is empty!"})
        return plan
    masked = _mask(query)
    tables = {name: _Table(t.connector, t.target, t.role, t.columns) for name, t in saved.items()}
    views: dict[str, list[tuple[str, int]]] = {}
    queries: list[tuple[int, int, str | None]] = []
    for start, end in _statements(masked):
        text = masked[start:end]
        lead = text.lstrip()
        first = re.match(r"\w*", lead)
        word = first.group(0).lower() if first else ""
        offset = start + len(text) - len(lead)
        if word not in _STATEMENTS:
            location = _location(query, offset)
            plan.errors.append(
                {
                    "message": f"sql parser error: Expected: an SQL statement, found: {word or lead[:1]} "
                    f"at Line: {location['line']}, Column: {location['column']}"
                }
            )
            continue
        if word == "create":
            view = _CREATE_VIEW.match(text)
            created = _CREATE_TABLE.match(text)
            if view:
                views[_name(view.group(1))] = _references(masked, start + view.end(), end)
            elif created:
                options = dict(_OPTION.findall(query[start:end].split(")", 1)[-1]))
                connector = options.get("connector")
                bounded = connector == "filesystem" or "message_count" in options or "runtime" in options
                target = (
                    options.get("topic") or options.get("path") or options.get("event_rate") or _name(created.group(1))
                )
                tables[_name(created.group(1))] = _Table(connector, target, "both", (), bounded)
            continue
        if word == "set":
            continue
        insert = _INSERT.match(text)
        queries.append((start, end, _name(insert.group(1)) if insert else None))
    if not queries and not plan.errors:
        plan.errors.append({"message": "Error during planning: The provided SQL does not contain a query"})
    for start, end, sink in queries:
        _plan_statement(plan, query, masked, start, end, sink, tables, views, parallelism)
    if plan.errors:
        plan.nodes, plan.edges = [], []
    return plan


def _references(masked: str, start: int, end: int) -> list[tuple[str, int]]:
    ctes = {_name(m.group(1)) for m in _CTE.finditer(masked, start, end)}
    found = []
    for match in _REFERENCE.finditer(masked, start, end):
        name = _name(match.group(1))
        if name in ctes or name in _KEYWORDS or _in_function(masked, match.start()):
            continue
        found.append((name, match.start(1)))
    return found


def _plan_statement(
    plan: Plan,
    query: str,
    masked: str,
    start: int,
    end: int,
    sink: str | None,
    tables: Mapping[str, _Table],
    views: Mapping[str, list[tuple[str, int]]],
    parallelism: int,
) -> None:
    refs = _references(masked, start, end)
    for view in [name for name, _ in refs if name in views]:
        refs += views[view]
    sources: list[str] = []
    lookups: list[str] = []
    for name, pos in refs:
        if name in views:
            continue
        if name not in tables:
            loc = _location(query, pos)
            width = len(masked[pos:].split(None, 1)[0].rstrip(";,)"))
            span = {"start": loc, "end": {"line": loc["line"], "column": loc["column"] + width}}
            plan.errors.append({"message": f"table '{name}' not found", "span": span})
            continue
        bucket = lookups if tables[name].role == "lookup" else sources
        if name not in bucket:
            bucket.append(name)
    if sink is not None and sink not in tables:
        plan.errors.append({"message": f"Error during planning: Connection {sink} not found"})
    elif sink is not None and tables[sink].role == "lookup":
        plan.errors.append({"message": "Error during planning: lookup (temporary) tables cannot be inserted into"})
    if plan.errors:
        return
    if not plan.columns:
        plan.columns = _select_columns(query, masked, start, end, tables)
    plan.bounded = plan.bounded or any(tables[s].bounded for s in sources)
    chain = [
        plan.add(
            "source_" + name + "_{i}",
            _describe(name, tables[name], False),
            "source",
            parallelism,
            tables[name].connector or "memory",
        )
        for name in sources
    ]
    if len(chain) > 1:
        keys = []
        for src in chain:
            keys.append(plan.add("key_{i}", "ArrowKey<_>", "key", parallelism))
            plan.link([src], keys[-1])
        join = plan.add("join_{i}", "join", "join", parallelism)
        plan.link(keys[:1], join, "LeftJoin")
        plan.link(keys[1:], join, "RightJoin")
        chain = [join]
    for name in lookups:
        node = plan.add("lookupjoin_{i}", f"LookupJoin<{tables[name].connector}>", "lookup", parallelism)
        plan.link(chain, node, "Shuffle")
        chain = [node]
    body = masked[start:end]
    if re.search(r"\bgroup\s+by\b", body, re.I):
        key = plan.add("key_{i}", "ArrowKey<_>", "key", parallelism)
        plan.link(chain, key)
        window = re.search(r"\b(tumble|hop|session)\s*\(", body, re.I)
        operator_id, description = {
            "tumble": ("tumbling_{i}", "TumblingWindow<window>"),
            "hop": ("sliding_window_{i}", "sliding window"),
            "session": ("session_window_{i}", "SessionWindow<window>"),
        }.get(window.group(1).lower() if window else "", ("updating_aggregate_{i}", "UpdatingAggregate"))
        agg = plan.add(operator_id, description, "aggregate", parallelism)
        plan.link([key], agg, "Shuffle")
        chain = [agg]
    if sink is None:
        out = plan.add("sink_preview_{i}", "PreviewSink", "sink", parallelism, "preview")
    else:
        table = tables[sink]
        out = plan.add(
            "sink_" + sink + "_{i}", _describe(sink, table, True), "sink", parallelism, table.connector or "memory"
        )
    plan.link(chain, out)


def preview_graph(graph: Graph, enable_sinks: bool) -> Graph:
    """What create_pipeline_int does to a preview's graph: replace real sinks, or add a preview sink beside them."""
    nodes = [dict(n) for n in graph["nodes"]]
    edges = [dict(e) for e in graph["edges"]]
    for node in list(nodes):
        if node["role"] != "sink" or node["operator"] == "preview":
            continue
        if not enable_sinks:
            node["operator"] = "preview"
            continue
        new_id = max(n["node_id"] for n in nodes) + 1
        nodes.append(
            {
                "node_id": new_id,
                "operator": "preview",
                "description": "Preview sink",
                "parallelism": 1,
                "operator_id": f"{node['operator_id']}_1",
                "role": "sink",
            }
        )
        edges += [dict(e, dest_id=new_id) for e in graph["edges"] if e["dest_id"] == node["node_id"]]
    return {"nodes": nodes, "edges": edges}


def _planner(query: str, parallelism: int) -> Graph:
    return plan_query(query, parallelism).graph()


def _plan_error(plan: Plan) -> ApiError:
    message = "Failed to plan query:" + "".join(f"\n * {e['message']}" for e in plan.errors)
    return bad_request(message)


# --- deterministic noise --------------------------------------------------------------------------------------


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def noise(*parts: object) -> float:
    """A stable number in [0, 1) for these parts."""
    key = zlib.crc32(":".join(map(str, parts)).encode())
    return _mix(key) / 2**64


# --- the controller: job states over time ------------------------------------------------------------------------


def effective_parallelism(job: Doc, node: Doc) -> int:
    override = job["config"]["parallelism"]
    return int(override if override is not None else node["parallelism"])


def _env_key(config: Doc) -> str:
    return json.dumps([config["env_vars"], config["scheduler_config"]], sort_keys=True)


class Controller:
    """Settles jobs lazily: each read replays every transition due between the last settle and now."""

    def __init__(self, store: DocStore) -> None:
        self.store = store

    # ---- settling ----

    def settle(self, job: Doc, now: int) -> Doc:
        st = job["status"]
        if st["settled"] >= now:
            return job
        for _ in range(20_000):
            event = self._next_event(job)
            if event is None or event[0] > now:
                break
            at = max(event[0], st["settled"])
            self._checkpoints(job, at)
            event[1](job, at)
            st["settled"] = at
        self._checkpoints(job, now)
        st["settled"] = now
        self.store.put("job", job["id"], job, job["pipeline_id"])
        return job

    def apply_config(self, job: Doc, at: int, changes: Mapping[str, Any]) -> None:
        job["config"].update(changes)
        job["config"]["changed_at"] = at
        self.store.put("job", job["id"], job, job["pipeline_id"])

    def _next_event(self, job: Doc) -> Event | None:
        events: list[Event] = []
        if job["pending"]:
            events.append((job["pending"][0]["at"], self._apply_pending))
        timer = self._timer(job)
        if timer is not None:
            events.append(timer)
        return min(events, key=lambda e: e[0]) if events else None

    def _apply_pending(self, job: Doc, at: int) -> None:
        change = job["pending"].pop(0)
        job["config"].update(change["set"])
        job["config"]["changed_at"] = at

    # ---- timers ----

    def _timer(self, job: Doc) -> Event | None:
        st, cfg = job["status"], job["config"]
        state, since, stop = st["state"], st["since"], cfg["stop"]
        react = max(since, cfg["changed_at"]) + REACT
        if state == "Created":
            return since + SEC // 2, self._go("Compiling")
        if state in ("Compiling", "Scheduling", "Rescaling", "Restarting") and stop != "none":
            return react, self._stop_idle
        if state == "Compiling":
            return since + 2 * SEC, self._go("Scheduling")
        if state == "Scheduling":
            return since + 3 * SEC, self._go("Running")
        if state == "Running":
            return self._running_timer(job, react)
        if state == "Restarting" and st["restart_mode"] == "force":
            return since + SEC, self._go("Scheduling")
        if state == "Restarting" and cfg["restart_mode"] == "force" and cfg["restart_nonce"] != st["applied_nonce"]:
            return react, self._restart
        if state in ("Rescaling", "Restarting"):
            return self._after_final(job, "Scheduling")
        if state == "CheckpointStopping":
            if stop in ("immediate", "force") and cfg["changed_at"] > since:
                return react, self._force_stop
            return self._after_final(job, "Stopped")
        if state == "Stopping":
            return since + (SEC if st["stop_behavior"] == "workers" else 2 * SEC), self._go("Stopped")
        if state == "Stopped" and stop == "none" and not job["preview"]:
            return react, self._start
        if state == "Recovering":
            return self._recovering_timer(job)
        if state == "Finishing":
            return since + 2 * SEC, self._go("Finished")
        if state == "Failing":
            return since + 2 * SEC, self._go("Failed")
        if state == "Failed" and cfg["restart_nonce"] != st["applied_nonce"]:
            return react, self._restart_failed
        return None

    def _after_final(self, job: Doc, then: str) -> Event | None:
        done = job["status"]["final_done"]
        return None if done is None else (done + 2 * SEC // 5, self._go(then))

    def _running_timer(self, job: Doc, react: int) -> Event | None:
        st, cfg, script = job["status"], job["config"], job["behaviour"]
        events: list[Event] = []
        if cfg["stop"] != "none":
            events.append((react, self._stop_running))
        if cfg["restart_nonce"] != st["applied_nonce"]:
            events.append((react, self._restart))
        if _env_key(cfg) != st["applied_env"]:
            events.append((react, self._restart_safe))
        if cfg["parallelism"] != st["applied_parallelism"]:
            events.append((react, self._go("Rescaling")))
        if job["ttl_micros"] is not None:
            events.append((st["start_time"] + job["ttl_micros"], self._ttl_stop))
        for window in script["failures"]:
            at = max(st["since"] + window["after"], window["from"])
            if window["until"] is None or at < window["until"]:
                events.append((at, self._failure(window)))
        if script["finish_after"] is not None:
            events.append((st["since"] + script["finish_after"], self._go("Finishing")))
        if st["restarts"] > 0:
            events.append((st["since"] + HEALTHY_DURATION, self._healthy))
        return min(events, key=lambda e: e[0]) if events else None

    def _recovering_timer(self, job: Doc) -> Event:
        st = job["status"]
        if job["preview"]:
            return st["since"], self._fatal_event(
                "Job encountered a fatal error; see worker logs for details", "internal"
            )
        if st["restarts"] >= ALLOWED_RESTARTS:
            return st["since"], self._fatal_event(f"Exhausted retries: {st['reason']}", st["reason_domain"])
        backoff = min(60 * SEC, (SEC // 2) * 2 ** st["restarts"]) * 3 // 4
        return st["since"] + backoff, self._go("Compiling")

    # ---- transitions ----

    def _go(self, state: str) -> Callable[[Doc, int], None]:
        return lambda job, at: self._enter(job, state, at)

    def _enter(self, job: Doc, state: str, at: int) -> None:
        st, cfg = job["status"], job["config"]
        if st["state"] == "Running" and state != "Running":
            st["next_cp"] = None
        st["state"], st["since"] = state, at
        if state == "Scheduling":
            st["run_id"] += 1
            st["stuck_epoch"] = None
            st["final_done"] = None
        elif state == "Running":
            if st["start_time"] is None or st["finish_time"] is not None:
                st["start_time"], st["finish_time"] = at, None
            st["tasks"] = sum(effective_parallelism(job, n) for n in job["nodes"])
            st["applied_parallelism"] = cfg["parallelism"]
            st["applied_env"] = _env_key(cfg)
            st["next_cp"] = at + cfg["checkpoint_interval_micros"]
        elif state in ("CheckpointStopping", "Rescaling") or (state == "Restarting" and st["restart_mode"] == "safe"):
            self._final_checkpoint(job, at)
        elif state in ("Stopped", "Finished"):
            st["finish_time"] = at

    def _stop_running(self, job: Doc, at: int) -> None:
        mode = job["config"]["stop"]
        if mode == "checkpoint":
            self._enter(job, "CheckpointStopping", at)
            return
        if mode != "graceful":
            self._abort_checkpoint(job, at)
        job["status"]["stop_behavior"] = {"graceful": "graceful", "immediate": "immediate"}.get(mode, "workers")
        self._enter(job, "Stopping", at)

    def _stop_idle(self, job: Doc, at: int) -> None:
        self._abort_checkpoint(job, at)
        job["status"]["stop_behavior"] = "workers" if job["config"]["stop"] == "force" else "immediate"
        self._enter(job, "Stopping", at)

    def _force_stop(self, job: Doc, at: int) -> None:
        self._abort_checkpoint(job, at)
        job["status"]["stop_behavior"] = "immediate"
        self._enter(job, "Stopping", at)

    def _ttl_stop(self, job: Doc, at: int) -> None:
        self._abort_checkpoint(job, at)
        job["status"]["stop_behavior"] = "immediate"
        self._enter(job, "Stopping", at)

    def _restart(self, job: Doc, at: int) -> None:
        st, cfg = job["status"], job["config"]
        st["applied_nonce"], st["restart_mode"] = cfg["restart_nonce"], cfg["restart_mode"]
        if st["restart_mode"] == "force":
            self._abort_checkpoint(job, at)
        self._enter(job, "Restarting", at)

    def _restart_safe(self, job: Doc, at: int) -> None:
        job["status"]["restart_mode"] = "safe"
        self._enter(job, "Restarting", at)

    def _start(self, job: Doc, at: int) -> None:
        job["status"]["applied_nonce"] = job["config"]["restart_nonce"]  # a fresh start is the restart
        self._enter(job, "Compiling", at)

    def _restart_failed(self, job: Doc, at: int) -> None:
        st = job["status"]
        st["applied_nonce"] = job["config"]["restart_nonce"]
        st["restarts"], st["failure_message"], st["failure_domain"] = 0, None, None
        self._enter(job, "Compiling", at)

    def _healthy(self, job: Doc, _at: int) -> None:
        job["status"]["restarts"] = 0

    def _failure(self, window: Doc) -> Callable[[Doc, int], None]:
        def fail(job: Doc, at: int) -> None:
            st = job["status"]
            self.log(
                job,
                at,
                window["message"],
                window["details"],
                window["operator_id"],
                window["task_index"],
                window["domain"],
            )
            self._abort_checkpoint(job, at)
            if window["fatal"]:
                self._fatal(job, at, window["details"], window["domain"])
                return
            st["restarts"] += 1
            st["reason"], st["reason_domain"] = window["details"], window["domain"]
            self._enter(job, "Recovering", at)

        return fail

    def _fatal_event(self, message: str, domain: str) -> Callable[[Doc, int], None]:
        return lambda job, at: self._fatal(job, at, message, domain)

    def _fatal(self, job: Doc, at: int, message: str, domain: str) -> None:
        st = job["status"]
        st["failure_message"], st["failure_domain"], st["finish_time"] = message, domain, at
        self._enter(job, "Failing", at)

    def log(
        self,
        job: Doc,
        at: int,
        message: str,
        details: str,
        operator_id: str | None = None,
        task_index: int | None = None,
        domain: str | None = None,
        level: str = "error",
    ) -> None:
        st = job["status"]
        st["log_seq"] += 1
        entry = log_doc(
            job["id"],
            at,
            message,
            details,
            level=level,
            operator_id=operator_id,
            task_index=task_index,
            domain=domain,
            seq=10_000 + st["log_seq"],
        )
        self.store.put("jlm", entry["id"], entry, job["id"])

    # ---- checkpoints ----

    def _cp_id(self, job: Doc, epoch: int) -> str:
        return f"{job['id']}:{epoch:010d}"

    def _put_checkpoint(self, job: Doc, epoch: int, start: int, finish: int | None, kind: str) -> None:
        doc = {
            "epoch": epoch,
            "start_time": start,
            "finish_time": finish,
            "checkpoint_type": kind,
            "parallelism": job["config"]["parallelism"],
            "committing": any(n["role"] == "sink" and n["operator"] == "filesystem" for n in job["nodes"]),
        }
        self.store.put("checkpoint", self._cp_id(job, epoch), doc, job["id"])
        job["status"]["epoch"] = epoch

    def _cp_duration(self, job: Doc, epoch: int, interval: int) -> int:
        low, high = job["behaviour"]["checkpoint_ms"]
        millis = low + (high - low) * noise(job["id"], "cp", epoch)
        return int(min(millis * 1000, interval * 0.8))

    def _stall_from(self, job: Doc) -> int | None:
        script, st = job["behaviour"], job["status"]
        if script["stall_from"] is not None and st["run_id"] == script["stall_run"]:
            return int(script["stall_from"])
        return None

    def _checkpoints(self, job: Doc, until: int) -> None:
        st = job["status"]
        if st["state"] != "Running":
            return
        interval = int(job["config"]["checkpoint_interval_micros"])
        while st["next_cp"] is not None and st["next_cp"] <= until:
            start = int(st["next_cp"])
            stall = self._stall_from(job)
            horizon = until if stall is None else min(until, stall)
            due = (horizon - start) // interval + 1 if horizon >= start else 0
            if due > CHECKPOINTS_KEPT:
                skip = due - CHECKPOINTS_KEPT
                st["epoch"] += skip
                start += skip * interval
            epoch = st["epoch"] + 1
            if stall is not None and start >= stall:
                self._put_checkpoint(job, epoch, start, None, "scheduled")
                st["stuck_epoch"], st["next_cp"] = epoch, None
            else:
                self._put_checkpoint(job, epoch, start, start + self._cp_duration(job, epoch, interval), "scheduled")
                st["next_cp"] = start + interval
        self._trim(job)

    def _final_checkpoint(self, job: Doc, at: int) -> None:
        st = job["status"]
        if st["stuck_epoch"] is not None:
            st["final_done"] = None  # the stuck checkpoint blocks the final one: this state never completes
            return
        start = at + SEC // 5
        latest = self.store.get("checkpoint", self._cp_id(job, st["epoch"]))
        if latest is not None and latest["finish_time"] is not None and latest["finish_time"] > start:
            start = latest["finish_time"]
        finish = start + 12 * SEC // 5
        self._put_checkpoint(job, st["epoch"] + 1, start, finish, "stopping")
        st["final_done"] = finish
        self._trim(job)

    def _abort_checkpoint(self, job: Doc, at: int) -> None:
        """An in-flight checkpoint fails with its run (failed checkpoints are never listed)."""
        st = job["status"]
        latest = self.store.get("checkpoint", self._cp_id(job, st["epoch"]))
        if latest is not None and (latest["finish_time"] is None or latest["finish_time"] > at):
            self.store.delete("checkpoint", self._cp_id(job, st["epoch"]))
            if st["stuck_epoch"] == st["epoch"]:
                st["stuck_epoch"] = None
            st["final_done"] = None

    def _trim(self, job: Doc) -> None:
        st = job["status"]
        keep_from = st["epoch"] - CHECKPOINTS_KEPT + 1
        if keep_from <= st["cp_oldest"]:
            return
        if keep_from - st["cp_oldest"] <= 2 * CHECKPOINTS_KEPT:
            for epoch in range(st["cp_oldest"], keep_from):
                self.store.delete("checkpoint", self._cp_id(job, epoch))
        else:
            for cp in self.store.all("checkpoint", job["id"]):
                if cp["epoch"] < keep_from:
                    self.store.delete("checkpoint", self._cp_id(job, cp["epoch"]))
        st["cp_oldest"] = keep_from


# --- views ----------------------------------------------------------------------------------------------------


def job_view(job: Doc) -> Doc:
    st, cfg = job["status"], job["config"]
    failure = None
    if st["failure_message"] is not None:
        failure = {"error": st["failure_message"], "domain": st["failure_domain"] or "internal"}
    return {
        "id": job["id"],
        "pipeline_id": job["pipeline_id"],
        "running_desired": cfg["stop"] == "none",
        "state": st["state"],
        "run_id": st["run_id"],
        "start_time": st["start_time"],
        "finish_time": st["finish_time"],
        "tasks": st["tasks"],
        "failure_reason": failure,
        "created_at": job["created_at"],
        "scheduler_config": cfg["scheduler_config"],
        "env_vars": cfg["env_vars"],
    }


def pipeline_view(pipeline: Doc, job: Doc) -> Doc:
    cfg = job["config"]
    action_text, action, in_progress = _ACTIONS[job["status"]["state"], cfg["stop"] == "none"]
    nodes = [
        {
            "node_id": n["node_id"],
            "operator": n["operator"],
            "description": n["description"],
            "parallelism": effective_parallelism(job, n),
        }
        for n in pipeline["graph"]["nodes"]
    ]
    return {
        "id": pipeline["id"],
        "name": pipeline["name"],
        "query": pipeline["query"],
        "udfs": pipeline["udfs"],
        "checkpoint_interval_micros": cfg["checkpoint_interval_micros"],
        "stop": cfg["stop"],
        "created_at": pipeline["created_at"],
        "action": action,
        "action_text": action_text,
        "action_in_progress": in_progress,
        "graph": {"nodes": nodes, "edges": pipeline["graph"]["edges"]},
        "preview": pipeline["preview"],
        "state_url": pipeline["state_url"],
        "tags": pipeline["tags"],
    }


_JOB_SPANS = (
    ("Checkpointing", "The entire checkpointing process", 0.0, 1.0),
    ("CheckpointingOperators", "The time spent checkpointing operator states", 0.02, 0.8),
    ("WritingMetadata", "Writing the final checkpoint metadata", 0.8, 0.9),
    ("Committing", "Running two-phase commit for transactional connectors", 0.9, 1.0),
)
_TASK_SPANS = (
    ("Alignment", "Time spent waiting for alignment barriers", 0.0, 0.15),
    ("Sync", "The synchronous part of checkpointing", 0.15, 0.3),
    ("Async", "The asynchronous part of checkpointing", 0.3, 0.78),
)


def _planned_finish(cp: Doc, job: Doc) -> int:
    """When a checkpoint's parts end (a stuck one is planned as if it took its full interval)."""
    if cp["finish_time"] is not None:
        return int(cp["finish_time"])
    return int(cp["start_time"] + job["config"]["checkpoint_interval_micros"])


def checkpoint_view(cp: Doc, job: Doc, now: int) -> Doc:
    start, end = cp["start_time"], _planned_finish(cp, job)
    stuck = cp["finish_time"] is None
    events = []
    for name, description, a, b in _JOB_SPANS:
        if name == "Committing" and not cp["committing"]:
            continue
        span_start, span_end = start + int((end - start) * a), start + int((end - start) * b)
        if span_start > now:
            continue
        still_open = span_end > now or (stuck and name in ("Checkpointing", "Committing"))
        events.append(
            {
                "start_time": span_start,
                "finish_time": 0 if still_open else span_end,  # the real API sends 0 for an unfinished span
                "event": name,
                "description": description,
            }
        )
    return {
        "epoch": cp["epoch"],
        "backend": "parquet",
        "checkpoint_type": cp["checkpoint_type"],
        "start_time": start,
        "finish_time": None if stuck or cp["finish_time"] > now else cp["finish_time"],
        "events": events,
    }


_STATE_BYTES = {
    "source": (900, 4200),
    "key": (0, 0),
    "join": (4e6, 3.8e7),
    "lookup": (2e5, 9e5),
    "aggregate": (1.5e6, 2.4e7),
    "sink": (300, 2600),
}


def operator_groups(cp: Doc, job: Doc, now: int) -> list[Doc]:
    start, end = cp["start_time"], _planned_finish(cp, job)
    override = cp["parallelism"]
    groups = []
    for n in job["nodes"]:
        low, high = _STATE_BYTES.get(n["role"], (0, 0))
        if n["role"] == "sink" and n["operator"] == "filesystem":
            low, high = 2e6, 6e7
        tasks = int(override if override is not None else n["parallelism"])
        stuck_op = cp["finish_time"] is None and n["role"] == "sink"
        subtasks = []
        total = 0
        for index in range(tasks):
            size = int(low + (high - low) * noise(job["id"], cp["epoch"], n["operator_id"], index))
            total += size
            spans = []
            for name, description, a, b in _TASK_SPANS:
                s, e = start + int((end - start) * a), start + int((end - start) * b)
                if s <= now and not (stuck_op and name == "Async"):
                    spans.append(
                        {"start_time": s, "finish_time": min(e, now), "event": name, "description": description}
                    )
            subtasks.append({"index": index, "bytes": size, "event_spans": spans})
        op_done = not stuck_op and start + int((end - start) * 0.78) <= now
        groups.append(
            {
                "operator_id": n["operator_id"],
                "bytes": total,
                "started_metadata_write": start + int((end - start) * 0.8) if op_done else None,
                "finish_time": start + int((end - start) * 0.78) if op_done else None,
                "subtasks": subtasks,
            }
        )
    return groups


_RATE_METRICS = ("bytes_recv", "bytes_sent", "messages_recv", "messages_sent")


def metric_groups(job: Doc, now: int) -> list[Doc]:
    """What the controller's JobMetrics holds for a running job: 2 s buckets over the last 5 minutes."""
    st, script = job["status"], job["behaviour"]
    if st["state"] != "Running":
        return []
    last = now - now % METRIC_BUCKET
    times = [t for t in range(last - METRIC_WINDOW + METRIC_BUCKET, last + 1, METRIC_BUCKET) if t > st["since"]]
    sink_ids = {n["node_id"] for n in job["nodes"] if n["role"] == "sink"}
    out = []
    for n in job["nodes"]:
        tasks = effective_parallelism(job, n)
        per_task = script["rate"] / max(tasks, 1)
        recv_factor = 0.0 if n["role"] == "source" else 1.0
        sent_factor = {"sink": 0.0, "aggregate": 0.02, "join": 0.4}.get(n["role"], 1.0)
        row_bytes = script["row_bytes"] if sent_factor >= 0.4 else 64
        pressure = script["backpressure"] if n["node_id"] not in sink_ids else 0.01
        groups = []
        for name in (*_RATE_METRICS, "backpressure"):
            subtasks = []
            for index in range(tasks):
                points = []
                for t in times:
                    jitter = noise(job["id"], n["node_id"], index, name, t)
                    if name == "backpressure":
                        value = pressure * (0.93 + 0.07 * jitter) if pressure > 0.2 else 0.03 * jitter
                    else:
                        factor = recv_factor if name.endswith("recv") else sent_factor
                        value = per_task * factor * (0.85 + 0.3 * jitter)
                        if name.startswith("bytes"):
                            value *= row_bytes
                    points.append({"time": t, "value": round(value, 4)})
                if points:
                    subtasks.append({"index": index, "metrics": points})
            groups.append({"name": name, "subtasks": subtasks})
        out.append({"node_id": n["node_id"], "metric_groups": groups})
    return out


def _cell(column: str, row: int, at: int) -> Any:
    lower = column.lower()
    if "window" in lower:
        start = at - at % (10 * SEC) - 10 * SEC
        return {"start": rfc3339(start), "end": rfc3339(start + 10 * SEC)}
    if lower in ("ts", "timestamp", "time") or lower.endswith("_at"):
        return rfc3339(at)
    if any(k in lower for k in ("count", "bids", "orders", "samples", "clicks", "devices", "views")):
        return 1 + int(noise(column, row) * 40)
    if any(k in lower for k in ("price", "amount", "revenue", "avg", "max", "min", "sum", "score", "temp")):
        return round(10 + noise(column, row) * 990, 2)
    if lower.endswith("id") or lower in ("auction", "person"):
        return 1000 + int(noise(column, row) * 9000)
    return f"{column}-{int(noise(column, row) * 500)}"


def output_batch(columns: list[str], first_row: int, count: int, at: int) -> str:
    rows = [{c: _cell(c, first_row + i, at) for c in columns or ["value"]} for i in range(count)]
    return json.dumps(rows, separators=(",", ":"))


# --- the API --------------------------------------------------------------------------------------------------


class ArroyoApi:
    def __init__(self, store: DocStore, clock: Clock, controller: Controller) -> None:
        self.store = store
        self.clock = clock
        self.controller = controller

    def now(self) -> int:
        return micros(self.clock())

    # ---- lookups ----

    @staticmethod
    def org(request: Request) -> str:
        org = request.path_params.get("org")
        if org is None:
            return ORG_ID
        if ADMIN_PERMISSION not in getattr(request.state, "permissions", set()):
            raise ApiError(403, "Admin role required")
        return str(org)

    def _pipeline(self, org: str, pipeline_id: str) -> Doc | None:
        doc = self.store.get("pipeline", pipeline_id)
        return doc if doc is not None and doc["org"] == org else None

    def _jobs(self, org: str, pipeline_id: str, now: int) -> list[Doc]:
        if self._pipeline(org, pipeline_id) is None:
            return []
        jobs = sorted(self.store.all("job", pipeline_id), key=lambda j: -j["created_at"])
        return [self.controller.settle(j, now) for j in jobs]

    def _view(self, org: str, pipeline_id: str, now: int) -> Doc:
        pipeline = self._pipeline(org, pipeline_id)
        jobs = self._jobs(org, pipeline_id, now)
        if pipeline is None or not jobs:
            raise not_found("Pipeline")
        return pipeline_view(pipeline, jobs[0])

    def _job(self, org: str, pipeline_id: str, job_id: str, now: int) -> Doc:
        job = self.store.get("job", job_id)
        if job is None or job["pipeline_id"] != pipeline_id or self._pipeline(org, pipeline_id) is None:
            raise not_found("Job")
        return self.controller.settle(job, now)

    def _running_jobs(self, org: str, now: int) -> int:
        count = 0
        for job in self.store.all("job"):
            if job["org"] != org or job["preview"]:
                continue
            job = self.controller.settle(job, now)
            if job["config"]["stop"] == "none" and job["status"]["state"] not in ("Failed", "Finished"):
                count += 1
        return count

    # ---- pipelines ----

    async def ping(self, _request: Request) -> Response:
        return JSONResponse("Pong")

    async def create_pipeline(self, request: Request) -> Response:
        body = await read_json(request, "PipelinePost", PIPELINE_POST)
        return await self._create(request, body, None)

    async def put_pipeline(self, request: Request) -> Response:
        body = await read_json(request, "PipelinePost", PIPELINE_POST)
        return await self._create(request, body, str(request.path_params["pipeline_id"]))

    async def _create(self, request: Request, body: Doc, pipeline_id: str | None) -> Response:
        org = self.org(request)
        parallelism = int(body["parallelism"])
        interval = body["checkpoint_interval_micros"]
        plan = plan_query(body["query"], parallelism)
        if plan.errors:
            raise _plan_error(plan)
        return self._insert(
            org,
            pipeline_id=pipeline_id,
            name=body["name"],
            query=body["query"],
            udfs=body["udfs"] or [],
            parallelism=parallelism,
            interval=DEFAULT_CHECKPOINT_INTERVAL_MICROS if interval is None else int(interval),
            plan=plan,
            graph=plan.graph(),
            preview=False,
            state_url=body["state_url"],
            tags=body["tags"] or {},
            env_vars=body["env_vars"] or {},
            scheduler_config=body["scheduler_config"] if body["scheduler_config"] is not None else {},
        )

    async def create_preview(self, request: Request) -> Response:
        body = await read_json(request, "PreviewPost", PREVIEW_POST)
        org = self.org(request)
        plan = plan_query(body["query"], 1)
        if plan.errors:
            raise _plan_error(plan)
        now = self.now()
        return self._insert(
            org,
            pipeline_id=None,
            name=f"preview_{now // 1000}",
            query=body["query"],
            udfs=body["udfs"] or [],
            parallelism=1,
            interval=DAY,
            plan=plan,
            graph=preview_graph(plan.graph(), bool(body["enable_sinks"])),
            preview=True,
            state_url=None,
            tags={},
            env_vars={},
            scheduler_config={},
        )

    def _insert(
        self,
        org: str,
        *,
        pipeline_id: str | None,
        name: str,
        query: str,
        udfs: list[Doc],
        parallelism: int,
        interval: int,
        plan: Plan,
        graph: Graph,
        preview: bool,
        state_url: str | None,
        tags: dict[str, str],
        env_vars: dict[str, str],
        scheduler_config: Any,
    ) -> Response:
        if parallelism > MAX_PARALLELISM:
            raise bad_request(
                f"Your plan allows you to run pipelines up to parallelism {MAX_PARALLELISM};\n"
                "            contact support@arroyo.systems for an increase"
            )
        if len(graph["nodes"]) > MAX_OPERATORS:
            raise bad_request(
                "This pipeline is too large to create under your plan, which only allows pipelines up to "
                f"{MAX_OPERATORS} nodes;\n                contact support@arroyo.systems for an increase"
            )
        if not name:
            raise bad_request("Field name must be set")
        pipeline_id = pipeline_id or public_id("pl", secrets.token_hex(8))
        if self.store.get("pipeline", pipeline_id) is not None:
            raise bad_request("A record already exists with that name or id")
        if not SEC <= interval <= DAY:
            raise bad_request("Checkpoint_interval_micros must be between 1 second and 1 day.")
        now = self.now()
        with self.store.transaction():
            if self._running_jobs(org, now) > MAX_RUNNING_JOBS:
                raise bad_request(
                    "You have exceeded the maximum number\n            of running jobs in your plan "
                    f"({MAX_RUNNING_JOBS}). Stop an existing job or contact support@arroyo.systems for\n"
                    "            an increase"
                )
            pipeline = pipeline_doc(
                pipeline_id=pipeline_id,
                org=org,
                name=name,
                query=query,
                udfs=udfs,
                parallelism=parallelism,
                created_at=now,
                preview=preview,
                graph=graph,
                state_url=state_url,
                tags=tags,
            )
            script = behaviour(
                finish_after=30 * SEC if plan.bounded else None, rate=1500 + int(noise(pipeline_id) * 4000)
            )
            job = job_doc(
                job_id=public_id("job", secrets.token_hex(8)),
                org=org,
                pipeline_id=pipeline_id,
                created_at=now,
                preview=preview,
                interval=interval,
                nodes=graph["nodes"],
                env_vars=env_vars,
                scheduler_config=scheduler_config,
                script=script,
            )
            self.store.put("pipeline", pipeline_id, pipeline)
            self.store.put("job", job["id"], job, pipeline_id)
        return JSONResponse(pipeline_view(pipeline, job))

    async def validate_query(self, request: Request) -> Response:
        body = await read_json(request, "ValidateQueryPost", VALIDATE_POST)
        self.org(request)
        plan = plan_query(body["query"], 1)
        graph = None
        if not plan.errors:
            graph = {
                "nodes": [{k: n[k] for k in ("node_id", "operator", "description", "parallelism")} for n in plan.nodes],
                "edges": plan.edges,
            }
        return JSONResponse({"graph": graph, "errors": plan.errors})

    async def list_pipelines(self, request: Request) -> Response:
        org = self.org(request)
        starting_after, limit = pagination(request)
        now = self.now()
        pipelines = [p for p in self.store.all("pipeline") if p["org"] == org and not p["preview"]]
        pipelines = sorted(reversed(pipelines), key=lambda p: -p["created_at"])
        if starting_after:
            anchor = self.store.get("pipeline", starting_after)
            pipelines = [] if anchor is None else [p for p in pipelines if p["created_at"] < anchor["created_at"]]
        page = []
        for pipeline in pipelines[: limit + 1]:
            jobs = self._jobs(org, pipeline["id"], now)
            if jobs:
                page.append(pipeline_view(pipeline, jobs[0]))
        return JSONResponse({"data": page[:limit], "hasMore": len(page) > limit})

    async def get_pipeline(self, request: Request) -> Response:
        org = self.org(request)
        return JSONResponse(self._view(org, str(request.path_params["pipeline_id"]), self.now()))

    async def patch_pipeline(self, request: Request) -> Response:
        body = await read_json(request, "PipelinePatch", PIPELINE_PATCH)
        org = self.org(request)
        pipeline_id = str(request.path_params["pipeline_id"])
        now = self.now()
        with self.store.transaction():
            jobs = self._jobs(org, pipeline_id, now)
            if not jobs:
                raise not_found("Job for pipeline")
            interval = body["checkpoint_interval_micros"]
            if interval is not None and not SEC <= interval <= DAY:
                raise bad_request("checkpoint_interval_micros must be between 1 second and 1 day")
            changes = {k: body[k] for k in ("stop", "checkpoint_interval_micros", "parallelism") if body[k] is not None}
            if body["env_vars"] is not None:
                changes["env_vars"] = body["env_vars"]
            if body["scheduler_config"] is not None:
                changes["scheduler_config"] = body["scheduler_config"]
            self.controller.apply_config(jobs[0], now, changes)
            return JSONResponse(self._view(org, pipeline_id, now))

    async def restart_pipeline(self, request: Request) -> Response:
        body = await read_json(request, "PipelineRestart", PIPELINE_RESTART)
        org = self.org(request)
        pipeline_id = str(request.path_params["pipeline_id"])
        now = self.now()
        with self.store.transaction():
            if body["ignore_state"]:
                self._replace_job(org, pipeline_id, now)
                return JSONResponse(self._view(org, pipeline_id, now))
            jobs = self._jobs(org, pipeline_id, now)
            if not jobs:
                raise bad_request("No jobs for pipeline")
            job = jobs[0]
            nonce = job["config"]["restart_nonce"] + 1
            mode = "force" if body["force"] is True else "safe"
            self.controller.apply_config(job, now, {"restart_nonce": nonce, "restart_mode": mode})
            return JSONResponse(self._view(org, pipeline_id, now))

    def _replace_job(self, org: str, pipeline_id: str, now: int) -> None:
        """Restart without state (job-controller = worker): a fresh job replaces a Stopped or Failed one."""
        if self._pipeline(org, pipeline_id) is None:
            raise not_found("Pipeline")
        jobs = self._jobs(org, pipeline_id, now)
        if not jobs:
            raise not_found("Job for pipeline")
        old = jobs[0]
        state = old["status"]["state"]
        if state not in ("Stopped", "Failed"):
            raise ApiError(
                409,
                f"cannot restart job {old['id']} without state while it is in state {state}; stop the job first",
            )
        cfg = old["config"]
        fresh = job_doc(
            job_id=public_id("job", secrets.token_hex(8)),
            org=org,
            pipeline_id=pipeline_id,
            created_at=now,
            preview=old["preview"],
            interval=cfg["checkpoint_interval_micros"],
            nodes=old["nodes"],
            env_vars=cfg["env_vars"],
            scheduler_config=cfg["scheduler_config"],
            script=old["behaviour"],
        )
        fresh["config"]["parallelism"] = cfg["parallelism"]
        self._delete_job(old["id"])
        self.store.put("job", fresh["id"], fresh, pipeline_id)

    def _delete_job(self, job_id: str) -> None:
        for kind in ("checkpoint", "jlm"):
            for doc in self.store.all(kind, job_id):
                self.store.delete(kind, doc["id"] if kind == "jlm" else f"{job_id}:{doc['epoch']:010d}")
        self.store.delete("job", job_id)

    async def delete_pipeline(self, request: Request) -> Response:
        org = self.org(request)
        pipeline_id = str(request.path_params["pipeline_id"])
        with self.store.transaction():
            jobs = self._jobs(org, pipeline_id, self.now())
            if any(j["status"]["state"] not in TERMINAL for j in jobs):
                raise bad_request(
                    "Pipeline's jobs must be in a terminal state (stopped, finished, or failed) "
                    "before it can be deleted"
                )
            if self._pipeline(org, pipeline_id) is None:
                raise not_found("Pipeline")
            for job in jobs:
                self._delete_job(job["id"])
            self.store.delete("pipeline", pipeline_id)
        return Response(status_code=200)

    # ---- jobs ----

    async def list_jobs(self, request: Request) -> Response:
        org = self.org(request)
        now = self.now()
        jobs = [j for j in self.store.all("job") if j["org"] == org and not j["preview"]]
        jobs = sorted(reversed(jobs), key=lambda j: -j["created_at"])
        return JSONResponse({"data": [job_view(self.controller.settle(j, now)) for j in jobs]})

    async def pipeline_jobs(self, request: Request) -> Response:
        org = self.org(request)
        pipeline_id = str(request.path_params["pipeline_id"])
        if self._pipeline(org, pipeline_id) is None:
            raise not_found("Pipeline")
        return JSONResponse({"data": [job_view(j) for j in self._jobs(org, pipeline_id, self.now())]})

    def _path_job(self, request: Request) -> Doc:
        org = self.org(request)
        return self._job(org, str(request.path_params["pipeline_id"]), str(request.path_params["job_id"]), self.now())

    async def job_errors(self, request: Request) -> Response:
        org = self.org(request)
        starting_after, limit = pagination(request)
        job = self._job(org, str(request.path_params["pipeline_id"]), str(request.path_params["job_id"]), self.now())
        entries = [e for e in self.store.all("jlm", job["id"]) if e["level"] == "error"]
        entries = sorted(reversed(entries), key=lambda e: -e["created_at"])
        if starting_after:
            anchor = self.store.get("jlm", starting_after)
            entries = [] if anchor is None else [e for e in entries if e["created_at"] < anchor["created_at"]]
        page = [{k: v for k, v in e.items() if k != "job_id"} for e in entries[: limit + 1]]
        return JSONResponse({"data": page[:limit], "hasMore": len(page) > limit})

    async def job_checkpoints(self, request: Request) -> Response:
        job = self._path_job(request)
        now = self.now()
        checkpoints = sorted(self.store.all("checkpoint", job["id"]), key=lambda c: c["epoch"])
        return JSONResponse({"data": [checkpoint_view(c, job, now) for c in checkpoints]})

    async def checkpoint_groups(self, request: Request) -> Response:
        raw = str(request.path_params["epoch"])
        if not raw.isdigit() or int(raw) >= 2**32:
            raise bad_request(f"Invalid URL: Cannot parse `{raw}` to a `u32`")
        job = self._path_job(request)
        epoch = int(raw)
        cp = self.store.get("checkpoint", f"{job['id']}:{epoch:010d}")
        if cp is None:
            raise not_found(f"Checkpoint with epoch {epoch} for job '{job['id']}'")
        return JSONResponse({"data": operator_groups(cp, job, self.now())})

    async def job_metrics(self, request: Request) -> Response:
        job = self._path_job(request)
        return JSONResponse({"data": metric_groups(job, self.now())})

    async def job_output(self, request: Request) -> Response:
        org = self.org(request)
        pipeline_id, job_id = str(request.path_params["pipeline_id"]), str(request.path_params["job_id"])
        job = self._job(org, pipeline_id, job_id, self.now())
        pipeline = self._pipeline(org, pipeline_id)
        assert pipeline is not None
        sinks = [n["operator_id"] for n in pipeline["graph"]["nodes"] if "preview" in n["operator"]]
        if not sinks:
            raise bad_request("Job does not have a preview sink")
        if job["status"]["state"] != "Running":
            raise bad_request("Job must be running to read output")
        columns = plan_query(pipeline["query"], 1).columns
        return StreamingResponse(
            self._output(job_id, sinks, columns), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def _output(self, job_id: str, sinks: list[str], columns: list[str]) -> AsyncIterator[str]:
        count, row = 0, 0
        while True:
            job = self.store.get("job", job_id)
            if job is None:
                return
            now = self.now()
            with self.store.transaction():
                job = self.controller.settle(job, now)
            if job["status"]["state"] != "Running":
                return
            rows = 1 + int(noise(job_id, count) * 4)
            data = {
                "operator_id": sinks[count % len(sinks)],
                "subtask_idx": 0,
                "timestamps": [now - (rows - i) * 1000 for i in range(rows)],
                "start_id": row,
                "batch": output_batch(columns, row, rows, now),
            }
            yield f"data: {json.dumps(data, separators=(',', ':'))}\nid: {count}\n\n"
            count, row = count + 1, row + rows
            await anyio.sleep(OUTPUT_TICK_SECONDS)

    # ---- routing ----

    def pipeline_routes(self) -> list[BaseRoute]:
        jobs = "/pipelines/{pipeline_id}/jobs/{job_id}"
        return [
            Route("/pipelines", self.create_pipeline, methods=["POST"]),
            Route("/pipelines", self.list_pipelines, methods=["GET"]),
            Route("/pipelines/preview", self.create_preview, methods=["POST"]),
            Route("/pipelines/validate_query", self.validate_query, methods=["POST"]),
            Route("/jobs", self.list_jobs, methods=["GET"]),
            Route("/pipelines/{pipeline_id}", self.put_pipeline, methods=["PUT"]),
            Route("/pipelines/{pipeline_id}", self.patch_pipeline, methods=["PATCH"]),
            Route("/pipelines/{pipeline_id}", self.get_pipeline, methods=["GET"]),
            Route("/pipelines/{pipeline_id}", self.delete_pipeline, methods=["DELETE"]),
            Route("/pipelines/{pipeline_id}/restart", self.restart_pipeline, methods=["POST"]),
            Route("/pipelines/{pipeline_id}/jobs", self.pipeline_jobs, methods=["GET"]),
            Route(jobs + "/errors", self.job_errors, methods=["GET"]),
            Route(jobs + "/checkpoints", self.job_checkpoints, methods=["GET"]),
            Route(jobs + "/checkpoints/{epoch}/operator_checkpoint_groups", self.checkpoint_groups, methods=["GET"]),
            Route(jobs + "/output", self.job_output, methods=["GET"]),
            Route(jobs + "/operator_metric_groups", self.job_metrics, methods=["GET"]),
        ]

    def routes(self) -> list[BaseRoute]:
        return [
            Route(API + "/ping", self.ping, methods=["GET"]),
            Mount(ADMIN_MOUNT, routes=self.pipeline_routes()),
            Mount(API, routes=self.pipeline_routes()),
        ]


# --- auth -----------------------------------------------------------------------------------------------------


def _permissions(tokens: dict[str, set[str]] | None) -> Callable[[str], set[str] | None]:
    """A bearer token -> its permissions, None for an unknown token."""

    def permissions(token: str) -> set[str] | None:
        if tokens is None:
            return {ADMIN_PERMISSION} if token != NON_ADMIN_TOKEN else set()
        granted = lookup(tokens, token)
        return None if granted is None else set(granted)

    return permissions


def _refuse(_scope: Scope, token: str) -> Response:
    if not token:
        return error_response(401, "Authentication required: send an Authorization: Bearer <token> header")
    return error_response(401, "Invalid authorization token")


def create_app(
    *,
    db_path: str | None = None,
    tokens: dict[str, set[str]] | None = None,
    now: Callable[[], datetime] | None = None,
    faults: FaultInjector | None = None,
) -> Starlette:
    """An Arroyo simulator. State lives in SQLite (memory unless ``db_path``), seeded on first use."""
    clock = now or _utcnow
    injector = faults if faults is not None else FaultInjector()
    store = DocStore(db_path, seed=lambda s: populate(s, micros(clock()), _planner))
    api = ArroyoApi(store, clock, Controller(store))

    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message)

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            return Response(status_code=405, headers=exc.headers)
        if exc.status_code == 404:
            return error_response(404, "Route not found")
        return error_response(exc.status_code, str(exc.detail))

    async def server_error(_request: Request, _exc: Exception) -> Response:
        return error_response(500, "Something went wrong")

    def fault_body(status: int, message: str, headers: dict[str, str] | None) -> Response:
        return error_response(status, message, headers)

    app = Starlette(
        routes=[*api.routes(), *admin_routes(injector)],
        middleware=[
            Middleware(FaultMiddleware, faults=injector, error_body=fault_body),
            Middleware(TokenAuth, resolve=_permissions(tokens), refuse=_refuse, state_key="permissions"),
        ],
        exception_handlers={ApiError: api_error, HTTPException: http_error, 500: server_error},
    )
    app.router.redirect_slashes = False
    app.state.store = store
    app.state.faults = injector
    return app
