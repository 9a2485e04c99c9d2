"""Output folders that are either finished or absent.

A run builds its folder under a hidden temporary name beside the target and renames it into
place at the very end, so Ctrl-C, ``kill -9`` or a full disk never leave a folder that looks
finished. Ctrl-C and ``kill`` (SIGTERM) also remove the hidden folder, which can hold gigabytes
of spill; only ``kill -9`` leaves it. An existing folder is replaced only with ``force``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from graphfraud.errors import OutputExistsError

__all__ = ["atomic_folder", "write_json", "write_text_atomic"]


@contextmanager
def atomic_folder(target: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` when the block ends without error.

    Raises
    ------
    OutputExistsError
        ``target`` exists and ``force`` is false.
    """
    target = Path(target)
    if target.exists() and not force:
        raise OutputExistsError(
            f"{target}: the output folder exists; choose another --out or add --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        with _terminate_as_exit():
            yield work
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(work, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


@contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``SystemExit(143)``, so that cleanup runs.

    Only in the main thread, and only where SIGTERM has its default action (a program that
    handles it itself keeps its handler). The exit status stays the shell's 128 + 15.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    received: list[int] = []

    def stop(signum: int, frame: object) -> None:
        received.append(signum)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except BaseException:
        if received:  # whatever the signal became on its way up (DuckDB: "Query interrupted")
            sys.stderr.write("graphfraud: stopped (SIGTERM); the partial output was removed\n")
            raise SystemExit(128 + received[0]) from None
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def write_json(path: Path, data: Any) -> None:
    """Write JSON deterministically: sorted keys where the data is a mapping, UTF-8, newline."""
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file through a temporary name and a rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
