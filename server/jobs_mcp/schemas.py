"""Tool schemas as they go on the wire: compact (tools/list is paid on every turn), and bad arguments explained in
plain words. (Fitting them into the SDK's tools is ``sdk.py``'s job.)"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError


def compact_schema(schema: Any, *, output: bool = False) -> Any:
    """The same schema in fewer tokens (tools/list is paid on every turn): no generated ``title`` keywords,
    ``anyOf [T, null]`` of a typed schema written as ``type: [T, "null"]``, for output schemas no ``default``
    keywords (they mean nothing for a result), and for input schemas no ``pattern`` and no ``minLength: 1`` (the
    server still enforces both). Property *names* are never touched."""
    if isinstance(schema, list):
        return [compact_schema(item, output=output) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if (key == "title" and isinstance(value, str)) or (output and key == "default"):
            continue
        if not output and (key == "pattern" or (key == "minLength" and value == 1)) and isinstance(value, str | int):
            # Checked by the server all the same (the argument model keeps them); a regex or a "not empty" costs
            # tokens on every turn and tells a model less than the field's description does.
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, output=output) for name, sub in value.items()}
        else:
            out[key] = compact_schema(value, output=output)
    options = out.get("anyOf")
    if not output and out.get("default", 0) is None:
        # An optional argument: leaving it out is how a model says "none", so the schema shows only the real type
        # (one option instead of anyOf with null, no default). The server still accepts an explicit null.
        del out["default"]
        if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
            other = next(o for o in options if o != {"type": "null"})
            del out["anyOf"]
            return other | out if isinstance(other, dict) else out
        if isinstance(out.get("type"), list) and "null" in out["type"]:
            kinds = [k for k in out["type"] if k != "null"]
            out["type"] = kinds[0] if len(kinds) == 1 else kinds
        return out
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = next(o for o in options if o != {"type": "null"})
        if isinstance(other, dict) and isinstance(other.get("type"), str) and set(other) <= {"type", "format", "enum"}:
            del out["anyOf"]
            out |= other | {"type": [other["type"], "null"]}
            if "enum" in other:
                out["enum"] = [*other["enum"], None]
    return out


@cache
def output_schema(model: type[BaseModel]) -> dict[str, Any]:
    """One JSON schema per result model, however many tools share it (start-up time)."""
    schema: dict[str, Any] = compact_schema(model.model_json_schema(mode="serialization"), output=True)
    schema.pop("description", None)  # the model's docstring: the tool's description already says it
    return schema


PREBUILT = Path(__file__).with_name("tool_schemas.json")
"""Every tool's input and output schema as built for the registered platforms on their sandboxes, written by
``python -m jobs_mcp.snapshot --write`` with tests/tool_snapshot.json, and checked by tests/test_prebuilt_schemas.py.
Building them costs more than the SDK's whole start-up with all platforms (pydantic makes an argument model and two
JSON schemas per tool), so a start reads them from here instead; the argument model is made on a tool's first call."""

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


class Prebuilt:
    """Tools' schemas by tool name: the input schema, the key it was built from, and its result model's output
    schema (one per model, however many tools share it)."""

    def __init__(self, tools: dict[str, Any] | None = None, outputs: dict[str, Any] | None = None) -> None:
        self.tools: dict[str, Any] = tools or {}
        self.outputs: dict[str, Any] = outputs or {}

    def get(self, name: str, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        entry = self.tools.get(name)
        if entry is None or entry["key"] != key:
            return None
        return entry["input"], self.outputs[entry["output"]]

    def add(self, name: str, key: str, input_schema: dict[str, Any], result: type[BaseModel]) -> None:
        model = f"{result.__module__}.{result.__qualname__}"
        self.tools[name] = {"key": key, "input": input_schema, "output": model}
        self.outputs[model] = output_schema(result)

    def render(self) -> str:
        data = {"versions": _versions(), "tools": self.tools, "outputs": self.outputs}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"

    @classmethod
    def read(cls, path: Path) -> Prebuilt:
        """The file's schemas; none if it is missing, unreadable, or made under another SDK or pydantic (which
        may build them otherwise)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or data.get("versions") != _versions():
            return cls()
        return cls(data.get("tools"), data.get("outputs"))


_building: ContextVar[Prebuilt | None] = ContextVar("building", default=None)


def signature_key(fn: Callable[..., Any], result: type[BaseModel]) -> str:
    """What a tool's schemas are made from, as a short digest: its synthesized signature (every parameter, its
    type, constraints, description and default; the platforms and accounts a choice offers) and its result model.
    A prebuilt schema whose key differs is not used (e.g. an account choice with other account names)."""
    text = _ADDRESS.sub("", repr(inspect.signature(fn))) + f" -> {result.__module__}.{result.__qualname__}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _versions() -> dict[str, str]:
    return {name: version(name) for name in ("mcp", "pydantic")}


@cache
def _prebuilt() -> Prebuilt:
    return Prebuilt.read(PREBUILT)


def prebuilt_schemas(name: str, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(input schema, output schema) of tool ``name`` as prebuilt from the same ``key``; None if there are none,
    and while ``building_schemas`` collects them."""
    return None if _building.get() is not None else _prebuilt().get(name, key)


def built(name: str, key: str, input_schema: dict[str, Any], result: type[BaseModel]) -> None:
    """Records a tool's schemas as just built, when ``building_schemas`` collects them."""
    collected = _building.get()
    if collected is not None:
        collected.add(name, key, input_schema, result)


@contextmanager
def building_schemas() -> Iterator[Prebuilt]:
    """Within it, every tool made builds its schemas at once (none prebuilt is read), and they are collected:
    what the file ``PREBUILT`` holds is the collection's ``render()``."""
    collected = Prebuilt()
    token = _building.set(collected)
    try:
        yield collected
    finally:
        _building.reset(token)


class ArgumentProblem(ValidationError):
    """Bad arguments, said plainly: each field and what it needs, no pydantic links or internal model names.
    (A ValidationError, because that is what the SDK reports to the model as the caller's mistake.)"""

    text = ""

    def __str__(self) -> str:
        return self.text


MAX_PROBLEMS = 5  # a refusal names this many problems and counts the rest: it never floods the model's context
MAX_PROBLEM = 300  # characters of one problem


def _problem(error: Any, model: type[BaseModel] | None) -> str:
    field = ".".join(str(part) for part in error["loc"])[:120] or "arguments"
    kind = error["type"]
    if kind == "extra_forbidden":
        said = "not an argument of this tool (leave it out)"
    elif kind == "missing":
        said = "required"
    elif kind == "string_pattern_mismatch":  # the regex means nothing to a person; the field's description does
        info = model.model_fields.get(str(error["loc"][0])) if model is not None and error["loc"] else None
        said = "not in the expected form" + (f" ({info.description})" if info is not None and info.description else "")
    else:
        said = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {said}"[:MAX_PROBLEM]


def explain(exc: ValidationError, model: type[BaseModel] | None = None) -> ArgumentProblem:
    """Every problem in plain words, the same one said once, at most ``MAX_PROBLEMS`` of them and the count."""
    problems = [_problem(error, model) for error in exc.errors(include_url=False)]
    distinct = list(dict.fromkeys(problems))
    text = "; ".join(distinct[:MAX_PROBLEMS])
    if len(problems) > MAX_PROBLEMS:
        text += f"; and more: {len(problems)} problems in all"
    problem = ArgumentProblem.from_exception_data("arguments", [])
    problem.text = "Nothing was sent. " + text + "."
    return problem
