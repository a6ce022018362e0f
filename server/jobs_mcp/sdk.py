"""The seam with the ``mcp`` SDK: every use of its internals, in one place.

Tools are made with the SDK's public ``Tool.from_function`` (from a function whose synthesized signature is the
operation's input model). The SDK has no public way for two things this server needs, so they lean on its
internals here and nowhere else:

- strict arguments: an unknown argument is refused, not dropped, and bad ones are explained in plain words —
  ``StrictArguments`` subclasses the SDK's ``FuncMetadata`` and overrides ``validate_arguments``;
- compact schemas: ``Tool.parameters`` is overwritten with the compact input schema, and ``Tool.fn_metadata``
  with one that carries the result model's compact output schema (the tool functions return a ready
  ``CallToolResult``, so the SDK would otherwise publish no output schema);
- start-up that does not grow with the platforms: building a tool (its argument model, two JSON schemas) costs
  pydantic more than the SDK's own start-up with all platforms. So a tool whose schemas were prebuilt
  (``schemas.PREBUILT``) is made with the ``Tool`` constructor from them, its ``fn_metadata`` a stand-in that
  carries the output schema alone; ``RoundsTool.complete`` makes the rest with ``Tool.from_function`` on the
  tool's first call (its ``fn_metadata``, ``context_kwarg``, ``resolved_params``, ``resolver_plans``);
- URL-mode questions on 2026-07-28: the SDK's ``Resolve`` asks form questions only, and a tool whose parameters
  use ``Resolve`` may not return an ``InputRequiredResult`` itself. So a tool body ends its round by raising
  ``AskToOpen``, and ``RoundsTool.run`` (a ``Tool`` subclass overriding ``run``) turns it into the round's
  ``InputRequiredResult``: the link goes to the client as a URL-mode input request, never into a tool result.
  ``opened`` reads the client's answer on the next round.

``sdk_mismatches()`` lists what of these internals is not as this module expects; tests/test_sdk_seam.py fails
on any, naming the installed SDK version, so an SDK release that moves them is noticed there first.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import (
    INTERNAL_ERROR,
    ElicitRequest,
    ElicitRequestURLParams,
    ElicitResult,
    InputRequiredResult,
    ToolAnnotations,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, PrivateAttr, ValidationError

from jobs_mcp.schemas import (
    ArgumentProblem,
    built,
    compact_schema,
    explain,
    output_schema,
    prebuilt_schemas,
    signature_key,
)

__all__ = [
    "AskToOpen",
    "RoundsTool",
    "StrictArguments",
    "Tool",
    "asks_in_rounds",
    "make_tool",
    "opened",
    "sdk_mismatches",
    "sdk_version",
]

ROUNDS_FROM = "2026-07-28"  # the first protocol whose questions ride an InputRequiredResult


def sdk_version() -> str:
    return version("mcp")


class StrictArguments(FuncMetadata):
    """Refuses arguments the tool does not have instead of dropping them (a model that invents a filter must
    hear so, not believe it was applied), and says what is wrong with the others in plain words."""

    def validate_arguments(self, arguments_to_validate: dict[str, Any]) -> dict[str, Any]:
        known = {alias for name, f in self.arg_model.model_fields.items() for alias in (name, f.alias) if alias}
        unknown = [key for key in arguments_to_validate if key not in known]
        try:
            if unknown:
                errors = [
                    {"type": "extra_forbidden", "loc": (key,), "input": arguments_to_validate[key]} for key in unknown
                ]
                raise ValidationError.from_exception_data(self.arg_model.__name__, errors)  # type: ignore[arg-type]
            return super().validate_arguments(arguments_to_validate)
        except ArgumentProblem:
            raise
        except ValidationError as exc:
            raise explain(exc, self.arg_model) from None


def asks_in_rounds(ctx: Context) -> bool:
    """Whether this request is answered in rounds (2026-07-28 on): there is no request to send the client
    mid-call; its questions go back inside an ``InputRequiredResult`` and it calls again with the answers."""
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, ROUNDS_FROM)


class AskToOpen(MCPError):
    """Raised by a tool body (2026-07-28) to end this round asking the client to open ``url`` (URL-mode
    elicitation) and to call again with the answer; ``state`` comes back sealed by the SDK on that call. Its
    message names no URL: should it ever escape as a protocol error, the link still reaches no model."""

    def __init__(self, key: str, message: str, url: str, elicitation_id: str, state: str) -> None:
        super().__init__(INTERNAL_ERROR, "The client was to be asked to open a link, by a tool not made by make_tool")
        params = ElicitRequestURLParams(message=message, url=url, elicitation_id=elicitation_id)
        self.key, self.request, self.state = key, ElicitRequest(params=params), state


def opened(ctx: Context, key: str) -> tuple[str, str] | None:
    """(the state sent with it, the client's action) when this call answers the URL request ``key`` of the round
    before; None on a first round. The state is the SDK's sealed ``requestState``, so the client cannot forge it."""
    answer = (ctx.input_responses or {}).get(key)
    state = ctx.request_state
    return (state, answer.action) if isinstance(answer, ElicitResult) and state else None


class RoundsTool(Tool):
    """A tool whose body may end its round with ``AskToOpen``, and which may be completed on its first call (see
    the module's docstring)."""

    _result: type[BaseModel] | None = PrivateAttr(default=None)  # set while the tool waits to be completed

    @property
    def deferred(self) -> bool:
        """Whether the argument model is still to be made (on the first call)."""
        return self._result is not None

    def complete(self) -> None:
        """Makes what a call needs and a listing does not (the argument model), once; a no-op when made."""
        if self._result is None:
            return
        made = _from_function(self.fn, self.name, self._result)
        self.fn_metadata, self.context_kwarg = made.fn_metadata, made.context_kwarg
        self.resolved_params, self.resolver_plans = made.resolved_params, made.resolver_plans
        self._result = None

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        self.complete()
        try:
            return await super().run(arguments, context, convert_result)
        except AskToOpen as ask:
            return InputRequiredResult(input_requests={ask.key: ask.request}, request_state=ask.state)


def _from_function(fn: Callable[..., Any], name: str, result: type[BaseModel]) -> Tool:
    tool = RoundsTool.from_function(fn, name=name, structured_output=False)
    tool.parameters = compact_schema(tool.parameters) | {"additionalProperties": False}
    tool.fn_metadata = StrictArguments(
        arg_model=tool.fn_metadata.arg_model, output_model=result, output_schema=output_schema(result)
    )
    return tool


def _stand_in(output: dict[str, Any]) -> FuncMetadata:
    """The ``fn_metadata`` of a tool not yet completed: what a listing reads of it (the output schema)."""
    return FuncMetadata(arg_model=ArgModelBase, output_schema=output)


def make_tool(
    fn: Callable[..., Any],
    *,
    result: type[BaseModel],
    title: str,
    annotations: ToolAnnotations,
    name: str | None = None,
    description: str | None = None,
) -> Tool:
    """An MCP tool from ``fn`` (its signature is the input schema), strict about unknown arguments, with the
    compact input schema and ``result``'s compact output schema: prebuilt ones when they were built from the same
    signature (the argument model is then made on the first call), else built now."""
    name = name or fn.__name__
    description = inspect.cleandoc(description or fn.__doc__ or "")
    key = signature_key(fn, result)
    prebuilt = prebuilt_schemas(name, key)
    if prebuilt is None:
        tool = _from_function(fn, name, result)
        tool.title, tool.description, tool.annotations = title, description, annotations
        built(name, key, tool.parameters, result)
        return tool
    parameters, output = prebuilt
    stand_in = _stand_in(output)
    tool = RoundsTool(
        fn=fn,
        name=name,
        title=title,
        description=description,
        parameters=parameters,
        fn_metadata=stand_in,
        is_async=inspect.iscoroutinefunction(fn),
        context_kwarg=find_context_parameter(fn),
        annotations=annotations,
    )
    tool._result = result
    return tool


def sdk_mismatches() -> list[str]:
    """What of the SDK internals used above is not as expected (empty when all is as this module assumes)."""
    found: list[str] = []
    for name in (
        "parameters",
        "fn_metadata",
        "description",
        "is_async",
        "context_kwarg",
        "resolved_params",
        "resolver_plans",
    ):
        if name not in Tool.model_fields:
            found.append(f"Tool has no field {name!r}")
    for name in ("arg_model", "output_model", "output_schema"):
        if name not in FuncMetadata.model_fields:
            found.append(f"FuncMetadata has no field {name!r}")
    validate = getattr(FuncMetadata, "validate_arguments", None)
    if validate is None or list(inspect.signature(validate).parameters) != ["self", "arguments_to_validate"]:
        found.append("FuncMetadata.validate_arguments(self, arguments_to_validate) is gone or changed")
    wanted = {"fn", "name", "title", "description", "annotations", "structured_output"}
    missing = wanted - set(inspect.signature(Tool.from_function).parameters)
    if missing:
        found.append(f"Tool.from_function takes no {', '.join(sorted(missing))}")
    try:
        if _stand_in({"type": "object"}).output_schema != {"type": "object"}:
            found.append("FuncMetadata(arg_model=ArgModelBase, output_schema=...) does not keep its output schema")
    except Exception as exc:  # any failure here is the SDK's change, said with its type
        found.append(f"FuncMetadata(arg_model=ArgModelBase, output_schema=...) fails: {type(exc).__name__}")
    run = getattr(Tool, "run", None)
    if run is None or list(inspect.signature(run).parameters) != ["self", "arguments", "context", "convert_result"]:
        found.append("Tool.run(self, arguments, context, convert_result) is gone or changed")
    return found
