"""The seam with the ``mcp`` SDK: every use of its internals, in one place.

Tools are made with the SDK's public ``Tool.from_function`` (from a function whose synthesized signature is the
operation's input model). The SDK has no public way for two things this server needs, so they lean on its
internals here and nowhere else:

- strict arguments: an unknown argument is refused, not dropped, and bad ones are explained in plain words —
  ``StrictArguments`` subclasses the SDK's ``FuncMetadata`` and overrides ``validate_arguments``;
- compact schemas: ``Tool.parameters`` is overwritten with the compact input schema, and ``Tool.fn_metadata``
  with one that carries the result model's compact output schema (the tool functions return a ready
  ``CallToolResult``, so the SDK would otherwise publish no output schema).

``sdk_mismatches()`` lists what of these internals is not as this module expects; tests/test_sdk_seam.py fails
on any, naming the installed SDK version, so an SDK release that moves them is noticed there first.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ValidationError

from jobs_mcp.schemas import ArgumentProblem, compact_schema, explain, output_schema

__all__ = ["StrictArguments", "Tool", "make_tool", "sdk_mismatches", "sdk_version"]


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
    compact input schema and ``result``'s compact output schema."""
    tool = Tool.from_function(
        fn, name=name, title=title, description=description, annotations=annotations, structured_output=False
    )
    tool.parameters = compact_schema(tool.parameters) | {"additionalProperties": False}
    tool.description = inspect.cleandoc(tool.description or "")
    tool.fn_metadata = StrictArguments(
        arg_model=tool.fn_metadata.arg_model, output_model=result, output_schema=output_schema(result)
    )
    return tool


def sdk_mismatches() -> list[str]:
    """What of the SDK internals used above is not as expected (empty when all is as this module assumes)."""
    found: list[str] = []
    for name in ("parameters", "fn_metadata", "description"):
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
    return found
