"""The table printed for people: every row of a result document, a runtime column where the
row was measured under a runtime, and the targets (bench/targets.py) next to the numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bench.benchmarks import FLOOD_BYTES
from bench.harness import MB, last_line
from bench.targets import Target

# --- the table -------------------------------------------------------------------------------


def render_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * width for width in widths]), *map(line, rows)])


def ms(value: Any) -> str:
    return f"{value:.1f} ms" if isinstance(value, int | float) else "-"


def mb_of_kb(kb: int) -> str:
    return f"{kb * 1024 / MB:.1f} MB"


def header_lines(document: dict[str, Any]) -> list[str]:
    machine = document["machine"]
    dock = machine.get("docker", {})
    title = f"CodySkool benchmark  {document['timestamp']}  commit {document['commit'] or '?'}"
    if document.get("dirty"):
        title += " + uncommitted changes"
    if document.get("quick"):
        title += "  (--quick)"
    load, cores = machine["load_average"][0], machine["cores"]
    skipped = document.get("runtimes_skipped") or {}
    busy = (
        f"NOTE: the machine was busy (load {load} on {cores} cores): noisy numbers"
        if load > cores / 2
        else ""
    )
    return [
        title,
        f"machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_mb']} MB memory, "
        f"{machine['os']}, kernel {machine['kernel']}",
        f"docker {dock.get('version', '?')}, runtimes {', '.join(document.get('runtimes') or ['?'])}, "
        f"cgroup v{dock.get('cgroup', '?')}, {dock.get('storage', '?')}; "
        f"load average {machine['load_average']} at start, {document.get('load_average_end')} at end",
        *([busy] if busy else []),
        *[f"NOTE: runtime {name} not measured: {last_line(why)}" for name, why in skipped.items()],
    ]


def marks(targets: list[Target], runtime: str, *keys: str) -> str:
    """PASS/FAIL and the target in short, for the targets of a row that were measured."""
    return ", ".join(
        f"{'PASS' if t.passed else 'FAIL'} {t.short}"
        for t in targets
        if t.runtime == runtime and t.key in keys and t.passed is not None
    )


def joined(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def rows_of(results: dict[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(runtime, row) for each runtime that has the row; ("-", row) for the bare interpreter's."""
    if key == "bare":
        if isinstance(results.get("bare"), dict):
            yield "-", results["bare"]
        return
    for runtime, rows in (results.get("by_runtime") or {}).items():
        if isinstance(rows.get(key), dict):
            yield runtime, rows[key]


def error_cell(row: dict[str, Any]) -> str:
    return f"ERROR {last_line(row['error'])}"


def pool_note(row: dict[str, Any], warm: bool) -> str:
    counts = row.get("pool_counts") or {}
    note = "the server reports no pool" if warm else ""
    if counts:
        note = f"{counts.get('warm_starts', 0)} warm / {counts.get('cold_starts', 0)} cold starts"
    return joined(note, f"{row['errors']} ERRORS" if row.get("errors") else "")


LATENCY_ROWS = (
    ("warm", "server, warm pool"),
    ("cold", "server, pool off"),
    ("bare", "bare python3 (reference)"),
    ("docker-run", "docker run --rm (reference)"),
)


def latency_row(key: str, label: str, runtime: str, row: dict[str, Any], targets: list[Target]) -> list[str]:
    if "error" in row:
        return [label, runtime, "-", "-", "-", "-", error_cell(row)]
    note = pool_note(row, key == "warm") if key in ("warm", "cold") else ""
    if key == "warm":
        note = joined(note, marks(targets, runtime, "warm_p50", "warm_vs_bare", "warm_vs_docker"))
    elif key == "bare":
        note = row["command"][0]
    cells = [ms(row.get(name)) for name in ("p50_ms", "p95_ms", "p99_ms")]
    return [label, runtime, str(row.get("n", 0)), *cells, note]


