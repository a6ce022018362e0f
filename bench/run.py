"""Run every benchmark once and rewrite the results table in bench/README.md.

Each figure is a ratio or a size measured in this one run, side by side with its baseline.
Usage: python bench/run.py
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import bench_digest  # noqa: E402
import cold_start  # noqa: E402
import sizes  # noqa: E402

START, END = "<!-- results:start -->", "<!-- results:end -->"


def rows() -> list[tuple[str, str, str, str]]:
    cold = cold_start.run()
    s = sizes.run()
    digest = {row["entries"]: row for row in bench_digest.run()}
    d10, d100 = digest[10_000], digest[100_000]
    ratio = cold["jobs_mcp_s"] / cold["hello_s"]
    best = cold["jobs_mcp_min_s"] / cold["hello_min_s"]
    return [
        (
            "cold start: spawn → initialize → tools/list, vs bare SDK hello-world (11 alternating runs)",
            f"median {ratio:.2f}x ({cold['jobs_mcp_s'] * 1e3:.0f} vs {cold['hello_s'] * 1e3:.0f} ms); "
            f"minimum {best:.2f}x ({cold['jobs_mcp_min_s'] * 1e3:.0f} vs {cold['hello_min_s'] * 1e3:.0f} ms)",
            "≤ 1.15x",
            "yes" if ratio <= 1.15 else "minimum only" if best <= 1.15 else "NO",
        ),
        (
            "tools/list tokens, Lytics read tools",
            f"{s['tools_list_read_tokens']:,.0f} (all {s['tool_count']:.0f} tools: {s['tools_list_all_tokens']:,.0f})",
            "small",
            "-",
        ),
        (
            "lytics_list_jobs text vs raw API JSON (seeded account)",
            f"{s['list_jobs_text_tokens'] / s['list_jobs_raw_tokens']:.0%} "
            f"({s['list_jobs_text_tokens']:,.0f} vs {s['list_jobs_raw_tokens']:,.0f} tokens)",
            "≤ 20%",
            "yes" if s["list_jobs_text_tokens"] <= 0.2 * s["list_jobs_raw_tokens"] else "NO",
        ),
        (
            f"digest of the Facebook export's log ({s['fb_log_entries']:,.0f} entries) vs its raw JSON",
            f"{s['fb_digest_tokens']:,.0f} vs {s['fb_raw_log_tokens']:,.0f} tokens "
            f"({s['fb_digest_tokens'] / s['fb_raw_log_tokens']:.2%})",
            "≤ 1,500 tokens",
            "yes" if s["fb_digest_tokens"] <= 1500 else "NO",
        ),
        (
            "digest of 10k synthetic entries: time, tokens",
            f"{d10['seconds'] * 1e3:.0f} ms, {d10['tokens']:,} tokens",
            "< 0.5 s, ≤ 1,500",
            "yes" if d10["seconds"] < 0.5 and d10["tokens"] <= 1500 else "NO",
        ),
        (
            "digest of 100k entries: time ratio to 10k (linear ≈ 10)",
            f"{d100['seconds'] / d10['seconds']:.1f}x ({d100['seconds'] * 1e3:.0f} ms)",
            "≈ 10x",
            "yes" if d100["seconds"] / d10["seconds"] < 13 else "NO",
        ),
        (
            "data_health_report on the seeded account: time, tokens",
            f"{s['health_seconds'] * 1e3:.0f} ms, {s['health_tokens']:,.0f} tokens",
            "≤ 1,500 tokens",
            "yes" if s["health_tokens"] <= 1500 else "NO",
        ),
        (
            "gate: propose (tool call) vs the bare request",
            f"{s['propose_s'] / s['bare_request_s']:.1f}x "
            f"({s['propose_s'] * 1e3:.1f} ms vs {s['bare_request_s'] * 1e3:.1f} ms)",
            "-",
            "-",
        ),
        (
            "gate: confirm (tool call) vs the bare request",
            f"{s['confirm_s'] / s['bare_request_s']:.1f}x ({s['confirm_s'] * 1e3:.1f} ms)",
            "-",
            "-",
        ),
    ]


def main() -> None:
    table = ["| measure | result | target | met |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows()]
    stamp = f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, Python {platform.python_version()}."
    block = "\n".join([START, stamp, "", *table, END])
    readme = HERE / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    readme.write_text(head + block + tail, encoding="utf-8")
    print(block)


if __name__ == "__main__":
    main()
