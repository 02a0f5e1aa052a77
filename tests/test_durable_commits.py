"""What we answer "accepted" or "removed" is on the disk by then, not only in the OS's cache.

A crash of our process loses nothing SQLite committed whatever its ``synchronous`` setting;
a power cut or an OS crash loses what was written but never synced. So the embedded store
and the embedded index commit with ``synchronous=FULL`` (core/db.py,
search_index/index/sqlite/connection.py). Power cannot be cut here, so the test watches the
system calls instead (strace): a real ingest, then a real revocation, each followed by a
marker written to standard output at the moment the caller would be answered, and every
write to a WAL file before a marker must have been synced (fdatasync) before that marker.

With ``synchronous=NORMAL`` the store's WAL was written on every commit and synced only at
checkpoints, long after the answer; the index's deletions were synced by its background
checkpointer, sometimes before the answer and sometimes not.

PostgreSQL is durable by its own defaults (``synchronous_commit=on``); its throwaway test
clusters turn that off for speed, so there is nothing of ours to watch there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import instant_days_ago

TESTS = Path(__file__).parent
ROOT = TESTS.parent

pytestmark = pytest.mark.skipif(
    shutil.which("strace") is None, reason="strace is not installed (.ci/run installs it)"
)

# The caller's view: an ingest (the API and `shixin import` answer once it returns), then a
# revocation, which returns once the index has dropped the entry and the store has recorded
# the removal as confirmed.
PROBE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from support import make_settings, person
    from search_index.service import ListService

    data = Path(sys.argv[1])
    service = ListService(make_settings(data, f"sqlite:///{data}/store.sqlite3"))
    service.ingest([(1, person("p1"))], source="probe")
    os.write(1, b"ACCEPTED\\n")
    revoke = {"op": "revoke", "id": "p1", "effectiveAt": sys.argv[2], "reason": "撤销"}
    service.ingest([(1, revoke)], source="probe")
    os.write(1, b"REMOVED\\n")
    assert service.index.present(["p1"]) == set()
    os._exit(0)  # no close: nothing may depend on a checkpoint at exit
    """
)

# One line of `strace -f -y`: "<pid> <call>(<fd></path>>, ..." (-y names each descriptor).
# A call another thread interrupts is split: "<pid> fdatasync(<fd></path>> <unfinished ...>",
# then "<pid> <... fdatasync resumed>) = 0": a sync counts once it has returned.
_CALL = re.compile(r"^(\d+)\s+(\w+)\(\d+<([^>]*)>")
_RESUMED = re.compile(r"^(\d+)\s+<\.\.\. (\w+) resumed>")
_MARKER = re.compile(r'^\d+\s+write\(1<[^>]*>, "(ACCEPTED|REMOVED)\\n"')
SYNCS = ("fdatasync", "fsync")
# Follow every thread (the index's checkpointer syncs from its own), name each descriptor.
STRACE = [
    "strace", "-f", "-qq", "-y", "-e", "signal=none",
    "-e", "trace=fsync,fdatasync,write,pwrite64,pwritev,pwritev2",
]  # fmt: skip


def _unsynced_at_each_marker(trace: str) -> dict[str, set[str]]:
    """For each marker, the WAL files written since a sync of theirs last returned."""
    dirty: set[str] = set()
    syncing: dict[str, str] = {}  # pid -> the WAL its unfinished sync is of
    found: dict[str, set[str]] = {}
    for line in trace.splitlines():
        if marker := _MARKER.match(line):
            found[marker[1]] = set(dirty)
        elif resumed := _RESUMED.match(line):
            if resumed[2] in SYNCS and resumed[1] in syncing:
                dirty.discard(syncing.pop(resumed[1]))
        elif (call := _CALL.match(line)) and call[3].endswith("-wal"):
            pid, name, wal = call[1], call[2], Path(call[3]).name
            if name in SYNCS:
                if line.rstrip().endswith("<unfinished ...>"):
                    syncing[pid] = wal
                else:
                    dirty.discard(wal)
            elif name.startswith("pwrite") or name == "write":
                dirty.add(wal)
    return found


def test_an_accepted_batch_and_a_confirmed_removal_are_synced_to_disk_first(
    tmp_path: Path,
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    trace = tmp_path / "trace.txt"
    data = tmp_path / "data"
    subprocess.run(
        [*STRACE, "-o", str(trace), sys.executable, str(probe), str(data), instant_days_ago(1)],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{TESTS}"},
    )
    text = trace.read_text(encoding="utf-8", errors="replace")
    # The trace saw both databases' WAL files written, or it proves nothing.
    assert "store.sqlite3-wal>" in text and "index.sqlite3-wal>" in text
    assert _unsynced_at_each_marker(text) == {"ACCEPTED": set(), "REMOVED": set()}
