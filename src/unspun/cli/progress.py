"""Progress bars on stderr for the commands that score or train on many texts (shown only on a
terminal)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from unspun.cli.options import stderr_console


class StageProgress:
    """A ``progress(stage, done, total)`` callback drawing one Rich bar per stage on stderr."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = stderr_console()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, Any] = {}
        self.current: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.current and self.current is not None:
            # A new stage means the previous one is over, even if it never reported its end.
            task = self.tasks[self.current]
            finished = self.progress.tasks[task].total
            self.progress.update(task, completed=finished or 0)
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total or None)
        self.current = stage
        self.progress.update(self.tasks[stage], completed=done, total=total or None)

    def __enter__(self) -> StageProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()


@contextmanager
def stage_bar(description: str) -> Iterator[Any]:
    """A ``progress(done, total)`` callback drawing one bar named ``description``."""
    with StageProgress() as progress:
        yield lambda done, total: progress(description, done, total)
