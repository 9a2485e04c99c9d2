"""What the command-line modules share: error handling, consoles, progress, common options."""

from __future__ import annotations

from pathlib import Path

import click

from graphfraud.errors import GraphFraudError, InputError

__all__ = ["BadInput", "run", "console", "out", "Progress", "audit_sealed", "DIR", "REDACT", "LANG",
           "JSON"]


class BadInput(click.ClickException):
    """Bad usage or unreadable input (contract §4: exit code 2)."""

    exit_code = 2


def run(call):
    """Call the library; turn the project's errors into click errors with the right exit code."""
    try:
        return call()
    except InputError as exc:
        raise BadInput(str(exc)) from exc
    except GraphFraudError as exc:  # exit code 1
        raise click.ClickException(str(exc)) from exc


def console():
    """Console for messages and progress, on standard error."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


class Progress:
    """A rich progress bar over the stages of a long job, with each stage's time on exit."""

    def __init__(self, console, title: str) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                            console=console, transient=True)
        self.title = title
        self.task = self.bar.add_task(title, total=None)

    def __enter__(self) -> "Progress":
        self.bar.__enter__()
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.bar.update(self.task, description=f"{self.title}: {stage}", completed=done,
                        total=total)

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)


def out():
    """Console for tables on standard output (wide when piped to a file)."""
    import sys

    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)




def audit_sealed(workspace: Path | None, action: str, target: str, details: dict) -> None:
    """Record a sealed (unmasked) output in the workspace's audit log."""
    from graphfraud.workspace import Workspace

    Workspace(workspace).audit(action, target=target, details=details)


DIR = click.argument("analysis_dir", metavar="DIR", type=click.Path(path_type=Path))
REDACT = click.option("--redact", type=click.Choice(["none", "masked"]), default="none",
                       show_default=True, help="Mask person and card ids in what is printed.")
LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                     help="Language of the texts.")
JSON = click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
