"""Tool schemas as they go on the wire: compact (tools/list is paid on every turn), and bad arguments explained in
plain words. (Fitting them into the SDK's tools is ``sdk.py``'s job.)"""

from __future__ import annotations

from functools import cache
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


class ArgumentProblem(ValidationError):
    """Bad arguments, said plainly: each field and what it needs, no pydantic links or internal model names.
    (A ValidationError, because that is what the SDK reports to the model as the caller's mistake.)"""

    text = ""

    def __str__(self) -> str:
        return self.text


def explain(exc: ValidationError) -> ArgumentProblem:
    problems = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "arguments"
        if error["type"] == "extra_forbidden":
            problems.append(f"{field}: not an argument of this tool (leave it out)")
        elif error["type"] == "missing":
            problems.append(f"{field}: required")
        else:
            problems.append(f"{field}: {error['msg'].removeprefix('Value error, ')}")
    problem = ArgumentProblem.from_exception_data("arguments", [])
    problem.text = "Nothing was sent. " + "; ".join(problems) + "."
    return problem
