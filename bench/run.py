"""The CodySkool benchmark: how fast a run comes back, how many runs a second, how much memory,
under every Docker runtime the machine has (runc, and gVisor's runsc when it is installed).

One command: ``.venv/bin/python bench/run.py`` (or ``bench/run``), with ``--quick`` for a smoke
run of about a minute per runtime. It measures a bare ``python3`` once, then for each runtime the
reference rows (a plain ``docker run``, the container churn ceiling) and its own servers
(``python -m codyskool serve``, Docker backend, eventlet, ``CODYSKOOL_DOCKER_RUNTIME`` set), one
with the warm pool and one with ``CODYSKOOL_POOL_SIZES=off``, driven by real python-socketio
clients over websockets. It prints a table with the targets of issues 6 and 12 next to the
numbers and writes it as JSON (and the README's table as markdown) to bench/results/. A missed
target is reported, never a failure.

Every server it starts is stopped and every container it or its servers made is removed, also on
Ctrl-C, SIGTERM or an error. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    import socketio  # noqa: F401 - only to check that this is the project's venv
except ImportError:  # a message instead of a traceback
    sys.exit("bench: python-socketio is missing; use the project's venv: .venv/bin/python bench/run.py")

from bench.benchmarks import (
    bench_bytes,
    bench_latency,
    bench_memory,
    bench_plot,
    bench_throughput,
    bench_turtle,
)
from bench.harness import CLEANUP, IMAGE, ROOT, BenchServer, last_line, raise_interrupted, uninterrupted
from bench.machine import git, machine_info
from bench.readme_table import readme_table
from bench.references import bench_bare, bench_churn, bench_docker_run
from bench.report import failures, report
from bench.runtimes import Choice, choose, parse_names
from bench.settings import QUICK, Settings
from bench.targets import evaluate_targets
from codyskool.sandbox.docker_backend import image_has_this_runner
from codyskool.sandbox.engine import Engine, EngineError, NotFound

RESULTS = ROOT / "bench" / "results"
SCHEMA = 2  # 2: results.bare once, every other row under results.by_runtime.<runtime>
ONCE = ("bare",)  # on the machine, before anything else
REFERENCES = ("docker-run", "churn")  # for each runtime, before its servers run
ON_POOL_SERVER = ("warm", "memory", "throughput", "bytes", "plot", "turtle")
ON_NO_POOL_SERVER = ("cold",)
BENCHMARKS = (*ONCE, *REFERENCES, *ON_POOL_SERVER, *ON_NO_POOL_SERVER)


def guarded(
    name: str, results: dict[str, Any], action: Callable[[], dict[str, Any]], runtime: str = ""
) -> None:
    """Run one benchmark; its failure becomes its result and the others still run."""
    label = f"{name} [{runtime}]" if runtime else name
    print(f"bench: {label} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        results[name] = action()
    except Exception as error:  # noqa: BLE001 - reported in the table and the JSON
        traceback.print_exc()
        results[name] = {"error": f"{type(error).__name__}: {error}"[:2000]}
    print(f"bench: {label} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def server_benchmarks(settings: Settings) -> dict[str, Callable[[BenchServer], dict[str, Any]]]:
    return {
        "warm": lambda server: bench_latency(
            server, settings.latency_runs, settings.latency_warmup, settings
        ),
        "memory": lambda server: bench_memory(server, settings),
        "throughput": lambda server: bench_throughput(server, settings),
        "bytes": lambda server: bench_bytes(server, settings),
        "plot": lambda server: bench_plot(server, settings),
        "turtle": lambda server: bench_turtle(server, settings),
        "cold": lambda server: bench_latency(server, settings.cold_runs, settings.cold_warmup, settings),
    }


def start_server(name: str, runtime: str, env: dict[str, str]) -> BenchServer:
    """A server under runtime, told so explicitly; refused if its /api/health says another."""
    server = BenchServer(f"{runtime}-{name}", {**env, "CODYSKOOL_DOCKER_RUNTIME": runtime}, RESULTS / "logs")
    reported = server.health().get("runtime")
    if reported != runtime:
        server.stop()
        raise RuntimeError(f"asked for runtime {runtime}, the server reports {reported!r}")
    return server


def run_on_server(
    name: str, runtime: str, env: dict[str, str],
    wanted: list[str], settings: Settings, document: dict[str, Any],
) -> None:  # fmt: skip
    """Start a server, run the wanted benchmarks against it, stop it, note what it left behind."""
    results = document["results"]["by_runtime"][runtime]
    print(f"bench: starting the {name} server under {runtime} ...", file=sys.stderr, flush=True)
    try:
        server = start_server(name, runtime, env)
    except Exception as error:  # noqa: BLE001 - every benchmark that needed it says why it did not run
        for benchmark in wanted:
            results[benchmark] = {"error": f"the {runtime} {name} server: {error}"[:2000]}
        document["servers"][f"{runtime}-{name}"] = {"env": env, "error": str(error)[:2000]}
        return
    info: dict[str, Any] = {"env": server.env, "log": str(server.log_path.relative_to(ROOT))}
    document["servers"][server.name] = info
    try:
        info["pool_full_level"] = server.settle_pool()
        info["health"] = server.health()
        actions = server_benchmarks(settings)
        for benchmark in wanted:
            guarded(benchmark, results, lambda benchmark=benchmark: actions[benchmark](server), runtime)
        info["health_end"] = server.health()
    except Exception as error:  # noqa: BLE001 - the server went away: recorded, the run goes on
        info["error"] = f"{type(error).__name__}: {error}"[:2000]
    finally:
        info["containers_left_behind"] = server.stop()


def run_runtime(runtime: str, settings: Settings, wanted: list[str], document: dict[str, Any]) -> None:
    """Every wanted benchmark under one runtime: its reference rows, then its two servers."""
    results = document["results"]["by_runtime"].setdefault(runtime, {})
    references = {"docker-run": bench_docker_run, "churn": bench_churn}
    for name in REFERENCES:
        if name in wanted:
            guarded(name, results, lambda name=name: references[name](settings, runtime), runtime)
    pool_env = {"CODYSKOOL_POOL_SIZES": settings.pool_sizes} if settings.pool_sizes else {}
    on_pool = [name for name in ON_POOL_SERVER if name in wanted]
    if on_pool:
        run_on_server("pool", runtime, pool_env, on_pool, settings, document)
        if "churn" in wanted and "throughput" in on_pool:
            again: dict[str, Any] = {}
            guarded("churn", again, lambda: bench_churn(settings, runtime), f"{runtime}, again")
            results["churn"] = bracketed(results.get("churn", {}), again.get("churn", {}))
    on_no_pool = [name for name in ON_NO_POOL_SERVER if name in wanted]
    if on_no_pool:
        run_on_server("nopool", runtime, {"CODYSKOOL_POOL_SIZES": "off"}, on_no_pool, settings, document)


def bracketed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The churn ceiling measured before the servers and again after them, as their mean: on this
    VM it drifts by a fifth within minutes, and the 8-client row is a share of it."""
    if "per_second" not in before or "per_second" not in after:
        return before if "per_second" in before else after or before
    mean = round((before["per_second"] + after["per_second"]) / 2, 2)
    summed = {key: before[key] + after[key] for key in ("containers", "errors")}
    return {**before, **summed, "per_second": mean, "seconds": round(before["seconds"] + after["seconds"], 3),
            "before_per_second": before["per_second"], "after_per_second": after["per_second"]}


