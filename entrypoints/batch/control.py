"""Steering a batch job from a terminal or a scheduler: signals and the progress bar.

The first SIGINT (Ctrl-C) or SIGTERM (a pod being stopped) asks the job to stop
after the batch in hand, which it checks between batches; a second one cancels at
once, which is still safe because each item changes in its own transaction.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopFlag:
    """Installed on the running loop; removed again by ``uninstall``."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._task = asyncio.current_task()
        self.signal: int | None = None

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            loop.remove_signal_handler(sig)

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, sig: int = signal.SIGINT) -> None:
        self.signal = self.signal or sig
        self._event.set()

    def _on_signal(self, sig: int) -> None:
        if self._event.is_set() and self._task is not None:
            self._task.cancel()
            return
        self.request(sig)
        print("stopping after this batch; press Ctrl-C again to abort now", file=sys.stderr)

    async def sleep(self, seconds: float) -> bool:
        """Sleep unless asked to stop; True when asked."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        return True


class Control:
    """``application.batch.BatchControl`` over a rich progress bar (or none)."""

    def __init__(self, stop: StopFlag, progress: Progress | None, label: str) -> None:
        self._stop = stop
        self._progress = progress
        self._task: TaskID | None = None
        self._label = label

    def begin(self, total: int | None) -> None:
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(self._label, total=total)

    def advance(self, items: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, items)

    @property
    def stop_requested(self) -> bool:
        return self._stop.requested


@contextmanager
def control(stop: StopFlag, label: str, show_progress: bool) -> Iterator[Control]:
    """A progress bar on stdout while the job runs, gone before its summary prints."""
    if not show_progress:
        yield Control(stop, None, label)
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(),
        transient=True,
    )
    with progress:
        yield Control(stop, progress, label)
