"""WiseRows cases for the provider-parametrized suites."""

from cases import Cases, Follow
from jobs_mcp.providers.wiserows.seed import FAILED_JOB_ID, PENDING_JOB_ID, RUNNING_FAILING_JOB_ID, RUNNING_JOB_ID

CASES = Cases(
    provider="wiserows",
    reads={
        "wiserows_wait_for_job": {"job_id": FAILED_JOB_ID},
        "wiserows_list_jobs": {},
        "wiserows_get_job": {"job_id": FAILED_JOB_ID, "page_size": 3},
    },
    writes={
        "wiserows_cancel_job": {"job_id": RUNNING_JOB_ID},
    },
    not_found={
        "wiserows_wait_for_job": {"job_id": "job_doesnotexist0"},
        "wiserows_get_job": {"job_id": "job_doesnotexist0"},
        "wiserows_cancel_job": {"job_id": "job_doesnotexist0"},
    },
    list_route=("GET", "/api/v1/jobs"),
    list_tool="wiserows_list_jobs",
    extra_reads=[
        ("wiserows_list_jobs", {"status": "failed", "category": "sync", "limit": 5}),
        ("wiserows_get_job", {"job_id": RUNNING_JOB_ID, "newest": 2}),
        ("wiserows_get_job", {"job_id": PENDING_JOB_ID}),
    ],
    streamed_logs=[("wiserows_get_job", {"job_id": FAILED_JOB_ID}, "/api/v1/jobs/*")],
    follow=Follow(
        tool="wiserows_wait_for_job",
        ended={"job_id": FAILED_JOB_ID},
        ends={"job_id": RUNNING_FAILING_JOB_ID},
        ends_as="failed",
        stays={"job_id": RUNNING_JOB_ID},
        route="/api/v1/jobs/*",
    ),
)
