"""The scaling benchmark's harness (bench/bench_scale.py): what it records, never how fast.

A tiny synthetic input (500 persons × 2 months, seed 2024) goes through the graphfraud, floor
and analyst variants into a temporary workdir, results file and BENCHMARKS.md; the measuring
parent is checked on children that run out of time, out of memory (in a grandchild) or fail;
the report's ratio and target cells are checked against figures made up here.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import bench_scale  # noqa: E402
import scale_report  # noqa: E402
from scalekit import GIB, measure  # noqa: E402

OTHER = "# Benchmarks\n\n## Loading\n\n| rows |\n|---|\n| 10 |\n"


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The harness run once on the tiny input, all three local variants, recorded."""
    root = tmp_path_factory.mktemp("scale")
    paths = {"workdir": root / "work", "results": root / "results" / "scale.json",
             "benchmarks": root / "BENCHMARKS.md", "plot": root / "scaling.png"}
    paths["benchmarks"].write_text(OTHER, encoding="utf-8")
    code = bench_scale.main(["--sizes", "500x2", "--variants", "graphfraud,floor,analyst", "--record",
                             *[a for k, p in paths.items() for a in (f"--{k}", str(p))]])
    assert code == 0
    return paths


def _args(paths: dict[str, Path]) -> list[str]:
    return [a for k, p in paths.items() for a in (f"--{k}", str(p))]


def test_each_variant_is_measured_by_stage(bench_run: dict[str, Path]) -> None:
    results = json.loads(bench_run["results"].read_text(encoding="utf-8"))
    size = results["sizes"]["500x2"]
    assert (size["persons"], size["months"], size["seed"]) == (500, 2, 2024)
    truth = json.loads((bench_run["workdir"] / "synth-500x2" / "truth.json").read_text(encoding="utf-8"))
    assert size["claims"] == truth["counts"]["claims"] and size["items"] == truth["counts"]["items"]
    runs = results["runs"]["500x2"]
    expected = {"graphfraud": ["load", "detect", "rings", "write"],
                "floor": ["load", "detect", "leiden"],
                "analyst": ["load", "shared_cards", "co_visit", "louvain"]}
    for variant, stages in expected.items():
        run = runs[variant]
        assert run["status"] == "ok", run
        names = [s["stage"] for s in run["stages"]]
        assert [n for n in names if n not in ("start", "exit")] == stages
        assert run["wall_s"] > 0 and run["peak_rss_bytes"] > 0
        assert all(s["peak_rss_bytes"] <= run["peak_rss_bytes"] for s in run["stages"])
        assert sum(s["wall_s"] for s in run["stages"]) == pytest.approx(run["wall_s"], abs=0.1)
        assert run["machine"]["cores"] == os.cpu_count() and run["machine"]["duckdb"]
    # per-detector seconds: graphfraud's from its manifest, the floor's from run_detectors
    manifest = json.loads((bench_run["workdir"] / "scale" / "500x2-graphfraud" / "analysis"
                           / "manifest.json").read_text(encoding="utf-8"))
    assert runs["graphfraud"]["result"]["detectors"] == {
        d["detector"]: d["seconds"] for d in manifest["detectors"]["run"]}
    assert set(runs["floor"]["result"]["detectors"]) == set(runs["graphfraud"]["result"]["detectors"])
    assert runs["analyst"]["result"]["rings"] >= 1


