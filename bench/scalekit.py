"""Measure a benchmark child: per-stage wall time and peak RSS of its whole process tree.

The child marks its stages in a side file (:class:`StageMarks`), one line each:
``STAGE <name> <unix time>`` as a stage starts and ``END <unix time>`` when its work is done.
The parent (:func:`measure`) samples the resident memory of the child and of all its
descendants from ``/proc`` every 0.1 s (Spark starts a JVM as a child of the Python process),
kills the tree when it passes a memory cap or a time limit, and cuts the samples into the stage
windows: a stage's peak RSS is the highest sample within it.

Used by ``bench_scale.py`` (parent) and the ``run_*.py`` children.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

GIB = 1 << 30
_PAGE = os.sysconf("SC_PAGE_SIZE")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")

# ---------------------------------------------------------------- the child's side


class StageMarks:
    """The child's stage marks: ``STAGE <name> <unix time>`` lines, then ``END <unix time>``.

    A stage is written only when it changes, so a callback may report the same stage many
    times (``detect: card_burst``, ``detect: co_visit`` ... collapsed into ``detect``).
    """

    def __init__(self, path: str | Path) -> None:
        self._fh = open(path, "a", encoding="utf-8")
        self.current: str | None = None

    def stage(self, name: str) -> None:
        """Mark the start of stage ``name`` (nothing when it is already the current one)."""
        if name != self.current:
            self.current = name
            self._write(f"STAGE {name} {time.time():.3f}")

    def end(self) -> None:
        """Mark the end of the measured work."""
        self._write(f"END {time.time():.3f}")
        self._fh.close()

    def _write(self, line: str) -> None:
        self._fh.write(line + "\n")
        self._fh.flush()


def child_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with the two options every child takes: ``--marks``, ``--result``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--marks", type=Path, required=True, help="stage marks file")
    parser.add_argument("--result", type=Path, required=True, help="JSON file of the run's figures")
    return parser


def write_result(path: str | Path, data: dict[str, Any]) -> None:
    """Write the child's own figures (rings found, per-detector seconds ...) as JSON."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------- the parent's side


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants, from the parent pids in ``/proc/<pid>/stat``."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:  # gone meanwhile
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, i = [root], 0
    while i < len(out):
        out.extend(children.get(out[i], ()))
        i += 1
    return out


def tree_rss(root: int) -> tuple[int, list[int]]:
    """Resident bytes of ``root`` and its descendants (summed), and their pids."""
    pids = tree_pids(root)
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total, pids


@dataclass
class StageFigures:
    """One stage of a run: wall seconds and the highest tree RSS sampled within it."""

    stage: str
    wall_s: float
    peak_rss_bytes: int


@dataclass
class Measured:
    """What :func:`measure` saw of one child run.

    ``status`` is ``ok``, ``failed`` (non-zero exit, or no ``END`` mark), ``timeout`` or
    ``out of memory`` (the last two: killed by the parent; ``did not finish``).
    """

    status: str
    exit_code: int | None
    wall_s: float
    peak_rss_bytes: int
    stages: list[StageFigures]
    stage_reached: str | None
    stderr_tail: list[str] = field(default_factory=list)
    #: the failure's own line: the last exception line of stderr, else its last line
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["wall_s"] = round(self.wall_s, 2)
        data["peak_rss_gib"] = round(self.peak_rss_bytes / GIB, 3)
        for s in data["stages"]:
            s["wall_s"] = round(s["wall_s"], 2)
            s["peak_rss_gib"] = round(s["peak_rss_bytes"] / GIB, 3)
        return data


def read_marks(path: Path) -> tuple[list[tuple[str, float]], float | None]:
    """The stage starts and the end time in a marks file (a torn last line is ignored)."""
    stages: list[tuple[str, float]] = []
    end = None
    if not path.exists():
        return stages, end
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        try:
            if len(parts) == 3 and parts[0] == "STAGE":
                stages.append((parts[1], float(parts[2])))
            elif len(parts) == 2 and parts[0] == "END":
                end = float(parts[1])
        except ValueError:
            continue
    return stages, end


def cut_stages(t0: float, t_exit: float, marks: list[tuple[str, float]], end: float | None,
               samples: list[tuple[float, int]]) -> list[StageFigures]:
    """Stage windows and their peaks. ``start`` is the time before the first mark (the
    interpreter and imports) and ``exit`` the time after ``END`` (freeing, stopping a JVM)."""
    bounds: list[tuple[str, float]] = [("start", t0)] + marks
    if end is not None:
        bounds.append(("exit", end))
    out = []
    for i, (name, a) in enumerate(bounds):
        b = bounds[i + 1][1] if i + 1 < len(bounds) else t_exit
        inside = [r for t, r in samples if a <= t < b]
        if not inside:  # shorter than a sample interval: the nearest sample after it began
            later = [r for t, r in samples if t >= a]
            inside = later[:1] or [r for _, r in samples][-1:] or [0]
        out.append(StageFigures(name, max(b - a, 0.0), max(inside)))
    return [s for s in out if not (s.stage in ("start", "exit") and s.wall_s <= 0)]


