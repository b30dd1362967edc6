"""The README's table of numbers, in markdown: one row per measurement, one column per runtime.

The benchmark writes it to bench/results/latest.md (and prints it); to redo it from a JSON file:
``.venv/bin/python -m bench.readme_table bench/results/latest.json``. A missed target is marked in
its cell; the last column says what the targets are, per runtime where they differ.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.benchmarks import FLOOD_BYTES
from bench.harness import MB, last_line
from bench.targets import Target, dig, goals_for

Cell = Callable[[dict[str, Any], dict[str, Any]], str | None]  # (rows of a runtime, all results)
TITLES = {"runc": "runc", "runsc": "runsc (gVisor)"}


def num(value: float) -> str:
    return f"{value:.1f}"


def warm(rows: dict[str, Any], results: dict[str, Any]) -> str | None:
    row, bare = rows.get("warm"), dig(results, "bare", "p50_ms")
    if not row or "p50_ms" not in row:
        return None
    cell = " / ".join(num(row[key]) for key in ("p50_ms", "p95_ms", "p99_ms")) + " ms"
    return cell + (f" ({row['p50_ms'] / bare:.2f} x bare)" if bare else "")


def cold(rows: dict[str, Any], _results: dict[str, Any]) -> str | None:
    p50 = dig(rows, "cold", "p50_ms")
    return None if p50 is None else f"{num(p50)} ms"


def bare(_rows: dict[str, Any], results: dict[str, Any]) -> str | None:
    p50 = dig(results, "bare", "p50_ms")
    return None if p50 is None else f"{num(p50)} ms"


def docker_run(rows: dict[str, Any], _results: dict[str, Any]) -> str | None:
    p50, warm_p50 = dig(rows, "docker-run", "p50_ms"), dig(rows, "warm", "p50_ms")
    if p50 is None:
        return None
    return f"{num(p50)} ms" + (f" (warm {p50 / warm_p50:.1f} x faster)" if warm_p50 else "")


def churn(rows: dict[str, Any], _results: dict[str, Any]) -> str | None:
    rate = dig(rows, "churn", "per_second")
    if rate is None:
        return None
    before, after = dig(rows, "churn", "before_per_second"), dig(rows, "churn", "after_per_second")
    drift = f" (mean of {num(before)} before the servers and {num(after)} after)" if before and after else ""
    return f"{num(rate)} /s{drift}"


def throughput(rows: dict[str, Any], _results: dict[str, Any]) -> str | None:
    levels, ceiling = rows.get("throughput"), dig(rows, "churn", "per_second")
    if not isinstance(levels, dict) or "error" in levels or not levels:
        return None
    cell = " / ".join(num(level["runs_per_second"]) for level in levels.values()) + " /s"
    errors = sum(level["errors"] for level in levels.values())
    notes = [f"{errors} errors"] if errors else []
    if "8" in levels and ceiling:
        notes.append(f"8 clients: {levels['8']['runs_per_second'] / ceiling:.0%} of the ceiling")
    return cell + (f" ({', '.join(notes)})" if notes else "")


def output(rows: dict[str, Any], _results: dict[str, Any]) -> str | None:
    flood = rows.get("bytes")
    if not isinstance(flood, dict) or "mb_per_second" not in flood:
        return None
    health = num(flood["health_p95_ms"] or 0)
    cell = f"{num(flood['mb_per_second'])} MB/s, `/api/health` p95 {health} ms meanwhile"
    return cell + ("" if flood["all_complete"] else ", bytes missing")


def plot(rows: dict[str, Any], _results: dict[str, Any]) -> str | None:
    row = rows.get("plot")
    if not isinstance(row, dict) or "to_picture" not in row or "p50_ms" not in row["to_picture"]:
        return None
    cell = f"{num(row['to_picture']['p50_ms'])} / {num(row['to_exit']['p50_ms'])} ms"
    return cell + (f" ({row['errors']} errors)" if row["errors"] else "")


def turtle(rows: dict[str, Any], _results: dict[str, Any]) -> str | None:
    row = rows.get("turtle")
    if not isinstance(row, dict) or "p50_ms" not in row.get("first_segment", {}) \
            or "p50_ms" not in row.get("thousand_segments", {}):
        return None
    cell = f"{num(row['first_segment']['p50_ms'])} / {num(row['thousand_segments']['p50_ms'])} ms"
    return cell + (f" ({row['errors']} errors)" if row["errors"] else "")


def memory(rows: dict[str, Any], _results: dict[str, Any]) -> str | None:
    row = rows.get("memory")
    if not isinstance(row, dict) or "none_kb" not in row:
        return None
    parts = (row["none_kb"], row["idle_delta_kb"], row["running_delta_kb"])
    return " / ".join(f"{'+' if index else ''}{num(kb * 1024 / MB)} MB" for index, kb in enumerate(parts))


ROWS: tuple[tuple[str, str, Cell, tuple[str, ...]], ...] = (  # what, its benchmark, its cell, its targets
    ("Python hello world, `run` → `exit`, warm pool, p50 / p95 / p99", "warm", warm,
     ("warm_p50", "warm_vs_bare")),
    ("same, pool off (a cold container per run), p50", "cold", cold, ()),
    ("bare `python3 -c \"print('hello')\"`, no container, p50 (measured once)", "bare", bare, ()),
    ("`docker run --rm` of the sandbox image, p50", "docker-run", docker_run, ("warm_vs_docker",)),
    ("container churn ceiling (create + start + wait + remove, 8 in parallel)", "churn", churn, ()),
    ("runs per second with 1 / 8 / 32 clients", "throughput", throughput, ("runs_8_vs_churn", "no_errors")),
    (f"{FLOOD_BYTES // MB} MB printed by one program", "bytes", output, ("bytes_50mb",)),
    ("matplotlib line plot, `run` → its picture / → `exit`, warm pool, p50", "plot", plot, ("plot_p50",)),
    ("turtle, `run` → its first segment / → a 1,000-segment `tracer(0)` drawing, warm pool, p50", "turtle",
     turtle, ("turtle_first", "turtle_thousand")),
    ("server memory: idle / +100 idle connections / +32 running programs", "memory", memory,
     ("idle_memory",)),
)  # fmt: skip


def cell(name: str, fill: Cell, runtime: str, results: dict[str, Any], targets: list[Target]) -> str:
    """What was measured under runtime, and the targets it missed."""
    row = (results.get("bare") if name == "bare" else dig(results, "by_runtime", runtime, name)) or {}
    if "error" in row:
        return f"could not run: {last_line(row['error'])[:80]}"
    text = fill(dig(results, "by_runtime", runtime) or {}, results) or "—"
    keys = keys_of(name)
    missed = [t.short for t in targets if t.runtime == runtime and t.key in keys and t.passed is False]
    return text + (f" **missed: {', '.join(missed)}**" if missed else "")


def keys_of(name: str) -> tuple[str, ...]:
    return next(keys for _, benchmark, _, keys in ROWS if benchmark == name)


def target_text(keys: tuple[str, ...], runtimes: list[str]) -> str:
    """The targets of a row: once when every runtime has the same, else runtime by runtime."""
    texts = {rt: ", ".join(g.short for g in goals_for(rt) if g.key in keys) for rt in runtimes}
    if len(set(texts.values())) <= 1:
        return next(iter(texts.values()), "")
    return "; ".join(f"{rt}: {text}" for rt, text in texts.items() if text)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def readme_table(document: dict[str, Any]) -> str:
    """The README's table of a result document, with a line saying where it was measured."""
    results, runtimes = document["results"], list(document.get("runtimes") or [])
    targets = [Target(**target) for target in document.get("targets", [])]
    rows = []
    for what, name, fill, keys in ROWS:
        if name != "bare" and not any(name in (dig(results, "by_runtime", rt) or {}) for rt in runtimes):
            continue
        if name == "bare" and "bare" not in results:
            continue
        cells = [cell(name, fill, rt, results, targets) for rt in runtimes]
        if name == "bare":  # one row for every runtime: it runs without a container
            cells = cells[:1] + ["same"] * (len(cells) - 1)
        rows.append([what, *cells, target_text(keys, runtimes)])
    header = ["What", *(TITLES.get(rt, rt) for rt in runtimes), "Target"]
    return where_measured(document) + "\n\n" + markdown_table(header, rows)


def where_measured(document: dict[str, Any]) -> str:
    machine, dock = document["machine"], document["machine"].get("docker", {})
    commit = (document["commit"] or "?") + (" (dirty)" if document.get("dirty") else "")
    quick = ", --quick" if document.get("quick") else ""
    return (
        f"Measured at commit {commit}, {document['timestamp']}{quick}: {machine['cores']} cores, "
        f"Docker {dock.get('version', '?')}, cgroup v{dock.get('cgroup', '?')}, "
        f"load {machine['load_average'][0]} at the start."
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.readme_table RESULTS.json", file=sys.stderr)
        return 2
    print(readme_table(json.loads(Path(argv[0]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