def test_the_section_and_plot_are_written_from_the_figures(bench_run: dict[str, Path]) -> None:
    text = bench_run["benchmarks"].read_text(encoding="utf-8")
    assert text.startswith(OTHER.rstrip("\n"))  # the rest of the file is left as it was
    assert text.count(scale_report.START) == 1 and text.count(scale_report.END) == 1
    results = json.loads(bench_run["results"].read_text(encoding="utf-8"))
    runs = results["runs"]["500x2"]
    over = runs["graphfraud"]["wall_s"] / runs["floor"]["wall_s"]
    speed = runs["analyst"]["wall_s"] / runs["graphfraud"]["wall_s"]
    row = next(ln for ln in text.splitlines() if ln.startswith("| 500x2 | ") and ln.count("×") >= 4)
    assert f"| {speed:,.1f}× |" in row and f"| {over:,.1f}× |" in row
    verdict = "met" if over <= 1.5 else "missed"
    assert f"| within 1.5× of (b) at 500x2 | {over:,.2f}× | {verdict} |" in text
    assert "| 50M claims complete | not run | not measured |" in text
    assert "(scaling.png)" in text  # linked next to BENCHMARKS.md
    assert bench_run["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_variant_stopped_at_the_timeout_does_not_finish(bench_run: dict[str, Path]) -> None:
    # re-run the analyst alone with a limit it cannot meet; the other variants' figures stay
    code = bench_scale.main(["--sizes", "500x2", "--variants", "analyst", "--record",
                             "--analyst-timeout", "0.3", *_args(bench_run)])
    assert code == 0
    results = json.loads(bench_run["results"].read_text(encoding="utf-8"))
    runs = results["runs"]["500x2"]
    assert runs["graphfraud"]["status"] == runs["floor"]["status"] == "ok"
    analyst = runs["analyst"]
    assert analyst["status"] == "timeout" and analyst["stage_reached"]
    assert analyst["wall_s"] >= 0.3 and analyst["limits"]["timeout_s"] == 0.3
    text = bench_run["benchmarks"].read_text(encoding="utf-8")
    assert text.count(scale_report.START) == 1
    assert f"did not finish: timeout in {analyst['stage_reached']}" in text
    bound = analyst["wall_s"] / runs["graphfraud"]["wall_s"]
    assert f"| ≥ {bound:,.1f}× |" in text


def _child(tmp_path: Path, body: str) -> list[str]:
    """A child that marks stages like the real ones (``--marks``, ``--result`` appended)."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(f"""
        import subprocess, sys, time
        sys.path.insert(0, {str(BENCH)!r})
        from scalekit import StageMarks
        marks = StageMarks(sys.argv[sys.argv.index("--marks") + 1])
    """) + textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(script)]


def test_the_memory_cap_counts_and_kills_the_whole_tree(tmp_path: Path) -> None:
    # the memory is held by a grandchild, as Spark's JVM holds it
    cmd = _child(tmp_path, """
        marks.stage("grow")
        kid = subprocess.Popen([sys.executable, "-c",
                                "import time; x = b'x' * (400 << 20); time.sleep(60)"])
        open(sys.argv[sys.argv.index("--result") + 1] + ".pid", "w").write(str(kid.pid))
        time.sleep(60)
    """)
    m = measure(cmd, tmp_path / "run", memory_cap_bytes=int(0.25 * GIB))
    assert m.status == "out of memory" and m.stage_reached == "grow"
    assert m.peak_rss_bytes > 0.25 * GIB
    grandchild = int((tmp_path / "run" / "result.json.pid").read_text())
    assert not _running(grandchild)


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a killed orphan may linger as a zombie until reaped)."""
    for _ in range(50):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        if stat[stat.rfind(")") + 2] in "ZX":
            return False
        time.sleep(0.1)
    return True


def test_a_timeout_names_the_stage_and_keeps_the_stages_before(tmp_path: Path) -> None:
    cmd = _child(tmp_path, """
        marks.stage("load")
        time.sleep(0.2)
        marks.stage("slow")
        time.sleep(60)
    """)
    m = measure(cmd, tmp_path / "run", timeout=1.5)
    assert m.status == "timeout" and m.stage_reached == "slow" and not m.finished
    assert [s.stage for s in m.stages] == ["start", "load", "slow"]
    assert m.wall_s < 30  # stopped, not waited for


def test_a_failing_child_is_reported_with_its_error(tmp_path: Path) -> None:
    cmd = _child(tmp_path, """
        marks.stage("detect")
        raise RuntimeError("the engine is not there yet")
    """)
    m = measure(cmd, tmp_path / "run")
    assert m.status == "failed" and m.exit_code == 1 and m.stage_reached == "detect"
    assert m.error == "RuntimeError: the engine is not there yet"
    assert any("Traceback" in ln for ln in m.stderr_tail)


def test_a_run_stopped_from_outside_says_so_not_its_last_log_line(tmp_path: Path) -> None:
    cmd = _child(tmp_path, """
        import os, signal, sys
        marks.stage("detect")
        print("26/12/07 21:36:31 WARN NativeCodeLoader: Unable to load native-hadoop", file=sys.stderr)
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGTERM)
    """)
    m = measure(cmd, tmp_path / "run")
    assert m.status == "failed" and m.exit_code == -15 and m.stage_reached == "detect"
    assert m.error == "stopped from outside the benchmark (SIGTERM)"


def _made_up(analyst_1m: dict[str, Any], gf_10m_wall: float) -> dict[str, Any]:
    def ok(wall: float, gib: float) -> dict[str, Any]:
        return {"status": "ok", "wall_s": wall, "peak_rss_bytes": int(gib * GIB), "stages": [],
                "stage_reached": None, "exit_code": 0, "result": {}}

    return {
        "sizes": {"1M": {"persons": 85000, "months": 12, "claims": 1_000_000, "items": 3_000_000},
                  "10M": {"persons": 680000, "months": 12, "big_hospital_daily": 5000,
                          "claims": 10_000_000, "items": 30_000_000}},
        "runs": {"1M": {"graphfraud": ok(30, 2.0), "floor": ok(25, 1.5), "analyst": analyst_1m},
                 "10M": {"graphfraud": ok(gf_10m_wall, 4.0), "floor": ok(250, 3.0),
                         "analyst": {"status": "out of memory", "wall_s": 700.0,
                                     "peak_rss_bytes": 20 * GIB, "stages": [],
                                     "stage_reached": "co_visit", "exit_code": -9},
                         "spark": {"status": "failed", "wall_s": 9.0, "peak_rss_bytes": GIB,
                                   "stages": [], "stage_reached": "load", "exit_code": 1,
                                   "error": "TypeError: analyze() got an unexpected keyword"}}},
    }


def test_ratio_and_target_cells_follow_the_figures() -> None:
    fast = _made_up({"status": "ok", "wall_s": 900.0, "peak_rss_bytes": 4 * GIB, "stages": []}, 330)
    text = scale_report.render_section(fast, "scaling.png")
    assert "| 1M | 30.0× | 2.0× | 1.2× | 1.3× | — | — |" in text
    assert "| 10M | ≥ 2.1× | ≥ 5.0× | 1.3× | 1.3× | — | — |" in text  # (a) was killed at 700 s
    assert "| graphfraud | 30.0 s | 330.0 s | 11.0× | 10.00× | 1.10 |" in text
    assert "| (a) analyst | 900.0 s | ≥ 700.0 s | ≥ 0.8× | 10.00× | ≥ 0.08 |" in text
    targets = dict((t, (m, v)) for t, m, v in scale_report.targets(fast))
    assert targets["10M claims in ≤ 10 min"] == ("330.0 s", "met")
    assert targets["10M claims in ≤ 10 GB peak RSS"] == ("4.29 GB", "met")
    assert targets["≥ 20× faster than (a) at 1M"] == ("30.0×", "met")
    assert targets["within 1.5× of (b) at 10M"] == ("1.32×", "met")
    assert targets["10× the claims in ≤ 12× the time (1M → 10M: growth ≤ 1.2)"] == ("1.10", "met")
    assert targets["50M claims complete"] == ("not run", "not measured")
    assert "failed (exit code 1) in load: TypeError: analyze() got an unexpected keyword" in text

    slow = _made_up({"status": "ok", "wall_s": 450.0, "peak_rss_bytes": 4 * GIB, "stages": []}, 660)
    targets = dict((t, (m, v)) for t, m, v in scale_report.targets(slow))
    assert targets["10M claims in ≤ 10 min"] == ("660.0 s", "missed")
    assert targets["≥ 20× faster than (a) at 1M"] == ("15.0×", "missed")
    assert targets["10× the claims in ≤ 12× the time (1M → 10M: growth ≤ 1.2)"] == ("2.20", "missed")

    # (a) stopped at 1M: a bound decides the target only when it clears it
    for cut, verdict in ((900.0, "met"), (450.0, "undetermined")):
        stopped = {"status": "timeout", "wall_s": cut, "peak_rss_bytes": GIB, "stages": [],
                   "stage_reached": "co_visit"}
        targets = dict((t, (m, v)) for t, m, v in scale_report.targets(_made_up(stopped, 330)))
        assert targets["≥ 20× faster than (a) at 1M"] == (f"≥ {cut / 30:.1f}×", verdict)


def test_a_side_size_gets_its_own_analyst_target() -> None:
    results = _made_up({"status": "out of memory", "wall_s": 40.0, "peak_rss_bytes": 20 * GIB,
                        "stages": [], "stage_reached": "co_visit"}, 330)
    assert "≥ 20× faster than (a) at 1M-nohospital" not in dict(
        (t, v) for t, _, v in scale_report.targets(results))
    results["sizes"]["1M-nohospital"] = {"persons": 85000, "months": 12, "claims": 1_020_000}
    results["runs"]["1M-nohospital"] = {
        v: {"status": "ok", "wall_s": wall, "peak_rss_bytes": GIB, "stages": [], "result": {}}
        for v, wall in (("graphfraud", 20.0), ("analyst", 60.0))}
    targets = dict((t, (m, v)) for t, m, v in scale_report.targets(results))
    assert targets["≥ 20× faster than (a) at 1M"] == ("≥ 1.3×", "undetermined")
    assert targets["≥ 20× faster than (a) at 1M-nohospital"] == ("3.0×", "missed")


def test_the_section_goes_between_its_markers(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(OTHER, encoding="utf-8")
    first = f"{scale_report.START}\none\n{scale_report.END}"
    scale_report.update_benchmarks(path, first)
    assert path.read_text(encoding="utf-8") == OTHER + "\n" + first + "\n"
    path.write_text(path.read_text(encoding="utf-8") + "\n## Later\n\nkept\n", encoding="utf-8")
    scale_report.update_benchmarks(path, f"{scale_report.START}\ntwo\n{scale_report.END}")
    text = path.read_text(encoding="utf-8")
    assert "one" not in text and "two" in text and text.endswith("## Later\n\nkept\n")
    assert text.startswith(OTHER)
