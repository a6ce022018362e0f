"""The confirmation gate: nothing changes on a platform until a person has said yes to the exact request.

``propose`` validates, reads the target as it is now and returns a proposal (summary, changes, the exact
request, risk, a signed single-use confirmation id) while sending nothing. ``confirm`` checks the id, re-reads
the target, and only when nothing moved sends exactly the proposed request, with an audit record before and
after. A target that changed gets a fresh proposal instead; a create whose answer was lost is checked, never
retried. See references/confirmation-gate.md for the contract in prose.

Rooms: ``core`` (the Gate: propose, confirm, execute, the approval page's decisions), ``records`` (its settings
and its sealed pending records), ``draft`` (a write worked out before sending) and ``results`` (what the gate
answers, and its text).
"""

from jobs_mcp.gate.core import Gate
from jobs_mcp.gate.draft import Draft
from jobs_mcp.gate.results import ActionResult, PendingList, PlannedRequest, render_action
from jobs_mcp.operations import Change

__all__ = ["ActionResult", "Change", "Draft", "Gate", "PendingList", "PlannedRequest", "render_action"]
