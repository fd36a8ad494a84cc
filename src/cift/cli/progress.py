"""Progress lines for commands that work through named steps."""

from __future__ import annotations

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from .console import console


class Steps:
    """One Rich progress line per step of a long command (none when printing JSON)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("[bold]{task.description:<34}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Steps:
        self.bar.start()
        return self

    def __call__(self, name: str, fraction: float) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.bar.add_task(name, total=1.0)
        self.bar.update(self.tasks[name], completed=fraction)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()