def _kill_tree(pgid: int, pids: list[int]) -> None:
    """SIGKILL the child's process group and every descendant seen (a JVM may have left it)."""
    for target in pids:
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def measure(cmd: list[str], run_dir: Path, *, timeout: float | None = None,
            memory_cap_bytes: int | None = None, interval: float = 0.1,
            on_stage: Callable[[str, float, int], None] | None = None,
            cwd: Path | None = None) -> Measured:
    """Run ``cmd --marks F --result F`` and measure it.

    Parameters
    ----------
    cmd
        The child's command; ``--marks`` and ``--result`` (files in ``run_dir``) are appended.
    run_dir
        Folder of the run's files: ``marks.txt``, ``result.json``, ``stdout.txt``,
        ``stderr.txt``.
    timeout
        Kill the child's tree after this many seconds (status ``timeout``).
    memory_cap_bytes
        Kill the child's tree when its summed RSS passes this (status ``out of memory``).
    interval
        Seconds between RSS samples.
    on_stage
        Called as ``on_stage(stage, seconds since start, tree RSS)`` when a new stage mark
        appears (checked about once a second), for a live display.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    marks_path, result_path = run_dir / "marks.txt", run_dir / "result.json"
    for stale in (marks_path, result_path):
        stale.unlink(missing_ok=True)
    samples: list[tuple[float, int]] = []
    killed: str | None = None
    exited = threading.Event()
    waited: dict[str, Any] = {}
    with open(run_dir / "stdout.txt", "wb") as out, open(run_dir / "stderr.txt", "wb") as err:
        t0 = time.time()
        proc = subprocess.Popen(cmd + ["--marks", str(marks_path), "--result", str(result_path)],
                                stdout=out, stderr=err, start_new_session=True, cwd=cwd)

        def wait() -> None:
            _, status, usage = os.wait4(proc.pid, 0)
            waited.update(t=time.time(), status=status, maxrss=usage.ru_maxrss * 1024)
            exited.set()

        threading.Thread(target=wait, daemon=True).start()
        seen_stages, next_check, pids = 0, t0 + 1.0, [proc.pid]
        many = False
        try:
            while not exited.is_set():
                now = time.time()
                rss, found = tree_rss(proc.pid)
                if exited.is_set():  # the pid may be gone or reused: not the child's sample
                    break
                pids, many = found, many or len(found) > 1
                samples.append((now, rss))
                if memory_cap_bytes is not None and rss > memory_cap_bytes:
                    killed = "out of memory"
                elif timeout is not None and now - t0 > timeout:
                    killed = "timeout"
                if killed:
                    _kill_tree(proc.pid, pids)
                    break
                if on_stage is not None and now >= next_check:
                    next_check = now + 1.0
                    marks, _ = read_marks(marks_path)
                    for name, _t in marks[seen_stages:]:
                        on_stage(name, now - t0, rss)
                    seen_stages = len(marks)
                exited.wait(interval)
        except BaseException:  # Ctrl-C: the child has its own session and would run on
            if not exited.is_set():
                _kill_tree(proc.pid, pids)
            raise
        exited.wait()
        proc.returncode = os.waitstatus_to_exitcode(waited["status"])
        if many:  # leftovers of a tree (a JVM that outlived its Python) in our own group
            _kill_tree(proc.pid, [])
    t_exit = waited["t"]
    marks, end = read_marks(marks_path)
    stages = cut_stages(t0, t_exit, marks, end, samples)
    peak = max([r for _, r in samples] + [waited["maxrss"]])
    stage_reached = marks[-1][0] if marks else "start"
    err_lines = [ln.rstrip() for ln in (run_dir / "stderr.txt").read_text(
        encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    tail = [ln if len(ln) <= 300 else ln[:300] + " ..." for ln in err_lines[-15:]]
    raised = [ln for ln in err_lines if _EXCEPTION.match(ln)]
    error = (raised or err_lines or [f"exit code {proc.returncode}, nothing on stderr"])[-1][:300]
    signum = -proc.returncode if proc.returncode < 0 else proc.returncode - 128
    if killed is None and signum in (signal.SIGTERM, signal.SIGINT):
        # stopped from outside (by hand; graphfraud exits 143 after removing its partial
        # output): the last line of stderr is not the reason
        error = f"stopped from outside the benchmark ({signal.Signals(signum).name})"
    result = {}
    if result_path.exists():
        result = json.loads(result_path.read_text(encoding="utf-8"))
    if killed is None and proc.returncode == -signal.SIGKILL:
        # not killed here: the kernel's OOM killer, which can act between two samples
        killed = "out of memory"
        tail.append("(killed by SIGKILL from outside the harness: the kernel's OOM killer?)")
    if killed:
        status = killed
    elif proc.returncode != 0 or end is None:
        status = "failed"
        if proc.returncode == 0:
            tail.append("(the child exited without its END mark)")
    else:
        status = "ok"
    failed = status == "failed"
    return Measured(status, proc.returncode, t_exit - t0, peak, stages,
                    None if status == "ok" else stage_reached,
                    tail if status != "ok" else [], error if failed else None, result)
