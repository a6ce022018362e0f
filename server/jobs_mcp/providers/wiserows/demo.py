"""WiseRows' part of ``jobs-mcp demo``: the jobs (failed and running among them), why the Webflow publish failed
(its log digest), and a best-effort cancel of a running job from that list through the gate."""

from __future__ import annotations

from jobs_mcp.demo import Step, confirm_previous
from jobs_mcp.providers.wiserows.seed import FAILED_JOB_ID, RUNNING_JOB_ID

STEPS = (
    Step("Which WiseRows jobs do we have?", "wiserows_list_jobs"),
    Step("Why did the Webflow publish fail?", "wiserows_get_job", {"job_id": FAILED_JOB_ID}),
    Step("Cancel the meta-description job that is running.", "wiserows_cancel_job", {"job_id": RUNNING_JOB_ID}),
    Step("Yes, cancel it.", "confirm_action", confirm_previous),
)
