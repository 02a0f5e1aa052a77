"""Does the import keep its pace as the list grows? (issue 16: the 10,000,000-entry run)

    python -m benchmarks.run scale --count 10000000

Imports the demo file of ``count // 10`` entries, then the one of ``count`` entries (seed 7,
generated once under ``benchmarks/work/``), each with ``shixin import --quiet`` into a fresh
data directory, one after the other in one run. Reports wall and CPU time per million
entries, peak RSS and the sizes, and the ratio of the larger run's time per million to the
smaller's (target: within 1.2). The data directories are deleted afterwards unless they are
the benchmarks' ``data-N`` (kept when it did not exist yet, as ``bench_import`` does).
"""

from __future__ import annotations

import shutil

from benchmarks import run


def _import_once(count: int) -> dict[str, object]:
    target = run.WORK / f"scale-{count}"
    shutil.rmtree(target, ignore_errors=True)
    result = run.measured_import(count, run.demo_file(count), target)
    shutil.rmtree(target, ignore_errors=True)  # still there when it did not become data-N
    millions = count / 1_000_000
    result["seconds_per_million"] = round(float(result["seconds"]) / millions, 1)  # type: ignore[arg-type]
    result["cpu_per_million"] = round(float(result["cpu_seconds"]) / millions, 1)  # type: ignore[arg-type]
    return result


def bench_scale(count: int) -> dict[str, object]:
    smaller, larger = _import_once(count // 10), _import_once(count)
    ratio = float(larger["seconds_per_million"]) / float(smaller["seconds_per_million"])  # type: ignore[arg-type]
    print("| entries | wall | CPU | wall per million | CPU per million | peak RSS | store, index |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in (smaller, larger):
        print(
            f"| {r['entries']:,} | {r['seconds']} s | {r['cpu_seconds']} s | "
            f"{r['seconds_per_million']} s | {r['cpu_per_million']} s | {r['peak_rss_mib']} MiB | "
            f"{r['store_mib']} MiB, {r['index_mib']} MiB |"
        )
    print(
        f"Time per million, {larger['entries']:,} against {smaller['entries']:,}: {ratio:.2f}× "
        f"(target ≤ 1.2). Load average: {_load(smaller['load_before'])} at the start, "
        f"{_load(larger['load_after'])} at the end."
    )
    return {"smaller": smaller, "larger": larger, "ratio": round(ratio, 2)}


def _load(average: object) -> str:
    return ", ".join(f"{x:.2f}" for x in average)  # type: ignore[attr-defined]
