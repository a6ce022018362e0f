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
