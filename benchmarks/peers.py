"""Import and name search beside the peers, side by side in one run (issue 16).

    python -m benchmarks.run peers --count 1000000
    python -m benchmarks.peers --count 1000000 --seconds 15 --rounds 2
    python -m benchmarks.peers --count 1000000 --only import   # or http, profile
    python -m benchmarks.peers --setup     # only the peers' venv and the wrk check

On the same demo file (``benchmarks/work/demo-N.jsonl``, seed 7), in one run:

- **Import**: ``shixin import --quiet`` into a fresh data directory beside the plain
  sqlite-utils load of the same file: ``sqlite-utils insert peers.db entries FILE --nl
  --alter`` (every line a row: the file's publish, correct, shield, delete and revoke
  lines alike, since sqlite-utils has no notion of events; ``--alter`` because lines in the
  national mirror's form carry extra keys), then ``create-index entries iname`` and an FTS5
  trigram index on ``iname`` (``enable-fts --fts5 --tokenize trigram --create-triggers``,
  the triggers keeping it in step as shixin's index is). Wall time and peak RSS of each
  (the sum and the maximum over the three sqlite-utils commands).
- **HTTP**, wrk ``-t1 -c64`` on loopback, cycling through 2,000 names sampled from the
  data, one server process each, started and stopped in turn: shixin's API and HTML
  results page (rate limits and access log off), Datasette 0.65 on the sqlite-utils file
  (immutable: read-only publishing, its fastest mode) through parametrised exact-name SQL
  (and, not a target, a partial-name search like ours: its trigram index from three
  characters, the table below that),
  its table API by default (suggested facets), with one facet, and without facets, and the
  bare Starlette endpoint (``benchmarks/bare_app.py``).
- **In process**, the CPU of one API and one HTML request through the whole ASGI app beside
  the search call alone, and a cProfile of the API's main thread: where the time goes.

Datasette and sqlite-utils run from their own venv, ``benchmarks/work/peers-venv``, with
the ``bench`` extra of ``pyproject.toml`` (see the comment there). Prints Markdown tables
for ``benchmarks/RESULTS.md`` and the load average at start and end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from urllib.parse import urlencode

from benchmarks import run as runner
from benchmarks.run import (
    ROOT,
    WORK,
    data_dir,
    demo_file,
    env_for,
    free_port,
    html_cpu_per_request,
    machine,
    run_measured,
    sample_names,
    server,
    shixin,
    wrk,
)

PEERS_VENV = WORK / "peers-venv"
PEERS_BIN = PEERS_VENV / "bin"
# The columns of an API item that the raw file has too: Datasette returns about as much.
COLUMNS = (
    "id, caseCode, iname, cardNum, courtName, areaName, partyTypeName, regDate, publishDate, "
    "validUntil, severity, gistId, gistUnit, duty, performance, performedPart, unperformPart, "
    "disruptTypeName, businessEntity"
)
PAGE = 20  # the API's default perPage
NAMES = 2000
# Datasette doing our kind of search (a name anywhere in the entry's name), for comparison.
PARTIAL = "Datasette SQL, partial name like ours (trigram index, LIKE)"


# --- Setup ------------------------------------------------------------------------------


def bench_requirements() -> list[str]:
    """The ``bench`` extra of pyproject.toml: the one place the peers' versions are set."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]["optional-dependencies"]["bench"]


def ensure_peers_venv() -> None:
    """Create or refresh ``benchmarks/work/peers-venv`` when the bench extra changed."""
    wanted = "\n".join(bench_requirements())
    stamp = PEERS_VENV / ".installed"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    pip = [str(PEERS_BIN / "pip"), "install", "--disable-pip-version-check", "--no-input", "-q"]
    subprocess.run([*pip, *bench_requirements()], check=True)
    stamp.write_text(wanted)


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: the HTTP benchmarks need it (Debian: apt-get install -y wrk)")


# --- Import -----------------------------------------------------------------------------


