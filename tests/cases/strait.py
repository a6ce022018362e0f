"""Strait cases for the provider-parametrized suites."""

from cases import Cases, Follow
from jobs_mcp.providers.strait.seed import (
    CATALOG_JOB_ID,
    DEAD_LETTER_RUN_ID,
    DEPENDENCY_ON_CATALOG_ID,
    DEPENDENT_JOB_ID,
    DISABLED_JOB_ID,
    FAILING_JOB_ID,
    FLAKY_JOB_ID,
    HEALTHY_JOB_ID,
    HEALTHY_JOB_SLUG,
    MANUAL_JOB_ID,
    PAUSED_JOB_ID,
    QUEUED_RUN_ID,
    RUNNING_RUN_ID,
    UPSTREAM_RUN_ID,
    VERSIONED_JOB_ID,
    VERSIONED_JOB_VERSION_IDS,
)

MISSING = "00000000-0000-7000-8000-000000000000"

CASES = Cases(
    provider="strait",
    reads={
        "strait_wait_for_run": {"run_id": DEAD_LETTER_RUN_ID},
        "strait_list_jobs": {},
        "strait_get_job": {"job_id": FAILING_JOB_ID},
        "strait_list_job_versions": {"job_id": VERSIONED_JOB_ID},
        "strait_get_job_version": {"job_id": VERSIONED_JOB_ID, "version_id": VERSIONED_JOB_VERSION_IDS[0]},
        "strait_get_job_health": {"job_id": FAILING_JOB_ID},
        "strait_list_job_dependencies": {"job_id": DEPENDENT_JOB_ID},
        "strait_list_runs": {"job_id": FAILING_JOB_ID, "limit": 5},
        "strait_get_run": {"run_id": DEAD_LETTER_RUN_ID},
    },
    writes={
        "strait_create_job": {
            "name": "Test job",
            "slug": "test-job",
            "endpoint_url": "https://example.com/run",
        },
        "strait_create_jobs": {
            "jobs": [
                {"name": "Batch one", "slug": "batch-one", "endpoint_url": "https://example.com/one"},
                {"name": "Batch two", "slug": "batch-two", "endpoint_url": "https://example.com/two"},
            ]
        },
        "strait_update_job": {"job_id": HEALTHY_JOB_ID, "description": "changed by a test"},
        "strait_delete_job": {"job_id": DISABLED_JOB_ID},
        "strait_clone_job": {"job_id": HEALTHY_JOB_ID, "name": "Stripe copy", "slug": "stripe-copy"},
        "strait_trigger_job": {"job_id": HEALTHY_JOB_ID},
        "strait_trigger_jobs": {
            "job_id": MANUAL_JOB_ID,
            "items": [{"payload": {"user_id": "u1"}}, {"payload": {"user_id": "u2"}}],
        },
        "strait_add_job_dependency": {"job_id": FLAKY_JOB_ID, "depends_on_job_id": CATALOG_JOB_ID},
        "strait_remove_job_dependency": {"job_id": DEPENDENT_JOB_ID, "dependency_id": DEPENDENCY_ON_CATALOG_ID},
        "strait_cancel_run": {"run_id": QUEUED_RUN_ID},
        "strait_pause_job": {"job_id": HEALTHY_JOB_ID, "reason": "test"},
        "strait_resume_job": {"job_id": PAUSED_JOB_ID},
        "strait_enable_jobs": {"job_ids": [DISABLED_JOB_ID]},
        "strait_disable_jobs": {"job_ids": [HEALTHY_JOB_ID, FLAKY_JOB_ID]},
    },
    not_found={
        "strait_wait_for_run": {"run_id": MISSING},
        "strait_get_job": {"job_id": MISSING},
        "strait_get_run": {"run_id": MISSING},
        "strait_list_job_versions": {"job_id": MISSING},
        "strait_pause_job": {"job_id": MISSING},
        "strait_cancel_run": {"run_id": MISSING},
    },
    list_route=("GET", "/v1/jobs"),
    list_tool="strait_list_jobs",
    extra_reads=[
        ("strait_list_jobs", {"slug": HEALTHY_JOB_SLUG}),
        ("strait_list_runs", {"status": "failed", "limit": 3}),
        ("strait_get_job_health", {"job_id": HEALTHY_JOB_ID, "window": "1d"}),
        ("strait_get_run", {"run_id": DEAD_LETTER_RUN_ID, "newest": 2, "page_size": 3, "page_from": "newest"}),
    ],
    follow=Follow(
        tool="strait_wait_for_run",
        ended={"run_id": DEAD_LETTER_RUN_ID},
        ends={"run_id": RUNNING_RUN_ID},
        ends_as="completed",
        stays={"run_id": UPSTREAM_RUN_ID},
        route="/v1/runs/*",
        after=("strait_trigger_job",),
    ),
)
