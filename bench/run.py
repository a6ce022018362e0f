"""Run every benchmark once and rewrite the results table (and the diagnosis table) in bench/README.md.

Each figure is a ratio or a size measured in this one run, side by side with its baseline.
Usage: python bench/run.py [--only NAME ...]   (re-measure those benchmarks' rows alone, keep the others)
Names: start, tokens, sizes, digest, gate, http, logs, waits, pending, soak, diagnose (``--help`` says what each is).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import bench_digest  # noqa: E402
import cold_start  # noqa: E402
import diagnose  # noqa: E402
import http_throughput  # noqa: E402
import log_stream  # noqa: E402
import pending_index  # noqa: E402
import sizes  # noqa: E402
import soak  # noqa: E402
import tool_tokens  # noqa: E402
import waits  # noqa: E402

Row = tuple[str, str, str, str]

START, END = "<!-- results:start -->", "<!-- results:end -->"


# First words of the rows http_rows() makes: `--only http` replaces those rows and keeps the rest of the table.
HTTP_ROWS = (
    "HTTP tool calls, 1 jobs-mcp replica, `list_pending_actions`",
    "HTTP tool calls, ",
    "peak RSS per server process",
)


def http_rows() -> list[tuple[str, str, str, str]]:
    clients, seconds = 16, 10.0
    http = http_throughput.run(clients, seconds)
    bare, one, two, own = http["bare"], http["one"], http["two"], http["own"]
    one_x, two_x = one["calls_s"] / bare["calls_s"], two["calls_s"] / bare["calls_s"]
    own_x = own["calls_s"] / bare["calls_s"]
    cores = os.cpu_count()
    return [
        (
            "HTTP tool calls, 1 jobs-mcp replica, `list_pending_actions` (no platform call: the server's own cost) "
            "vs bare SDK server (stateless, `hello`), same load",
            f"{own_x:.2f}x ({own['calls_s']:.0f} vs {bare['calls_s']:.0f} calls/s); "
            f"p50 {own['p50_ms']:.0f} vs {bare['p50_ms']:.0f} ms; p99 {own['p99_ms']:.0f} vs {bare['p99_ms']:.0f} ms",
            "≥ 0.8x",
            "yes" if own_x >= 0.8 else "NO",
        ),
        (
            f"HTTP tool calls, 1 jobs-mcp replica (stateless, sandbox `lytics_list_workflows`) vs bare SDK server "
            f"(stateless, `hello`): {clients} clients, {seconds:.0f} s each, {cores} cores shared with the driver",
            f"{one_x:.2f}x ({one['calls_s']:.0f} vs {bare['calls_s']:.0f} calls/s); "
            f"p50 {one['p50_ms']:.0f} vs {bare['p50_ms']:.0f} ms; p99 {one['p99_ms']:.0f} vs {bare['p99_ms']:.0f} ms",
            "≥ 0.8x",
            "yes" if one_x >= 0.8 else "NO",
        ),
        (
            "HTTP tool calls, 2 jobs-mcp replicas sharing Redis, calls round-robin, same load, vs bare SDK server",
            f"{two_x:.2f}x ({two['calls_s']:.0f} calls/s, {two['calls_s'] / one['calls_s']:.2f}x one replica); "
            f"p50 {two['p50_ms']:.0f} ms; p99 {two['p99_ms']:.0f} ms",
            "≥ 0.8x",
            "yes" if two_x >= 0.8 else "NO",
        ),
        (
            "peak RSS per server process under that load (VmHWM)",
            f"1 replica {one['rss_mib'][0]:.0f} MiB; 2 replicas {', '.join(f'{m:.0f}' for m in two['rss_mib'])} MiB "
            f"(+ redis {two['redis_rss_mib']:.0f} MiB); bare SDK {bare['rss_mib'][0]:.0f} MiB",
            "-",
            "-",
        ),
    ]


# The last revision that read a log whole before digesting it: the "before streaming" side of the log rows.
BEFORE_STREAMING = "d948673"
LOG_ROWS = ("log digest tool call", "server peak RSS during the log digest")
LAYOUT_ENTRIES = 1_000_000  # entries of the log measured once per layout (compact, ", ", indented, ...)


def log_rows() -> list[tuple[str, str, str, str]]:
    by_size = {row["entries"]: row for row in log_stream.run([10_000, 100_000, 1_000_000], BEFORE_STREAMING)}
    small, large = by_size[10_000], by_size[1_000_000]

    def vs_bare(row: dict[str, Any]) -> float:
        return float(row["streaming"]["seconds"] / row["bare"]["seconds"])

    def mib(row: dict[str, Any], side: str) -> float:
        return float(row[side]["rss_kb"] / 1024)

    faster = small["streaming"]["seconds"] / small["before"]["seconds"]
    flat = mib(large, "streaming") / mib(by_size[100_000], "streaming")
    rss = " / ".join(f"{mib(r, 'streaming'):.0f}" for r in by_size.values())
    before_rss = " / ".join(f"{mib(r, 'before'):,.0f}" for r in by_size.values())
    rows = [
        (
            f"log digest tool call (`lytics_get_job_logs`, stdio), {n:,} entries ({r['mb']:.0f} MB) vs a bare httpx "
            "GET + json.loads of the same body",
            f"{vs_bare(r):.2f}x ({r['streaming']['seconds']:.2f} vs {r['bare']['seconds']:.2f} s); before streaming "
            f"{r['before']['seconds']:.2f} s",
            "≤ 1.5x" if n == 1_000_000 else "-",
            ("yes" if vs_bare(r) <= 1.5 else "NO") if n == 1_000_000 else "-",
        )
        for n, r in by_size.items()
    ]
    rows.append(
        (
            f"log digest tool call, 10,000 entries, vs the server before streaming ({BEFORE_STREAMING})",
            f"{faster:.2f}x ({small['streaming']['seconds']:.2f} vs {small['before']['seconds']:.2f} s)",
            "≤ 1.0x",
            "yes" if faster <= 1.0 else "NO",
        )
    )
    for layout in [name for name in log_stream.LAYOUTS if name != "mixed"]:
        (r,) = log_stream.run([LAYOUT_ENTRIES], None, layout)
        rows.append(
            (
                f"log digest tool call, {LAYOUT_ENTRIES:,} entries laid out as {layout} ({r['mb']:.0f} MB) vs a bare "
                "httpx GET + json.loads of the same body; server peak RSS",
                f"{vs_bare(r):.2f}x ({r['streaming']['seconds']:.2f} vs {r['bare']['seconds']:.2f} s); "
                f"{mib(r, 'streaming'):.0f} MiB",
                "≤ 1.2x",
                "yes" if vs_bare(r) <= 1.2 else "NO",
            )
        )
    rows.append(
        (
            "server peak RSS during the log digest (VmHWM), 10k / 100k / 1M entries",
            f"{rss} MiB (1M is {flat:.2f}x 100k); before streaming {before_rss} MiB",
            "≤ 250 MB at 1M; 1M ≤ 1.5x 100k",
            "yes" if mib(large, "streaming") * 1.048576 <= 250 and flat <= 1.5 else "NO",
        )
    )
    return rows


def tool_rows() -> list[tuple[str, str, str, str]]:
    """What a model sees of the tools on every turn (name, description, input schema), per provider and all."""
    out = []
    for label, count, total, per in tool_tokens.table():
        budget = per <= 120 and (label != "lytics" or total <= 2500)
        out.append(
            (
                f"tool tokens a model sees, --providers {label} ({count} tools incl. the shared ones)",
                f"{total:,} ({per} per tool)",
                "≤ 120 per tool" + (", ≤ 2,500 in all" if label == "lytics" else ""),
                "yes" if budget else "NO",
            )
        )
    return out


WAIT_ROWS = ("wait: ",)


def wait_rows() -> list[tuple[str, str, str, str]]:
    """Following a run: the platform requests a wait makes, and the tokens it saves against polling the get tool."""
    out = []
    for row in waits.run():
        out.append(
            (
                f"wait: {row['tool']}, platform requests per minute following a run (requests per call)",
                f"{row['requests_per_min']:.1f} ({row['requests_per_call']:.1f})",
                "≤ 20 a minute",
                "yes" if row["requests_per_min"] <= 20 else "NO",
            )
        )
        out.append(
            (
                f"wait: tokens to learn how a run ended, {row['tool']} vs {waits.GET[row['tool']]} every "
                f"{waits.POLL_EVERY_S:g} s",
                f"{row['wait_tokens'] / row['poll_tokens']:.0%} ({row['wait_tokens']:,} in {row['wait_calls']} "
                f"calls vs {row['poll_tokens']:,} in {row['poll_calls']})",
                "< 100%",
                "yes" if row["wait_tokens"] < row["poll_tokens"] else "NO",
            )
        )
    return out


def start_rows() -> list[Row]:
    cold = cold_start.run()
    out = []
    for label, key in (("Lytics alone", "jobs_mcp"), ("--providers all (five platforms)", "all")):
        ratio, best = cold[f"{key}_s"] / cold["hello_s"], cold[f"{key}_min_s"] / cold["hello_min_s"]
        out.append(
            (
                f"cold start, {label}: spawn → initialize → tools/list, vs bare SDK hello-world (11 alternating runs)",
                f"median {ratio:.2f}x ({cold[f'{key}_s'] * 1e3:.0f} vs {cold['hello_s'] * 1e3:.0f} ms); "
                f"minimum {best:.2f}x ({cold[f'{key}_min_s'] * 1e3:.0f} vs {cold['hello_min_s'] * 1e3:.0f} ms)",
                "≤ 1.15x",
                "yes" if ratio <= 1.15 else "minimum only" if best <= 1.15 else "NO",
            )
        )
    return out


def size_rows() -> list[Row]:
    s = sizes.run()
    return [
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


def digest_rows() -> list[Row]:
    digest = {row["entries"]: row for row in bench_digest.run()}
    d10, d100 = digest[10_000], digest[100_000]
    return [
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
    ]


def pending_rows() -> list[Row]:
    out = []
    for backend, r in pending_index.run().items():
        grows = r["mine_10000"] / r["mine_10"]
        out.append(
            (
                f"pending list of one person ({pending_index.MINE} own proposals), {backend}: with 10,000 other "
                "users' proposals pending vs with 10",
                f"{grows:.2f}x ({r['mine_10000']:.2f} vs {r['mine_10']:.2f} ms); reading everyone's at 10,000, as "
                f"before the per-principal index: {r['everyone_10000']:.0f} ms",
                "≤ 3x (not the 1,000x of 10,000 vs 10)",
                "yes" if grows <= 3 else "NO",
            )
        )
    return out


def soak_rows() -> list[Row]:
    r = soak.run()
    peaks = ", ".join(f"{m:.0f}" for m in r["peak_rss_mib"])
    return [
        (
            f"soak: 2 replicas with HTTP sessions on one Redis, {r['sessions']} sessions for {r['minutes']:g} min "
            "(a read, a proposal, the pending list, in a loop)",
            f"{r['calls']:,} calls, {r['errors']} failed, {r['calls_s']:.0f} calls/s, p50 {r['p50_ms']:.0f} ms, p99 "
            f"{r['p99_ms']:.0f} ms; peak RSS {peaks} MiB (Redis {r['redis_rss_mib']:.0f} MiB); {r['redis_keys']:,} "
            "Redis keys at the end",
            "0 failed",
            "yes" if r["errors"] == 0 else "NO",
        ),
        (
            f"memory per idle HTTP session ({soak.IDLE_SESSIONS} opened and left on one replica)",
            f"{r['kib_per_idle_session']:.0f} KiB",
            "-",
            "-",
        ),
    ]


def write_diagnosis() -> list[Row]:
    """The diagnosis table has a block of its own in the README (``diagnose.py --write``); no rows here."""
    diagnose.main(["--write"])
    return []


# NAME: (what it measures, the first words of the rows it makes, what measures them), in the default run's order.
# Every benchmark is in the default run; `--only NAME` re-measures its rows and keeps the others as they are.
GROUPS: dict[str, tuple[str, tuple[str, ...], Callable[[], list[Row]]]] = {
    "start": ("cold start over stdio, Lytics alone and all platforms", ("cold start",), start_rows),
    "tokens": ("tool tokens a model sees, per platform", ("tool tokens",), tool_rows),
    "sizes": (
        "list and digest tokens against raw JSON, the health report, the gate's propose and confirm",
        ("lytics_list_jobs text", "digest of the Facebook", "data_health_report", "gate: "),
        size_rows,
    ),
    "digest": ("digest time and tokens on 10k and 100k entries", ("digest of 10k", "digest of 100k"), digest_rows),
    "http": ("tool calls over streamable HTTP, 1 and 2 replicas (about a minute)", HTTP_ROWS, http_rows),
    "logs": ("log digest tool calls up to 1M entries (the longest: tens of minutes)", LOG_ROWS, log_rows),
    "waits": ("wait tools: platform requests and tokens", WAIT_ROWS, wait_rows),
    "pending": ("a person's pending list with 10 and 10,000 other users' proposals", ("pending list",), pending_rows),
    "soak": (
        "2 replicas on Redis under sessions for 2 minutes, memory per idle session",
        ("soak:", "memory per idle"),
        soak_rows,
    ),
    "diagnose": ("whether digests diagnose planted causes (its own table)", (), write_diagnosis),
}


def _current_rows(text: str) -> list[str]:
    """The data rows of the results table now in the README."""
    block = text.partition(START)[2].partition(END)[0]
    return [line for line in block.splitlines() if line.startswith("| ") and not line.startswith("| measure |")]


def main() -> None:
    names = "\n".join(f"  {name}: {about}" for name, (about, _, _) in GROUPS.items())
    parser = argparse.ArgumentParser(
        description="Run every benchmark and rewrite the README's results table.",
        epilog=f"benchmarks (all run by default, in this order):\n{names}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", nargs="+", choices=list(GROUPS), metavar="NAME", help="re-measure these; keep the other rows"
    )
    args = parser.parse_args()
    chosen = args.only or list(GROUPS)
    measured = [row for name in chosen for row in GROUPS[name][2]()]
    readme = HERE / "README.md"
    text = readme.read_text(encoding="utf-8")  # read after the runs: diagnose writes its own block meanwhile
    table = ["| measure | result | target | met |", "|---|---|---|---|"]
    if args.only:
        starts = tuple(start for name in chosen for start in GROUPS[name][1])
        table += [row for row in _current_rows(text) if not (starts and row.removeprefix("| ").startswith(starts))]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in measured]
    stamp = (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()} ({os.cpu_count()} cores, shared with the "
        f"load drivers), Python {platform.python_version()}."
    )
    block = "\n".join([START, stamp, "", *table, END])
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    readme.write_text(head + block + tail, encoding="utf-8")
    print(block)


if __name__ == "__main__":
    main()