def import_shixin(source: Path, count: int) -> dict[str, object]:
    target = WORK / f"peers-import-{count}"
    shutil.rmtree(target, ignore_errors=True)
    wall, rss, status = run_measured(shixin("import", "--quiet", str(source)), env_for(target))
    result = {
        "seconds": round(wall, 1),
        "cpu_seconds": round(runner.last_cpu_seconds, 1),
        "peak_rss_mib": round(rss),
        "exit_status": status,
        "load_after": os.getloadavg()[0],
    }
    # Keep it as the HTTP benchmarks' data when there is none yet; else it is a copy.
    if status in (0, 1) and not data_dir(count).exists():
        target.rename(data_dir(count))
    else:
        shutil.rmtree(target, ignore_errors=True)
    return result


def sqlite_utils_steps(source: Path, db: Path) -> dict[str, list[str]]:
    tool = str(PEERS_BIN / "sqlite-utils")
    return {
        "insert --nl": [tool, "insert", str(db), "entries", str(source), "--nl", "--alter"],
        "create-index": [tool, "create-index", str(db), "entries", "iname"],
        "enable-fts trigram": [
            *(tool, "enable-fts", str(db), "entries", "iname"),
            *("--fts5", "--tokenize", "trigram", "--create-triggers"),
        ],
    }


def import_sqlite_utils(source: Path, db: Path) -> dict[str, object]:
    db.unlink(missing_ok=True)
    steps: dict[str, float] = {}
    peak = cpu = 0.0
    for label, cmd in sqlite_utils_steps(source, db).items():
        wall, rss, status = run_measured(cmd, dict(os.environ))
        if status != 0:
            raise RuntimeError(f"sqlite-utils failed: {' '.join(cmd)}")
        steps[label] = round(wall, 1)
        peak = max(peak, rss)
        cpu += runner.last_cpu_seconds
    rows = _scalar(db, "SELECT count(*) FROM entries")
    return {
        "seconds": round(sum(steps.values()), 1),
        "cpu_seconds": round(cpu, 1),
        "steps": steps,
        "peak_rss_mib": round(peak),
        "load_after": os.getloadavg()[0],
        "rows": rows,
        "db_mib": round(db.stat().st_size / 2**20),
    }


def _scalar(db: Path, sql: str) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def compare_imports(count: int, db: Path) -> dict[str, object]:
    source = demo_file(count)
    load_before = os.getloadavg()[0]
    ours = import_shixin(source, count)
    theirs = import_sqlite_utils(source, db)
    result = {
        "entries": count,
        "file_mib": round(source.stat().st_size / 2**20),
        "load_before": load_before,
        "shixin": ours,
        "sqlite_utils": theirs,
        "ratio": round(ours["seconds"] / theirs["seconds"], 2),  # type: ignore[operator]
        # On a shared machine CPU seconds vary less than wall time (see run_measured).
        "cpu_ratio": round(ours["cpu_seconds"] / theirs["cpu_seconds"], 2),  # type: ignore[operator]
    }
    print(f"\n### Import, {count:,} entries ({result['file_mib']} MiB)\n")
    print("| import | wall time | CPU (all processes) | peak RSS | load (1 min) at end |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| `shixin import --quiet` | {ours['seconds']} s | {ours['cpu_seconds']} s | "
        f"{ours['peak_rss_mib']} MiB | {ours['load_after']:.1f} |"
    )
    steps = ", ".join(f"{k} {v} s" for k, v in theirs["steps"].items())  # type: ignore[attr-defined]
    print(
        f"| sqlite-utils ({steps}; {theirs['rows']:,} rows, {theirs['db_mib']} MiB) | "
        f"{theirs['seconds']} s | {theirs['cpu_seconds']} s | {theirs['peak_rss_mib']} MiB | "
        f"{theirs['load_after']:.1f} |"
    )
    print(
        f"shixin / sqlite-utils: wall time **{result['ratio']}×**, CPU {result['cpu_ratio']}× "
        f"(target ≤ 1.0); load (1 min) before {load_before:.1f}"
    )
    return result


# --- HTTP -------------------------------------------------------------------------------


