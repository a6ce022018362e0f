"""OwlMetry cases for the provider-parametrized suites."""

from cases import Cases, Follow
from jobs_mcp.providers.owlmetry.seed import (
    ABORTED_RUN_ID,
    BACKFILL_RUN_ID,
    FAILED_MIDWAY_RUN_ID,
    PENDING_RUN_ID,
    PROJECT_MAC_ID,
    RUNNING_RUN_ID,
)

MISSING = "00000000-0000-4000-8000-000000000000"

CASES = Cases(
    provider="owlmetry",
    reads={
        "owlmetry_wait_for_run": {"run_id": FAILED_MIDWAY_RUN_ID},
        "owlmetry_list_job_runs": {},
        "owlmetry_get_job_run": {"run_id": FAILED_MIDWAY_RUN_ID},
    },
    writes={
        "owlmetry_trigger_job": {"job_type": "apple_ads_sync", "project_id": PROJECT_MAC_ID, "notify": True},
        "owlmetry_cancel_job_run": {"run_id": RUNNING_RUN_ID},
    },
    not_found={
        "owlmetry_wait_for_run": {"run_id": MISSING},
        "owlmetry_get_job_run": {"run_id": MISSING},
        "owlmetry_cancel_job_run": {"run_id": MISSING},
    },
    list_route=("GET", "/v1/teams/*/jobs"),
    list_tool="owlmetry_list_job_runs",
    extra_reads=[
        ("owlmetry_list_job_runs", {"job_type": "revenuecat_user_backfill", "status": "failed", "since": "30d"}),
        ("owlmetry_list_job_runs", {"limit": 3, "until": "1h"}),
        ("owlmetry_get_job_run", {"run_id": RUNNING_RUN_ID}),
        ("owlmetry_get_job_run", {"run_id": BACKFILL_RUN_ID}),
        ("owlmetry_get_job_run", {"run_id": PENDING_RUN_ID}),
        ("owlmetry_get_job_run", {"run_id": ABORTED_RUN_ID}),
    ],
    follow=Follow(
        tool="owlmetry_wait_for_run",
        ended={"run_id": FAILED_MIDWAY_RUN_ID},
        ends={"run_id": PENDING_RUN_ID},
        ends_as="completed",
        stays={"run_id": RUNNING_RUN_ID},
        route="/v1/jobs/*",
        after=("owlmetry_trigger_job",),
    ),
)
