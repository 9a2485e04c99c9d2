"""What the benchmarks share: the repository root, a child run measured, BENCHMARKS.md rows."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_child(args: list[str]) -> tuple[float, float, int]:
    """Run a command; return (wall seconds, peak RSS in GiB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / (1 << 20), os.waitstatus_to_exitcode(status)


def upsert_row(title: str, columns: list[str], cells: list[str], key_cells: int = 1) -> None:
    """Put ``cells`` in the table under ``## title`` of BENCHMARKS.md, replacing the row whose
    first ``key_cells`` cells are the same; the other tables are left as they are."""
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    header = (f"## {title}\n\n| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n")
    key = "| " + " | ".join(cells[:key_cells]) + " |"
    if header not in text:
        text = text.rstrip("\n") + "\n\n" + header
    head, _, tail = text.partition(header)
    lines = tail.split("\n")
    n = next((i for i, ln in enumerate(lines) if not ln.startswith("|")), len(lines))
    table = [ln for ln in lines[:n] if not ln.startswith(key)] + ["| " + " | ".join(cells) + " |"]
    rest = "\n".join(lines[n:]).strip("\n")
    path.write_text(head + header + "\n".join(table) + "\n" + ("\n" + rest + "\n" if rest else ""),
                    encoding="utf-8")
