"""Skills and references as MCP prompts and resources.

``skills/*/SKILL.md`` (Agent Skills: YAML frontmatter with name and description) become prompts, with the
arguments listed in ``PROMPT_ARGUMENTS``; every skill and every ``references/*.md`` is also a resource with a
stable URI (``jobs-mcp://skills/<name>``, ``jobs-mcp://references/<name>``). The files ship inside the package.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.server.mcpserver.resources import FileResource
from pydantic import Field

PACKAGE = Path(__file__).resolve().parent
SKILLS_DIR = PACKAGE / "skills"
REFERENCES_DIR = PACKAGE / "references"
SKILL_URI = "jobs-mcp://skills/{}"
REFERENCE_URI = "jobs-mcp://references/{}"

# Prompt arguments per skill: name -> description. Each is optional text woven into the prompt.
PROMPT_ARGUMENTS: dict[str, dict[str, str]] = {
    "job-manager": {
        "job_id": "the job to work on, if known (32 hex characters)",
        "request": "what the person wants, in their words (e.g. 'why did the Facebook export stop?')",
    },
    "data-health-monitor": {"focus": "one area to dwell on: streams, jobs, schema or quota (default: all)"},
}


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    body: str
    path: Path


def parse_frontmatter(text: str) -> tuple[dict[str, str], str]:
    """The ``key: value`` pairs between the leading ``---`` lines, and the body after them."""
    if not text.startswith("---\n"):
        return {}, text
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        return {}, text
    meta = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip():
            meta[key.strip()] = value.strip().strip('"')
    return meta, body.lstrip("\n")


def load_skills(folder: Path = SKILLS_DIR) -> list[Skill]:
    skills = []
    for path in sorted(folder.glob("*/SKILL.md")):
        meta, body = parse_frontmatter(path.read_text(encoding="utf-8"))
        skills.append(Skill(meta.get("name", path.parent.name), meta.get("description", ""), body, path))
    return skills


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


def _skill_prompt(skill: Skill) -> Prompt:
    arguments = PROMPT_ARGUMENTS.get(skill.name, {})

    def prompt(**given: str) -> list[UserMessage]:
        messages = [UserMessage(skill.body)]
        asked = "\n".join(f"{name}: {value}" for name, value in given.items() if value)
        if asked:
            messages.append(UserMessage(f"Apply the skill above to this:\n{asked}"))
        return messages

    params = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default="", annotation=Annotated[str, Field(description=d)]
        )
        for name, d in arguments.items()
    ]
    prompt.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    prompt.__annotations__ = {p.name: p.annotation for p in params}
    return Prompt.from_function(
        prompt, name=skill.name, title=skill.name.replace("-", " ").capitalize(), description=skill.description
    )


def register_docs(server: MCPServer) -> None:
    for skill in load_skills():
        server.add_prompt(_skill_prompt(skill))
        server.add_resource(
            FileResource(
                uri=SKILL_URI.format(skill.name),
                name=f"skill-{skill.name}",
                title=skill.name,
                description=skill.description,
                path=skill.path,
                mime_type="text/markdown",
            )
        )
    for path in sorted(REFERENCES_DIR.glob("*.md")):
        server.add_resource(
            FileResource(
                uri=REFERENCE_URI.format(path.stem),
                name=path.stem,
                title=_title(path),
                description=f"Reference: {_title(path)}",
                path=path,
                mime_type="text/markdown",
            )
        )