def latency_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    rows = [
        latency_row(key, label, runtime, row, targets)
        for key, label in LATENCY_ROWS
        for runtime, row in rows_of(results, key)
    ]
    if not rows:
        return []
    header = ["Python hello world, `run` to `exit`", "runtime", "n", "p50", "p95", "p99", "notes"]
    return [render_table(header, rows), ""]


def churn_row(runtime: str, churn: dict[str, Any]) -> list[str]:
    label = "container churn ceiling (reference)"
    if "error" in churn:
        return [label, runtime, "-", "-", "-", error_cell(churn)]
    note = f"{churn['parallel']} in parallel: {churn['containers']} containers in {churn['seconds']} s"
    if "before_per_second" in churn:
        before, after = churn["before_per_second"], churn["after_per_second"]
        note += f"; mean of {before}/s before the servers, {after}/s after"
    return [label, runtime, f"{churn['per_second']}/s", str(churn["errors"]), "-", note]


def level_row(runtime: str, count: str, level: dict[str, Any], targets: list[Target]) -> list[str]:
    note = f"{level['runs']} runs in {level['seconds']} s"
    if level.get("server_cpu_ms_per_run") is not None:
        note += f", server CPU {level['server_cpu_ms_per_run']} ms/run"
    counts = level.get("pool_counts") or {}
    if counts:
        note += f", {counts.get('warm_starts', 0)} warm / {counts.get('cold_starts', 0)} cold"
    if count == "8":
        note = joined(note, marks(targets, runtime, "runs_8_vs_churn"))
    label = f"{count} client{'' if count == '1' else 's'}, hello world in a loop"
    p50 = ms(level["latency"].get("p50_ms"))
    return [label, runtime, f"{level['runs_per_second']}/s", str(level["errors"]), p50, note]


def throughput_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    rows = [churn_row(runtime, churn) for runtime, churn in rows_of(results, "churn")]
    measured = list(rows_of(results, "throughput"))
    for runtime, levels in measured:
        if "error" in levels:
            rows.append(["hello world in a loop", runtime, "-", "-", "-", error_cell(levels)])
    counts = dict.fromkeys(count for _, levels in measured if "error" not in levels for count in levels)
    for count in counts:
        rows += [
            level_row(runtime, count, levels[count], targets)
            for runtime, levels in measured
            if count in levels and "error" not in levels
        ]
    if not rows:
        return []
    header = ["Runs per second (warm pool)", "runtime", "rate", "errors", "p50", "notes"]
    return [render_table(header, rows), ""]


def flood_row(runtime: str, flood: dict[str, Any], targets: list[Target]) -> list[str]:
    label = f"{FLOOD_BYTES // MB} MB print loop, warm"
    if "error" in flood:
        return [label, runtime, "-", "-", "-", error_cell(flood)]
    complete = "all" if flood["all_complete"] else "MISSING"
    seconds = f"{flood['seconds']} s" if flood["seconds"] is not None else "-"
    health = f"server answered /api/health in p95 {ms(flood.get('health_p95_ms'))} meanwhile"
    rate = f"{flood['mb_per_second']} MB/s"
    return [label, runtime, rate, seconds, complete, joined(health, marks(targets, runtime, "bytes_50mb"))]


def output_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    rows = [flood_row(runtime, flood, targets) for runtime, flood in rows_of(results, "bytes")]
    if not rows:
        return []
    header = ["Output, `run` to `exit`", "runtime", "rate", "time", "bytes", "notes"]
    return [render_table(header, rows), ""]