def new_document(settings: Settings, wanted: list[str], quick: bool, choice: Choice) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "quick": quick,
        "only": None if wanted == list(BENCHMARKS) else wanted,
        "runtimes": choice.measured,
        "runtimes_skipped": choice.skipped,
        "settings": asdict(settings),
        "machine": machine_info(),
        "servers": {},
        "results": {"by_runtime": {runtime: {} for runtime in choice.measured}},
    }


def run_all(settings: Settings, wanted: list[str], quick: bool, choice: Choice) -> dict[str, Any]:
    document = new_document(settings, wanted, quick, choice)
    if "bare" in wanted:
        guarded("bare", document["results"], lambda: bench_bare(settings))
    for runtime in choice.measured:
        run_runtime(runtime, settings, wanted, document)
    document["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
    document["targets"] = [asdict(target) for target in evaluate_targets(document["results"])]
    return document


def write_results(document: dict[str, Any], extra: Path | None) -> list[Path]:
    """bench/results/<timestamp>-<commit>.json and .md (the README's table), latest.json and
    latest.md, and --json PATH."""
    stamp = document["timestamp"].replace("-", "").replace(":", "")
    base = f"{stamp}-{document['commit'] or 'nogit'}"
    text, table = json.dumps(document, indent=2) + "\n", readme_table(document) + "\n"
    files = [(RESULTS / f"{base}.json", text), (RESULTS / "latest.json", text)]
    files += [(RESULTS / f"{base}.md", table), (RESULTS / "latest.md", table)]
    if extra is not None:
        files.append((extra.resolve(), text))
    for path, content in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return [path for path, _ in files]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="The CodySkool benchmark (see bench/README.md).",
        epilog=f"benchmarks, in the order they run: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer iterations: a smoke run of about a minute"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this benchmark; repeat it, or separate names with commas",
    )
    parser.add_argument(
        "--runtime",
        action="append",
        default=[],
        metavar="NAME",
        help="measure only this Docker runtime (runc, runsc); repeat it or separate names with commas "
        "(default: $CODYSKOOL_BENCH_RUNTIMES, else every registered runtime whose probe works)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the JSON to PATH")
    parser.add_argument("--runs", type=int, metavar="N", help="sequential runs of each latency row")
    parser.add_argument("--seconds", type=float, metavar="S", help="seconds of each concurrency level")
    parser.add_argument(
        "--pool-sizes",
        metavar="SPEC",
        help="CODYSKOOL_POOL_SIZES of the pool server, e.g. python=4 (default: the server's default)",
    )
    args = parser.parse_args(argv)
    only = {name.strip() for value in args.only for name in value.split(",") if name.strip()}
    unknown = sorted(only - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    args.wanted = [name for name in BENCHMARKS if not only or name in only]
    args.runtimes = parse_names(args.runtime)
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    settings = QUICK if args.quick else Settings()
    if args.runs:
        settings = replace(settings, latency_runs=args.runs, cold_runs=args.runs)
    if args.seconds:
        settings = replace(settings, loop_seconds=args.seconds)
    if args.pool_sizes:
        settings = replace(settings, pool_sizes=args.pool_sizes)
    return settings


def preflight(runtimes: list[str]) -> Choice:
    """Stop early, with a clear message, when the benchmark cannot run here at all; the runtimes
    it measures otherwise."""
    if shutil.which("docker") is None:
        sys.exit("bench: the docker command is missing")
    engine = Engine(timeout=10)
    try:
        engine.ping()
        if not image_has_this_runner(engine.inspect_image(IMAGE)):
            sys.exit(f"bench: {IMAGE} was built from another sandbox/runner/: run scripts/setup-docker.sh")
    except NotFound:
        sys.exit(f"bench: the sandbox image {IMAGE} is missing: run scripts/setup-docker.sh")
    except EngineError as error:
        sys.exit(f"bench: Docker is not reachable: {error}")
    finally:
        engine.close()
    return choose_runtimes(runtimes)


def choose_runtimes(runtimes: list[str]) -> Choice:
    """The runtimes to measure; those asked for by name must all work."""
    if os.environ.get("CODYSKOOL_DOCKER_RUNTIME"):
        print("bench: CODYSKOOL_DOCKER_RUNTIME is ignored here (each server is told its runtime); "
              "use --runtime to measure only one", file=sys.stderr)  # fmt: skip
    choice = choose(runtimes)
    for name, why in choice.skipped.items():
        print(f"bench: not measuring runtime {name}: {why}", file=sys.stderr)
    if runtimes and choice.skipped:
        sys.exit(f"bench: runtime {', '.join(choice.skipped)} cannot be measured")
    if not choice.measured:
        sys.exit("bench: no Docker runtime works here")
    print(f"bench: measuring runtime(s) {', '.join(choice.measured)}", file=sys.stderr)
    return choice


def main(argv: list[str] | None = None) -> int:
    """0 when every benchmark ran (whatever the targets say), 1 when one could not, 130 when stopped."""
    args = parse_args(argv)
    settings = settings_from(args)
    choice = preflight(args.runtimes)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_interrupted)
    document = None
    try:
        document = run_all(settings, args.wanted, args.quick, choice)
    except KeyboardInterrupt as interrupt:
        print(f"\nbench: interrupted ({str(interrupt) or 'Ctrl-C'}); cleaning up", file=sys.stderr)
    finally:
        with uninterrupted():
            removed = CLEANUP.run(interrupted=document is None)
    if removed:
        print(f"bench: removed {removed} container(s) left behind", file=sys.stderr)
    if document is None:
        return 130
    document["containers_removed_at_cleanup"] = removed
    paths = write_results(document, args.json)
    print()
    print(report(document, readme_table(document)))
    shown = [str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path) for path in paths]
    print("\nwritten: " + ", ".join(shown))
    failed = failures(document["results"])
    for name, error in failed.items():
        print(f"bench: {name} could not run: {last_line(error)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
