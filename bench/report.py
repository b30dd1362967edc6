"""The targets of issue 6 checked against a result document, and the table printed for people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.benchmarks import FLOOD_BYTES
from bench.harness import MB, last_line


@dataclass
class Target:
    key: str
    text: str  # the target in words
    short: str  # the same, short enough for the notes of a row
    measured: str
    passed: bool | None  # None: not measured in this run


def dig(document: dict[str, Any], *path: str) -> Any:
    """document[path[0]][path[1]]..., or None where a step is missing."""
    value: Any = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def measure_targets(results: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """What this run measured for each target it can check, and whether the target is met."""
    found: dict[str, tuple[str, bool]] = {}
    warm = dig(results, "warm", "p50_ms")
    bare = dig(results, "bare", "p50_ms")
    docker_run = dig(results, "docker-run", "p50_ms")
    if warm is not None:
        found["warm_p50"] = (f"{warm} ms", warm < 30)
        if bare is not None:
            found["warm_vs_bare"] = (f"{warm} ms vs 1.5 x {bare} = {1.5 * bare:.2f} ms", warm < 1.5 * bare)
        if docker_run is not None and warm > 0:
            ratio = docker_run / warm
            found["warm_vs_docker"] = (f"{ratio:.1f}x ({docker_run} / {warm} ms)", ratio >= 10)

    levels = dig(results, "throughput")
    churn = dig(results, "churn", "per_second")
    eight = dig(results, "throughput", "8")
    if isinstance(eight, dict) and "runs_per_second" in eight and churn:
        share = eight["runs_per_second"] / churn
        measured = f"{eight['runs_per_second']}/s = {share:.0%} of {churn}/s, {eight['errors']} errors"
        found["runs_8_vs_churn"] = (measured, share >= 0.9 and eight["errors"] == 0)
    if isinstance(levels, dict) and levels and all("errors" in level for level in levels.values()):
        errors = {count: level["errors"] for count, level in levels.items()}
        measured = ", ".join(f"{n} with {count}" for count, n in errors.items())
        found["no_errors"] = (measured, not any(errors.values()))

    flood = dig(results, "bytes")
    if isinstance(flood, dict) and "mb_per_second" in flood:
        measured = f"{flood['mb_per_second']} MB/s" + ("" if flood["all_complete"] else ", bytes missing")
        found["bytes_50mb"] = (measured, flood["all_complete"] and flood["mb_per_second"] >= 20)

    memory = dig(results, "memory")
    if isinstance(memory, dict) and "idle_delta_kb" in memory:
        delta = memory["idle_delta_kb"] * 1024 / MB
        found["idle_memory"] = (f"+{delta:.1f} MB with {memory['idle_connections']}", delta < 50)
    return found


TARGETS = (  # key, the target in words, the same in short
    ("warm_p50", "warm hello p50 < 30 ms", "< 30 ms"),
    ("warm_vs_bare", "warm p50 < 1.5 x bare python3 p50", "< 1.5 x bare"),
    ("warm_vs_docker", "warm p50 at least 10x faster than docker run p50", ">= 10x docker run"),
    ("runs_8_vs_churn", "8 clients: runs/s >= 90% of the churn ceiling, 0 errors", ">= 90% of churn"),
    ("no_errors", "0 errors at every concurrency", "0 errors"),
    ("bytes_50mb", f"{FLOOD_BYTES // MB} MB of output at >= 20 MB/s, every byte arrived", ">= 20 MB/s"),
    ("idle_memory", "100 idle connections: < 50 MB more RSS than none", "< +50 MB"),
)


def evaluate_targets(results: dict[str, Any]) -> list[Target]:
    """The targets of issue 6, each with what this run measured and whether it is met."""
    found = measure_targets(results)
    targets = []
    for key, text, short in TARGETS:
        measured, passed = found.get(key, ("not measured", None))
        targets.append(Target(key, text, short, measured, passed))
    return targets


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


def marks(targets: list[Target], *keys: str) -> str:
    """PASS/FAIL and the target in short, for the targets of a row that were measured."""
    return ", ".join(
        f"{'PASS' if t.passed else 'FAIL'} {t.short}"
        for t in targets
        if t.key in keys and t.passed is not None
    )


def joined(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def header_lines(document: dict[str, Any]) -> list[str]:
    machine = document["machine"]
    dock = machine.get("docker", {})
    title = f"CodySkool benchmark  {document['timestamp']}  commit {document['commit'] or '?'}"
    if document.get("dirty"):
        title += " + uncommitted changes"
    if document.get("quick"):
        title += "  (--quick)"
    load, cores = machine["load_average"][0], machine["cores"]
    busy = (
        f"NOTE: the machine was busy (load {load} on {cores} cores): noisy numbers"
        if load > cores / 2
        else ""
    )
    return [
        title,
        f"machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_mb']} MB memory, "
        f"{machine['os']}, kernel {machine['kernel']}",
        f"docker {dock.get('version', '?')}, runtime {dock.get('runtime', '?')}, "
        f"cgroup v{dock.get('cgroup', '?')}, {dock.get('storage', '?')}; "
        f"load average {machine['load_average']} at start, {document.get('load_average_end')} at end",
        *([busy] if busy else []),
    ]


def latency_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    rows = []
    for key, label in (
        ("warm", "server, warm pool"),
        ("cold", "server, pool off"),
        ("bare", "bare python3 (reference)"),
        ("docker-run", "docker run --rm (reference)"),
    ):
        row = results.get(key)
        if row is None:
            continue
        if "error" in row:
            rows.append([label, "-", "-", "-", "-", f"ERROR {last_line(row['error'])}"])
            continue
        note = ""
        if key in ("warm", "cold"):
            counts = row.get("pool_counts") or {}
            if counts:
                note = f"{counts.get('warm_starts', 0)} warm / {counts.get('cold_starts', 0)} cold starts"
            elif key == "warm":
                note = "the server reports no pool"
            if row.get("errors"):
                note = joined(note, f"{row['errors']} ERRORS")
        if key == "warm":
            note = joined(note, marks(targets, "warm_p50", "warm_vs_bare", "warm_vs_docker"))
        elif key == "bare":
            note = row["command"][0]
        cells = [ms(row.get(name)) for name in ("p50_ms", "p95_ms", "p99_ms")]
        rows.append([label, str(row.get("n", 0)), *cells, note])
    if not rows:
        return []
    header = ["Python hello world, `run` to `exit`", "n", "p50", "p95", "p99", "notes"]
    return [render_table(header, rows), ""]


def throughput_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    rows = []
    churn = results.get("churn")
    if churn is not None:
        label = "container churn ceiling (reference)"
        if "error" in churn:
            rows.append([label, "-", "-", "-", f"ERROR {last_line(churn['error'])}"])
        else:
            note = (
                f"{churn['parallel']} in parallel: {churn['containers']} containers in {churn['seconds']} s"
            )
            rows.append([label, f"{churn['per_second']}/s", str(churn["errors"]), "-", note])
    levels = results.get("throughput")
    if isinstance(levels, dict) and "error" in levels:
        rows.append(["hello world in a loop", "-", "-", "-", f"ERROR {last_line(levels['error'])}"])
    elif isinstance(levels, dict):
        for count, level in levels.items():
            note = f"{level['runs']} runs in {level['seconds']} s"
            if level.get("server_cpu_ms_per_run") is not None:
                note += f", server CPU {level['server_cpu_ms_per_run']} ms/run"
            counts = level.get("pool_counts") or {}
            if counts:
                note += f", {counts.get('warm_starts', 0)} warm / {counts.get('cold_starts', 0)} cold"
            if count == "8":
                note = joined(note, marks(targets, "runs_8_vs_churn"))
            label = f"{count} client{'' if count == '1' else 's'}, hello world in a loop"
            p50 = ms(level["latency"].get("p50_ms"))
            rows.append([label, f"{level['runs_per_second']}/s", str(level["errors"]), p50, note])
    if not rows:
        return []
    return [render_table(["Runs per second (warm pool)", "rate", "errors", "p50", "notes"], rows), ""]


def output_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    flood = results.get("bytes")
    if flood is None:
        return []
    label = f"{FLOOD_BYTES // MB} MB print loop, warm"
    if "error" in flood:
        row = [label, "-", "-", "-", f"ERROR {last_line(flood['error'])}"]
    else:
        complete = "all" if flood["all_complete"] else "MISSING"
        seconds = f"{flood['seconds']} s" if flood["seconds"] is not None else "-"
        health = f"server answered /api/health in p95 {ms(flood.get('health_p95_ms'))} meanwhile"
        row = [
            label,
            f"{flood['mb_per_second']} MB/s",
            seconds,
            complete,
            joined(health, marks(targets, "bytes_50mb")),
        ]
    return [render_table(["Output, `run` to `exit`", "rate", "time", "bytes", "notes"], [row]), ""]


def memory_section(results: dict[str, Any], targets: list[Target]) -> list[str]:
    memory = results.get("memory")
    if memory is None:
        return []
    header = ["Server resident memory (VmRSS)", "RSS", "delta", "notes"]
    if "error" in memory:
        return [render_table(header, [["-", "-", "-", f"ERROR {last_line(memory['error'])}"]]), ""]
    rows = [
        ["no connections", mb_of_kb(memory["none_kb"]), "-", "after one run"],
        [
            f"{memory['idle_connections']} idle connections",
            mb_of_kb(memory["idle_kb"]),
            f"+{mb_of_kb(memory['idle_delta_kb'])}",
            marks(targets, "idle_memory"),
        ],
        [
            f"{memory['running_programs']} running programs",
            mb_of_kb(memory["running_kb"]),
            f"+{mb_of_kb(memory['running_delta_kb'])}",
            f"vs {mb_of_kb(memory['after_idle_closed_kb'])} once the idle ones closed; "
            f"all running after {memory['all_running_after_s']} s",
        ],
    ]
    return [render_table(header, rows), ""]


def targets_section(targets: list[Target]) -> list[str]:
    def verdict(target: Target) -> str:
        return "-" if target.passed is None else ("PASS" if target.passed else "FAIL")

    rows = [[verdict(target), target.text, target.measured] for target in targets]
    return [render_table(["", "Targets (issue 6)", "measured"], rows)]


def report(document: dict[str, Any]) -> str:
    """The human-readable table of a result document."""
    results = document["results"]
    targets = [Target(**target) for target in document["targets"]]
    lines = [*header_lines(document), ""]
    for section in (latency_section, throughput_section, output_section, memory_section):
        lines += section(results, targets)
    lines += targets_section(targets)
    failed = {name: row["error"] for name, row in results.items() if isinstance(row, dict) and "error" in row}
    if failed:
        lines += ["", "Could not run: " + "; ".join(f"{name}: {last_line(e)}" for name, e in failed.items())]
    lines += ["", "MB = 10^6 bytes. The reference rows were measured in the same run, on the same machine."]
    return "\n".join(lines)