def plot_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    rows = []
    for runtime, plot in rows_of(results, "plot"):
        if "error" in plot:
            rows.append(["matplotlib plot, warm", runtime, "-", "-", error_cell(plot)])
            continue
        picture, end = plot["to_picture"], plot["to_exit"]
        errors = f"{plot['errors']} errors" if plot["errors"] else ""
        notes = joined(errors, marks(targets, runtime, "plot_p50"))
        to_picture = f"{ms(picture.get('p50_ms'))} / {ms(picture.get('p95_ms'))}"
        rows.append(["matplotlib plot, warm", runtime, to_picture, ms(end.get("p50_ms")), notes])
    for runtime, drawn in rows_of(results, "turtle"):
        if "error" in drawn:
            rows.append(["turtle", runtime, "-", "-", error_cell(drawn)])
            continue
        first, thousand = drawn["first_segment"], drawn["thousand_segments"]
        errors = f"{drawn['errors']} errors" if drawn["errors"] else ""
        notes = joined(errors, marks(targets, runtime, "turtle_first", "turtle_thousand"))
        first_cell = f"{ms(first.get('p50_ms'))} / {ms(first.get('p95_ms'))}"
        whole = ms(thousand.get("p50_ms"))
        rows.append(["turtle: first segment / 1,000 segments", runtime, first_cell, whole, notes])
    if not rows:
        return []
    return [render_table(["Pictures", "runtime", "first p50 / p95", "whole p50", "notes"], rows), ""]


def memory_rows(runtime: str, memory: dict[str, Any], targets: list[Target]) -> list[list[str]]:
    if "error" in memory:
        return [["-", runtime, "-", "-", error_cell(memory)]]
    return [
        ["no connections", runtime, mb_of_kb(memory["none_kb"]), "-", "after one run"],
        [
            f"{memory['idle_connections']} idle connections",
            runtime,
            mb_of_kb(memory["idle_kb"]),
            f"+{mb_of_kb(memory['idle_delta_kb'])}",
            marks(targets, runtime, "idle_memory"),
        ],
        [
            f"{memory['running_programs']} running programs",
            runtime,
            mb_of_kb(memory["running_kb"]),
            f"+{mb_of_kb(memory['running_delta_kb'])}",
            f"vs {mb_of_kb(memory['after_idle_closed_kb'])} once the idle ones closed; "
            f"all running after {memory['all_running_after_s']} s",
        ],
    ]


def memory_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    measured = rows_of(results, "memory")
    rows = [line for runtime, memory in measured for line in memory_rows(runtime, memory, targets)]
    if not rows:
        return []
    return [render_table(["Server resident memory (VmRSS)", "runtime", "RSS", "delta", "notes"], rows), ""]


def targets_section(targets: list[Target]) -> list[str]:
    def verdict(target: Target) -> str:
        return "-" if target.passed is None else ("PASS" if target.passed else "FAIL")

    rows = [[verdict(t), t.runtime, f"#{t.issue}", t.text, t.measured] for t in targets]
    return [render_table(["", "runtime", "issue", "Targets", "measured"], rows)]


def failures(results: dict[str, Any]) -> dict[str, str]:
    """The error of every row that could not run, by `name` or `name [runtime]`."""
    failed = {"bare": results["bare"]["error"]} if "error" in (results.get("bare") or {}) else {}
    for runtime, rows in (results.get("by_runtime") or {}).items():
        failed |= {f"{name} [{runtime}]": row["error"] for name, row in rows.items() if "error" in row}
    return failed


def report(document: dict[str, Any], summary: str = "") -> str:
    """The human-readable table of a result document; summary (the README's table) at the end."""
    results = document["results"]
    targets = [Target(**target) for target in document["targets"]]
    lines = [*header_lines(document), ""]
    for section in (latency_section, throughput_section, output_section, plot_section, memory_section):
        lines += section(results, targets)
    lines += targets_section(targets)
    failed = failures(results)
    if failed:
        lines += ["", "Could not run: " + "; ".join(f"{name}: {last_line(e)}" for name, e in failed.items())]
    if summary:
        lines += ["", "The README's table (bench/results/latest.md):", "", summary]
    lines += ["", "MB = 10^6 bytes. The reference rows were measured in the same run, on the same machine."]
    return "\n".join(lines)
