"""Operations as data: each platform operation is declared once and becomes exactly one MCP tool.

An ``Operation`` names the tool, says what kind it is, which HTTP endpoint it calls, which pydantic model its
arguments are (that model IS the tool's input schema), which model its result is (the output schema), how the
raw API payload becomes that result, and how the result reads as text. ``app.py`` registers every enabled
operation in one loop; nothing else defines tools.
"""

from __future__ import annotations

import string
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar
from urllib.parse import quote as urlquote

from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from jobs_mcp.gate import WriteSpec
    from jobs_mcp.http import ApiClient

Kind = Literal["read", "write", "lifecycle"]


class OperationInput(BaseModel):
    """Base of every tool's arguments: unknown arguments are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use: faster start-up


class ToolResult(BaseModel):
    """Base of every tool's structured result."""

    sandbox: bool = Field(description="simulated data, not a real account")


In = TypeVar("In", bound=OperationInput)
R = TypeVar("R", bound=ToolResult)


@dataclass(frozen=True)
class Endpoint:
    """One HTTP call. ``paths`` are templates tried in order: the first whose placeholders all have a value
    (an argument or a property of the input model) is used, so optional path parts need no extra code."""

    method: str
    paths: tuple[str, ...]
    query: tuple[str, ...] = ()  # argument names sent as query parameters (None/False are left out)
    fixed_query: Mapping[str, str] = field(default_factory=dict)

    def path_for(self, args: BaseModel) -> str:
        for template in self.paths:
            names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
            values = {name: getattr(args, name, None) for name in names}
            if all(v not in (None, "") for v in values.values()):
                return template.format(**{k: urlquote(str(v), safe="") for k, v in values.items()})
        raise ValueError(f"no path of {self.paths} fits the arguments")  # a declaration bug, not user input

    def params_for(self, args: BaseModel) -> dict[str, str]:
        params = dict(self.fixed_query)
        for name in self.query:
            value = getattr(args, name)
            if value is None or value is False:
                continue
            if isinstance(value, bool):
                params[name] = "true"
            elif isinstance(value, list | tuple):
                params[name] = ",".join(map(str, value))
            else:
                params[name] = str(value)
        return params


@dataclass
class Call(Generic[In]):
    """Everything a shaping function sees: the validated arguments and the payloads that came back."""

    args: In
    api: ApiClient
    now: datetime
    sandbox: bool
    data: Any = None  # the main endpoint's payload
    extra: dict[str, Any] = field(default_factory=dict)  # payloads of the `also` endpoints, by key
    progress: Callable[[int, int, str], Awaitable[None]] | None = None  # reports progress to the client


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
    check: Callable[[Call[In]], Awaitable[None]] | None = None  # pre-flight validation (may use cached reads)
    not_found: str = "Not found (HTTP 404)."  # str.format()-ed with the arguments
    destructive: bool = False
    idempotent: bool = True
    run: Callable[[Call[In]], Awaitable[R]] | None = None  # a composite read that makes its own calls
    write: WriteSpec | None = None  # set for write and lifecycle operations: how the gate proposes them

    @property
    def annotations(self) -> ToolAnnotations:
        return ToolAnnotations(
            title=self.title,
            read_only_hint=self.kind == "read",
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent,
            open_world_hint=True,
        )

    def explain_not_found(self, args: BaseModel) -> str:
        return self.not_found.format(**{name: getattr(args, name) for name in type(args).model_fields})