def query_files(count: int, names: list[str]) -> dict[str, Path]:
    """One file of request paths per endpoint, the same names in the same order."""
    sql = f"select {COLUMNS} from entries where iname = :name limit {PAGE}"
    # SQLite's trigram index finds substrings of three characters or more; a shorter one
    # (half of the names here have two characters) matches nothing there, so it is looked
    # for in the table itself: the names of the page's first 20 matches, as ours.
    partial_sql = (
        f"select {COLUMNS} from entries where rowid in ("
        "select rowid from (select rowid from entries_fts where length(:name) >= 3"
        f" and iname like '%' || :name || '%' limit {PAGE})"
        " union all "
        "select rowid from (select rowid from entries where length(:name) < 3"
        f" and iname like '%' || :name || '%' limit {PAGE})"
        f") limit {PAGE}"
    )
    table = "/peers/entries.json"
    paths = {
        "shixin API": lambda n: "/api/v1/entries?" + urlencode({"q": n}),
        "shixin HTML": lambda n: "/?" + urlencode({"q": n}),
        "Datasette SQL": lambda n: "/peers.json?" + urlencode({"sql": sql, "name": n}),
        # Not a target: the same partial-name search ours is (see partial_sql).
        PARTIAL: lambda n: "/peers.json?" + urlencode({"sql": partial_sql, "name": n}),
        "Datasette table, default": lambda n: table + "?" + urlencode({"iname": n}),
        "Datasette table, _facet=areaName": lambda n: (
            table + "?" + urlencode({"iname": n, "_facet": "areaName", "_nosuggest": 1})
        ),
        "Datasette table, no facets": lambda n: (
            table + "?" + urlencode({"iname": n, "_nofacet": 1, "_nosuggest": 1})
        ),
        "bare Starlette": lambda n: "/api/v1/entries?" + urlencode({"q": n}),
    }
    files = {}
    for label, path in paths.items():
        slug = "".join(c if c.isalnum() else "-" for c in label.lower())
        files[label] = WORK / f"peers-queries-{count}-{slug}.txt"
        files[label].write_text("\n".join(path(n) for n in names) + "\n")
    return files


