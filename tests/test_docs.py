"""Skills and references read back through a client: prompts with frontmatter'd bodies, resources with
stable URIs, and every tool a skill names really registered."""

from __future__ import annotations

import re

import pytest
from mcp import Client

from jobs_mcp.docs import REFERENCES_DIR, SKILLS_DIR, load_skills, parse_frontmatter
from support import Sandbox

pytestmark = pytest.mark.anyio

SKILLS = {"job-manager", "data-health-monitor"}
REFERENCES = {"auth", "api-client", "confirmation-gate", "api-response-format"}


def test_skill_files_have_agent_skill_frontmatter() -> None:
    skills = {s.name: s for s in load_skills()}
    assert set(skills) == SKILLS
    for skill in skills.values():
        meta, body = parse_frontmatter(skill.path.read_text(encoding="utf-8"))
        assert meta["name"] == skill.path.parent.name
        assert len(meta["description"]) > 60 and "Use when" in meta["description"]
        assert body.startswith("# ")
    assert {p.stem for p in REFERENCES_DIR.glob("*.md")} == REFERENCES
    assert SKILLS_DIR.is_dir()


async def test_skills_are_prompts_and_resources(client: Client) -> None:
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == SKILLS
    assert {a.name for a in prompts["job-manager"].arguments or []} == {"job_id", "request"}
    assert {a.name for a in prompts["data-health-monitor"].arguments or []} == {"focus"}
    got = await client.get_prompt("job-manager", {"job_id": "4f2a9c0e1b7d4e6a8c3f5b2d9e0a1c7b"})
    texts = [m.content.text for m in got.messages]  # type: ignore[union-attr]
    assert "confirm_action" in texts[0] and "4f2a9c0e1b7d4e6a8c3f5b2d9e0a1c7b" in texts[-1]

    resources = {r.uri: r for r in (await client.list_resources()).resources}
    expected = {f"jobs-mcp://skills/{s}" for s in SKILLS} | {f"jobs-mcp://references/{r}" for r in REFERENCES}
    assert expected <= set(resources)
    gate = await client.read_resource("jobs-mcp://references/confirmation-gate")
    assert "single use" in gate.contents[0].text  # type: ignore[union-attr]
    skill = await client.read_resource("jobs-mcp://skills/job-manager")
    assert skill.contents[0].text.startswith("---\nname: job-manager")  # type: ignore[union-attr]


async def test_every_tool_a_skill_names_exists(client: Client) -> None:
    tools = {t.name for t in (await client.list_tools()).tools}
    skills = load_skills()
    assert {s.name for s in skills} == SKILLS
    for skill in skills:
        named = set(re.findall(r"`((?:lytics_|confirm_|cancel_|list_pending)[a-z_]*)", skill.body))
        assert named, skill.name
        assert named <= tools, f"{skill.name} names unknown tools: {named - tools}"


async def test_instructions_point_to_skills_and_references() -> None:
    sandbox = Sandbox()
    async with Client(sandbox.server) as c:
        text = c.instructions or ""
    assert "job-manager" in text and "jobs-mcp://references/" in text
