"""Checking an object against the fields a platform declares for it, before anything is proposed.

A platform that says which fields an object takes (a Lytics workflow's config fields, an OwlMetry job type's
parameters, a Strait job's payload schema) is read into ``FieldSpec``s; ``problems`` lists everything the object
gets wrong at once — a field that does not exist (with the closest name), a required one left out, a value of the
wrong type or not among the allowed ones — and ``refusal`` says them in plain words, bounded in size. Declarations
are remote data: a type word this module does not know is not checked, never refused.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jobs_mcp.schemas import MAX_PROBLEM, MAX_PROBLEMS
from jobs_mcp.textsafe import one_line

MAX_OPTIONS = 12  # allowed values named in one problem; the rest are counted

# A declared type -> (what a value of it must be, in words; the test). JSON Schema's words and their usual aliases.
_TYPES: dict[str, tuple[str, Any]] = {
    "string": ("text", lambda v: isinstance(v, str)),
    "integer": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "array": ("a list", lambda v: isinstance(v, list)),
    "object": ("an object", lambda v: isinstance(v, dict)),
}
_ALIASES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array", "map": "object"}


@dataclass(frozen=True)
class FieldSpec:
    """One declared field: its name, type (JSON Schema words), whether it must be given, the values allowed."""

    name: str
    type: str = ""
    required: bool = False
    options: tuple[Any, ...] = ()
    description: str = ""

    @classmethod
    def read(cls, raw: Any) -> FieldSpec | None:
        """A declaration as a platform sends it (``name``, ``type``, ``required``, ``options``/``enum``,
        ``description``); None when it names no field."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw["name"]:
            return None
        options = raw.get("options", raw.get("enum"))
        kind = str(raw.get("type") or "").strip().lower()
        return cls(
            name=raw["name"],
            type=_ALIASES.get(kind, kind),
            required=raw.get("required") is True,
            options=tuple(options) if isinstance(options, list) else (),
            description=str(raw.get("description") or ""),
        )

    @property
    def summary(self) -> str:
        """``segment_id (string, required): the audience to send``, as a person reads it."""
        traits = [t for t in (self.type, "required" if self.required else "") if t]
        head = f"{self.name} ({', '.join(traits)})" if traits else self.name
        if self.options:
            head += f" one of {_values(self.options)}"
        return head + (f": {one_line(self.description, 120)}" if self.description else "")


def read_fields(raw: Any) -> list[FieldSpec]:
    """The declarations of a list, those that name a field."""
    fields = [FieldSpec.read(item) for item in raw] if isinstance(raw, list) else []
    return [f for f in fields if f is not None]


def from_json_schema(schema: Any) -> list[FieldSpec]:
    """The top-level properties of an object JSON Schema as fields (nested schemas are left to the platform)."""
    if not isinstance(schema, Mapping) or not isinstance(schema.get("properties"), Mapping):
        return []
    required = schema.get("required")
    needed = {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()
    fields = []
    for name, sub in schema["properties"].items():
        declared = dict(sub) if isinstance(sub, Mapping) else {}
        spec = FieldSpec.read(declared | {"name": str(name), "required": name in needed})
        if spec is not None:
            fields.append(spec)
    return fields


def _value(value: Any) -> str:
    return one_line(json.dumps(value) if isinstance(value, str) else value, 60)


def _values(options: Sequence[Any]) -> str:
    shown = ", ".join(_value(o) for o in options[:MAX_OPTIONS])
    return shown + (f" … ({len(options)} in all)" if len(options) > MAX_OPTIONS else "")


def _type_problem(spec: FieldSpec, value: Any) -> str | None:
    known = _TYPES.get(spec.type)
    if known is None or known[1](value):
        return None
    return f"must be {known[0]}, not {_value(value)}"


def _option_problem(spec: FieldSpec, value: Any) -> str | None:
    if not spec.options:
        return None
    wrong = [v for v in (value if isinstance(value, list) else [value]) if v not in spec.options]
    if not wrong:
        return None
    return f"{', '.join(_value(v) for v in wrong[:3])} is not allowed; allowed: {_values(spec.options)}"


def problems(
    given: Mapping[str, Any], fields: Sequence[FieldSpec], where: str, *, extra_allowed: bool = False
) -> list[str]:
    """Every way ``given`` breaks the declared ``fields``, one line each, prefixed with ``where`` (e.g. ``config``).
    A field that is not declared is a problem unless ``extra_allowed``."""
    declared = {f.name: f for f in fields}
    found = []
    for name, value in given.items():
        spec = declared.get(name)
        if spec is None:
            if not extra_allowed:
                close = difflib.get_close_matches(name, list(declared), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]}?)" if close else ""
                found.append(f"{where}.{one_line(name, 60)}: not a field{hint}")
            continue
        said = _type_problem(spec, value) or _option_problem(spec, value)
        if said:
            found.append(f"{where}.{name}: {said}")
    for spec in fields:
        if spec.required and spec.name not in given:
            found.append(f"{where}.{spec.name}: required, missing" + (f" ({spec.type})" if spec.type else ""))
    return [p[:MAX_PROBLEM] for p in found]


def refusal(found: Sequence[str], fields: Sequence[FieldSpec], subject: str, then: str = "") -> str:
    """The refusal a model reads: what is wrong (the first ``MAX_PROBLEMS`` and the count), then the fields that
    exist, each with its type, whether required and its allowed values. ``subject`` says whose fields they are."""
    text = f"Nothing was proposed: {'; '.join(found[:MAX_PROBLEMS])}"
    if len(found) > MAX_PROBLEMS:
        text += f"; and more: {len(found)} problems in all"
    listed = "; ".join(f.summary for f in fields[:20]) or "none"
    more = f"; … ({len(fields)} fields in all)" if len(fields) > 20 else ""
    return f"{text}.\nThe fields of {subject}: {listed}{more}." + (f" {then}" if then else "")
