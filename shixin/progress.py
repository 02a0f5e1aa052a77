"""A long command's progress on standard error: a bar on a terminal, a line every few
seconds elsewhere (cron, CI, a pipe), nothing with ``--quiet``.

The domain counts into a ``core.progress.Tally``; a thread here reads it at its own rate
(``BAR_REFRESH`` on a terminal, ``PLAIN_EVERY`` otherwise) and draws. The work never waits
for the display, which is what keeps progress under 2 % of an import's time
(benchmarks/RESULTS.md). Standard output is never written to: it stays parseable.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from core.progress import Tally

BAR_REFRESH = 0.2  # seconds between redraws of the bar
PLAIN_EVERY = 5.0  # seconds between progress lines when standard error is no terminal


class _Display(Protocol):
    interval: float

    def tick(self) -> None: ...

    def close(self, finished: bool) -> None: ...


@contextmanager
def shown(what: str, unit: str, *, quiet: bool, stream: TextIO | None = None) -> Iterator[Tally]:
    """A Tally for the domain to count into while the block runs, shown as ``what`` in
    ``unit`` (行, 条). When the block ends normally, one summary line follows."""
    tally = Tally()
    if quiet:
        yield tally
        return
    out = stream or sys.stderr
    display: _Display = (
        _Bar(tally, what, unit, out) if out.isatty() else _Lines(tally, what, unit, out)
    )
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(display, stop), name="shixin-progress", daemon=True
    )
    watcher.start()
    finished = False
    try:
        yield tally
        finished = True
    finally:
        stop.set()
        watcher.join()
        display.close(finished)


def _watch(display: _Display, stop: threading.Event) -> None:
    while not stop.wait(display.interval):
        display.tick()


class _Lines:
    """A plain line every PLAIN_EVERY seconds; a run shorter than that prints none, and the
    summary line only follows progress lines (a short import's output stays as it was)."""

    def __init__(
        self,
        tally: Tally,
        what: str,
        unit: str,
        out: TextIO,
        *,
        every: float = PLAIN_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tally, self.what, self.unit, self.out = tally, what, unit, out
        self.interval = every
        self._clock = clock
        self._started = clock()
        self._printed = 0

    def tick(self) -> None:
        elapsed = self._clock() - self._started
        done, total = self.tally.done, self.tally.total
        rate = done / elapsed if elapsed > 0 else 0.0
        text = f"{self.what}：已完成 {done:,} {self.unit}"
        if total:
            text = f"{self.what}：已完成 {min(done, total):,} / {total:,} {self.unit}"
            text += f"（{min(100, done * 100 // total)}%）"
        text += f"，每秒 {rate:,.0f} {self.unit}"
        if total and rate > 0 and done < total:
            text += f"，约 {duration((total - done) / rate)}后完成"
        self._print(text)

    def close(self, finished: bool) -> None:
        if finished and self._printed:
            self._print(
                summary(self.what, self.unit, self.tally.done, self._clock() - self._started)
            )

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)
        self._printed += 1


class _Bar:
    """rich's progress bar: done / total, percentage, rate and time left; it gives way to
    the summary line when the work ends."""

    interval = BAR_REFRESH

    def __init__(self, tally: Tally, what: str, unit: str, out: TextIO) -> None:
        self.tally, self.what, self.unit = tally, what, unit
        self.console = Console(file=out, force_terminal=True)
        # Drawn from our thread alone (no auto refresh), and never taking over sys.stdout:
        # what a command prints must stay on standard output.
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            _RateColumn(unit),
            TextColumn("剩余"),
            TimeRemainingColumn(),
            console=self.console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._started = time.monotonic()
        self.task = self.bar.add_task(what, total=tally.total)
        self.bar.start()

    def tick(self) -> None:
        done, total = self.tally.done, self.tally.total
        self.bar.update(self.task, completed=min(done, total) if total else done, total=total)
        self.bar.refresh()

    def close(self, finished: bool) -> None:
        self.tick()
        self.bar.stop()
        if finished:
            text = summary(self.what, self.unit, self.tally.done, time.monotonic() - self._started)
            self.console.print(text, highlight=False)


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text(f"每秒 {speed:,.0f} {self.unit}" if speed else f"每秒 ? {self.unit}")


def summary(what: str, unit: str, done: int, seconds: float) -> str:
    rate = done / seconds if seconds > 0 else 0.0
    return f"{what}：{done:,} {unit}，用时 {duration(seconds)}，每秒 {rate:,.0f} {unit}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} 秒"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} 分 {rest} 秒"
    return f"{minutes // 60} 小时 {minutes % 60} 分"
