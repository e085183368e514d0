"""``python -m bench [p1 p2 p3 p4 p4p p5 p6 p7]``: run benchmarks, print the table, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from bench.common import BenchResult, table, write_results

MODULES = {
    "p1": "bench.p1_turn_overhead",
    "p2": "bench.p2_start_api",
    "p3": "bench.p3_admin_list",
    "p4": "bench.p4_density",
    "p4p": "bench.p4_pool",
    "p5": "bench.p5_candidate_page",
    "p6": "bench.p6_voice_latency",
    "p7": "bench.p7_db_load",
}
ORDER = ["p3", "p2", "p1", "p4", "p4p", "p5", "p6", "p7"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "benches", nargs="*", metavar="BENCH", help=f"any of {' '.join(sorted(MODULES))}; default: all, in the order {' '.join(ORDER)}"
    )
    args = parser.parse_args(argv)
    unknown = [b for b in args.benches if b not in MODULES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {' '.join(ORDER)}")
    chosen = args.benches or ORDER
    results: list[BenchResult] = []
    for key in chosen:
        print(f"== {key} ({MODULES[key]}) ...", flush=True)
        t0 = time.perf_counter()
        try:
            result = importlib.import_module(MODULES[key]).run()
        except Exception as err:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            traceback.print_exc()
            result = BenchResult(key, error=f"{err.__class__.__name__}: {err}")
        result.seconds = time.perf_counter() - t0
        print(f"   {key} took {result.seconds:.0f} s", flush=True)
        results.append(result)
        write_results([result])
    print()
    print(table(results))
    path = write_results(results)
    print(f"\nwritten to {path}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
