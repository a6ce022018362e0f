"""Tool functions made from operations: the generic maker for reads, and what the write tools share.

The SDK reads a tool's parameters from its signature, so each function gets a synthesized signature whose
parameters are the fields of the operation's input model; that model is the tool's input schema.

The write tools, which never run on the call alone, are made in ``write_tools.py``; what both share is here.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field, ValidationError

from jobs_mcp.operations import Operation, OperationInput, Provider, ToolResult
from jobs_mcp.runtime import Runtime
from jobs_mcp.schemas import explain
from jobs_mcp.textsafe import scrub

log = logging.getLogger(__name__)
SANDBOX_MARK = "[sandbox: simulated {platform} {accounts}, not real data]"
KW = inspect.Parameter.KEYWORD_ONLY


def argument_parameters(op: Operation[Any, Any], accounts: tuple[str, ...]) -> list[inspect.Parameter]:
    """The tool's parameters: the input model's fields, plus ``account`` when several accounts exist."""
    params = []
    for name, info in op.input_model.model_fields.items():
        annotation: Any = Annotated[(info.annotation, *info.metadata, Field(description=info.description))]
        default = inspect.Parameter.empty if info.is_required() else info.get_default(call_default_factory=True)
        params.append(inspect.Parameter(name, KW, annotation=annotation, default=default))
    if len(accounts) > 1:
        choice = Annotated[Literal[accounts] | None, Field(description="account to use (default: the first)")]  # type: ignore[valid-type]
        params.append(inspect.Parameter("account", KW, annotation=choice, default=None))
    return params


def _with_signature(fn: Callable[..., Any], name: str, params: list[inspect.Parameter], returns: Any) -> None:
    """Give ``fn`` a signature (read by the SDK's schema maker) and matching annotations (read by Resolve)."""
    ctx = inspect.Parameter("ctx", KW, annotation=Context)
    fn.__signature__ = inspect.Signature([ctx, *params], return_annotation=returns)  # type: ignore[attr-defined]
    fn.__annotations__ = {p.name: p.annotation for p in [ctx, *params]} | {"return": returns}
    fn.__name__ = name


@contextmanager
def no_crash(tool: str, safe: str) -> Iterator[None]:
    """No unexpected exception reaches a client as a bare "Error executing tool": it is logged here (never its text
    to the model, which could hold anything) and said as a bug, with what is known of what was sent."""
    try:
        yield
    except (ToolError, MCPError):
        raise
    except Exception as exc:
        log.exception("%s failed unexpectedly", tool)
        raise ToolError(
            f"jobs-mcp failed inside {tool} ({type(exc).__name__}); this is a bug in the server, not in the request, "
            f"and the server's log has the details. {safe}."
        ) from None


def _split(op: Operation[Any, Any], kwargs: dict[str, Any]) -> tuple[OperationInput, str | None]:
    """The arguments as the operation's model reads them, checks across fields included (e.g. a filter that needs
    another): a problem is said in plain words, and nothing is sent."""
    account = kwargs.pop("account", None)
    try:
        return op.input_model.model_validate(kwargs), account
    except ValidationError as exc:
        raise ToolError(str(explain(exc, op.input_model))) from None


def sandbox_mark(platform: str | None) -> str:
    """The first line of every simulated answer; ``platform`` may name several ("Lytics, Strait")."""
    several = platform is not None and "," in platform
    return SANDBOX_MARK.format(platform=platform or "platform", accounts="accounts" if several else "account")


def tool_result(result: ToolResult, text: str, platform: str | None) -> CallToolResult:
    """The text a model reads and the structured result; simulated data is marked as such, naming the platform.
    The last gate for secrets: no credential leaves in either, whatever a platform echoed back."""
    if result.sandbox:
        text = f"{sandbox_mark(platform)}\n{text}"
    structured = result.model_dump(mode="json")
    dumped = json.dumps(structured)
    if scrub(dumped) != dumped:
        structured = json.loads(scrub(dumped))
    return CallToolResult(content=[TextContent(type="text", text=scrub(text))], structured_content=structured)


def read_tool(op: Operation[Any, Any], declared: Provider, runtime: Runtime) -> Callable[..., Any]:
    assert op.render is not None

    async def tool(ctx: Context, **kwargs: Any) -> CallToolResult:
        with no_crash(op.name, "Nothing was changed"):
            return await _read(ctx, **kwargs)

    async def _read(ctx: Context, **kwargs: Any) -> CallToolResult:
        args, account = _split(op, kwargs)

        async def progress(done: int, total: int | None, message: str) -> None:
            await ctx.report_progress(done, total=total, message=message)

        result = await runtime.read(op, args, account, progress)
        return tool_result(result, op.render(result), platform)  # type: ignore[misc]

    platform = declared.title
    _with_signature(tool, op.name, argument_parameters(op, runtime.accounts(op.provider)), op.result_model)
    return tool
