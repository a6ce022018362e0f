"""Strait's part of ``jobs-mcp demo``: the failing export's runs, one failed run digested, then a gated trigger of
the healthy job and its confirmation."""

from __future__ import annotations

from jobs_mcp.demo import Step, confirm_previous
from jobs_mcp.providers.strait.seed import DEAD_LETTER_RUN_ID, FAILING_JOB_ID, HEALTHY_JOB_ID

STEPS = (
    Step("Which Strait jobs do we have?", "strait_list_jobs"),
    Step("How are the warehouse export's runs going?", "strait_list_runs", {"job_id": FAILING_JOB_ID, "limit": 5}),
    Step("Why did this one fail?", "strait_get_run", {"run_id": DEAD_LETTER_RUN_ID}),
    Step("Run the Stripe invoice sync once now.", "strait_trigger_job", {"job_id": HEALTHY_JOB_ID}),
    Step("Yes, trigger it.", "confirm_action", confirm_previous),
)