def server_command(label: str, port: int, db: Path) -> tuple[list[str], str]:
    """The command that serves ``label`` on ``port``, and a path to poll until it is up."""
    if label.startswith("shixin"):
        return shixin("serve", "--port", str(port), "--no-access-log"), "/healthz"
    if label.startswith("Datasette"):
        cmd = [str(PEERS_BIN / "datasette"), "serve", "-i", str(db), "--port", str(port)]
        return cmd, "/-/versions.json"
    uvicorn = [sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--port", str(port)]
    return [*uvicorn, "--no-access-log", "--log-level", "warning"], "/api/v1/entries"


def serve_and_wrk(label: str, queries: Path, count: int, db: Path, seconds: int) -> dict:
    port = free_port()
    cmd, ready = server_command(label, port, db)
    # One client from one address: the per-client rate limits would answer with 429s.
    env = env_for(data_dir(count), SHIXIN_RATE_LIMIT_ENABLED="0", SHIXIN_ACCESS_LOG="0")
    with server(cmd, env, port, ready):
        return {"load": os.getloadavg()[0], **wrk(port, queries, seconds, threads=1)}


def compare_http(count: int, db: Path, seconds: int, rounds: int) -> list[dict[str, dict]]:
    """Every endpoint once per round; within a round they share the machine's load."""
    files = query_files(count, sample_names(count, NAMES, seed=2))
    runs = []
    for number in range(1, rounds + 1):
        run = {label: serve_and_wrk(label, q, count, db, seconds) for label, q in files.items()}
        print_http(number, run)
        runs.append(run)
    return runs


def ratios(run: dict[str, dict]) -> dict[str, float]:
    rps = {label: stats["requests_per_second"] for label, stats in run.items()}
    best = max(v for k, v in rps.items() if k.startswith("Datasette") and k != PARTIAL)
    return {
        "shixin API / Datasette best": round(rps["shixin API"] / best, 2),
        "shixin API / bare Starlette": round(rps["shixin API"] / rps["bare Starlette"], 3),
        "shixin HTML / shixin API": round(rps["shixin HTML"] / rps["shixin API"], 2),
    }


def print_http(number: int, run: dict[str, dict]) -> None:
    print(f"\n### HTTP, round {number} (wrk -t1 -c64, {NAMES:,} names)\n")
    print("| endpoint | requests/s | p50 | p99 | non-2xx | socket errors | load (1 min) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, s in run.items():
        # wrk gives up on a request after 2 s: those are counted here, not in the latencies.
        errors = str(s.get("socket_errors", "none")).removeprefix("Socket errors: ")
        print(
            f"| {label} | {s['requests_per_second']:,.0f} | {s.get('p50_ms')} ms | "
            f"{s.get('p99_ms')} ms | {s.get('non_2xx', 0):.0f} | {errors} | {s['load']:.1f} |"
        )
    print("\n" + "; ".join(f"{k}: **{v}**" for k, v in ratios(run).items()))


# --- Where the time goes, in process ------------------------------------------------------


def search_cpu_per_call(count: int, names: list[str]) -> float:
    """CPU milliseconds of ``ListService.search`` alone, the call the API makes per request."""
    from core.settings import load_settings
    from search_index.service import ListService

    os.environ.update(env_for(data_dir(count)))
    service = ListService(load_settings())
    for name in names[:200]:  # warm
        service.search({"q": name})
    start = time.process_time()
    for name in names:
        service.search({"q": name})
    service.close()
    return (time.process_time() - start) / len(names) * 1000


def profile_main_thread(count: int, paths: list[str], out: Path) -> str:
    """cProfile of the API requests' main thread (middleware, routing, JSON; the search
    runs in a worker thread cProfile does not see), top functions by own time."""
    profile = cProfile.Profile()
    profile.enable()
    html_cpu_per_request(count, paths, n=len(paths), rounds=1)
    profile.disable()
    profile.dump_stats(out)
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(15)
    return text.getvalue()


def where_time_goes(count: int) -> dict[str, object]:
    names = sample_names(count, 1000, seed=2)
    api = ["/api/v1/entries?" + urlencode({"q": n}) for n in names]
    html = ["/?" + urlencode({"q": n}) for n in names]
    result = {
        "api_cpu_ms": round(html_cpu_per_request(count, api), 3),
        "html_cpu_ms": round(html_cpu_per_request(count, html), 3),
        "search_cpu_ms": round(search_cpu_per_call(count, names), 3),
    }
    top = profile_main_thread(count, api, WORK / f"peers-api-{count}.prof")
    print("\n### In process: CPU per request (best of 5 rounds of 1,000)\n")
    print("| path | CPU per request |")
    print("| --- | --- |")
    print(f"| `GET /api/v1/entries?q=` through the ASGI app | {result['api_cpu_ms']} ms |")
    print(f"| `GET /?q=` through the ASGI app | {result['html_cpu_ms']} ms |")
    print(f"| `ListService.search` alone | {result['search_cpu_ms']} ms |")
    print("\ncProfile of the API requests' main thread, by own time:\n")
    print("\n".join(top.splitlines()[:40]))
    result["profile_top"] = top
    return result


# --- Together -----------------------------------------------------------------------------


PARTS = ("import", "http", "profile")


def bench_peers(
    count: int, seconds: int = 15, rounds: int = 2, parts: tuple[str, ...] = PARTS
) -> dict[str, object]:
    """``parts``: all by default; the HTTP part needs the import's sqlite-utils file."""
    ensure_peers_venv()
    require_wrk()
    db = WORK / f"peers-{count}" / "peers.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {"machine": machine(), "load_start": os.getloadavg()}
    print(f"Load average at start: {result['load_start']}")
    if "import" in parts:
        result["import"] = compare_imports(count, db)
    if "http" in parts:
        result["http"] = runs = compare_http(count, db, seconds, rounds)
        result["ratios"] = [ratios(run) for run in runs]
    if "profile" in parts:
        result["in_process"] = where_time_goes(count)
    result["load_end"] = os.getloadavg()
    print(f"\nLoad average at end: {result['load_end']}")
    out = WORK / f"results-peers-{count}-{int(time.time())}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=PARTS, action="append", help="this part (repeatable)")
    parser.add_argument("--setup", action="store_true", help="only the peers' venv and wrk")
    args = parser.parse_args()
    if args.setup:
        ensure_peers_venv()
        require_wrk()
        return
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}")
    bench_peers(args.count, args.seconds, args.rounds, tuple(args.only or PARTS))


if __name__ == "__main__":
    main()
