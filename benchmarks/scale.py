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

import os
import shutil

from benchmarks import run


def _import_once(count: int) -> dict[str, object]:
    source = run.demo_file(count)
    target = run.WORK / f"scale-{count}"
    shutil.rmtree(target, ignore_errors=True)
    load_before = os.getloadavg()
    wall, rss, status = run.run_measured(
        run.shixin("import", "--quiet", str(source)), run.env_for(target)
    )
    cpu = run.last_cpu_seconds
    sizes = {p.name: p.stat().st_size for p in target.iterdir() if p.is_file()}
    result: dict[str, object] = {
        "entries": count,
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "seconds_per_million": round(wall / (count / 1_000_000), 1),
        "cpu_per_million": round(cpu / (count / 1_000_000), 1),
        "peak_rss_mib": round(rss),
        "exit_status": status,
        "file_mib": round(source.stat().st_size / 2**20),
        "store_mib": round(sum(v for k, v in sizes.items() if k.startswith("shixin")) / 2**20),
        "index_mib": round(sum(v for k, v in sizes.items() if k.startswith("index")) / 2**20),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    if status in (0, 1) and not run.data_dir(count).exists():
        target.rename(run.data_dir(count))  # later benchmarks at this size reuse it
    else:
        shutil.rmtree(target, ignore_errors=True)
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
        f"(target ≤ 1.2). Load average: {smaller['load_before']} at the start, "
        f"{larger['load_after']} at the end."
    )
    return {"smaller": smaller, "larger": larger, "ratio": round(ratio, 2)}
