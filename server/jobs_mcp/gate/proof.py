"""Which approvals need a person's proof (passkey, approver passphrase, or asked in the client), as the gate
sees it: the action's declared risk against the proof tier (the account's, else the server's). A confirmation
id proves no person, so an action at the tier is never confirmed by id unless the operator chose
``--allow-high-risk-ids``. Refused proofs are audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobs_mcp.approvers import FILE_NAME, ApproverFile
from jobs_mcp.gate.draft import _spec
from jobs_mcp.gate.records import SealedRecords
from jobs_mcp.person_proof import PersonCheck

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient
    from jobs_mcp.operations import Operation
    from jobs_mcp.state import Record


class ProofRules(SealedRecords):
    person: PersonCheck | None = None  # set by the runtime from the settings; else the default file and tier
    ids_need_no_proof = False  # --allow-high-risk-ids: the operator lets ids approve these too (weaker)

    @property
    def people(self) -> PersonCheck:
        if self.person is None:
            self.person = PersonCheck(ApproverFile(self.audit.path.parent / FILE_NAME))
        return self.person

    def needs_proof(self, op: Operation[Any, Any], api: ApiClient) -> bool:
        """Whether approving this action needs a person's proof."""
        return self.people.needed(_spec(op).risk.level, api.account.person_proof)

    def record_needs_proof(self, record: Record) -> bool:
        op = self._ops[record["tool"]]
        return self.needs_proof(op, self._client(op.provider, record["account"]))

    def proof_refused(self, record: Record, reason: str) -> None:
        """The page was posted without a valid proof of a person: audited, nothing sent, the proposal still open."""
        shown = {"method": record["request"]["method"], "path": record["request"]["path"]}
        principal = record.get("principal", "local")
        self.audit.refusal(record["id"], record["account"], record["tool"], shown, reason, principal=principal,
                           channel="page")  # fmt: skip
