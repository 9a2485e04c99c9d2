"""The command line: exit codes and messages (contract §4), output folders, help and docs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from claimsfixtures import CANONICAL_HEADER, good_claims, write_csv
from click.testing import CliRunner

from graphfraud import __version__
from graphfraud.cli import main
from graphfraud.outdir import atomic_folder

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_analyze_writes_the_contract_folder(tmp_path, canonical_claims):
    rows = good_claims() + [["S001", "P1", "", "H33010200001", "outpatient", "bad", "", "", "1", "1"]]
    src = write_csv(tmp_path / "claims.csv", CANONICAL_HEADER, rows)
    result = run("analyze", src, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} >= {"rings.json", "entities.csv", "manifest.json",
                                               "rejected", "data"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["claims"] | {"columns": None} == manifest["tables"]["claims"] | {
        "columns": None, "read": 6, "accepted": 5, "rejected": 1}
    assert manifest["inputs"][0]["sha256"] == __import__("hashlib").sha256(src.read_bytes()).hexdigest()
    assert manifest["graphfraud_version"] == __version__
    assert manifest["claims_totals"]["fund_paid_net"] == "6050.00"
    assert json.loads((out / "rings.json").read_text(encoding="utf-8"))["contract"] == 1
    assert "1 rows rejected" in result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no leftovers


def test_analyze_json_output(tmp_path, canonical_claims):
    result = run("analyze", canonical_claims, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["tables"]["claims"]["accepted"] == 5


def test_missing_column_exits_2_with_the_whole_story(tmp_path):
    src = write_csv(tmp_path / "claims.csv", ["结算ID", "人员编号"], [["S1", "P1"]])
    result = run("analyze", src, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "required column 'provider_id'" in result.output
    assert "fixmedins_code" in result.output and "'结算ID', '人员编号'" in result.output
    assert not (tmp_path / "out").exists()


def test_existing_output_needs_force(tmp_path, canonical_claims):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run("analyze", canonical_claims, "--out", out)
    assert result.exit_code == 2 and "--force" in result.output
    assert (out / "keep.txt").read_text() == "mine"
    result = run("analyze", canonical_claims, "--out", out, "--force")
    assert result.exit_code == 0
    assert not (out / "keep.txt").exists() and (out / "manifest.json").exists()


def test_failed_run_leaves_no_folder(tmp_path, canonical_claims, monkeypatch):
    import graphfraud.analysis as analysis

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(analysis, "_claim_totals", boom)
    with pytest.raises(KeyboardInterrupt):
        analysis.analyze(canonical_claims, tmp_path / "out")
    assert list(tmp_path.iterdir()) == [canonical_claims.parent]


def test_atomic_folder_keeps_the_old_folder_on_failure(tmp_path):
    target = tmp_path / "t"
    target.mkdir()
    (target / "old").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_folder(target, force=True) as work:
            (work / "new").write_text("new")
            raise RuntimeError("disk full")
    assert (target / "old").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def _analyze_in_a_process(src: Path, out: Path) -> subprocess.Popen:
    """``graphfraud analyze`` of 300,000 claims in a real process, once it is loading."""
    rows = [[f"S{i}", f"P{i % 997}", "", "H33010200001", "outpatient", "2024-03-01 10:00:00", "",
             "", "10.00", "5.00"] for i in range(300_000)]
    write_csv(src, CANONICAL_HEADER, rows)
    proc = subprocess.Popen([sys.executable, "-m", "graphfraud", "analyze", str(src), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".out.partial-")
                                              for p in out.parent.iterdir()):
        time.sleep(0.02)
    time.sleep(0.3)
    return proc


def test_kill_9_never_leaves_a_finished_looking_folder(tmp_path):
    """A real process, killed with SIGKILL while it loads: the target folder must not exist."""
    out = tmp_path / "out"
    proc = _analyze_in_a_process(tmp_path / "claims.csv", out)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.returncode == -signal.SIGKILL:
        assert not out.exists()  # only the hidden .out.partial-* folder may remain
    else:  # pragma: no cover - the machine was fast enough to finish first
        assert (out / "manifest.json").exists()


def test_kill_removes_the_hidden_folder_and_exits_143(tmp_path):
    """SIGTERM (kill, a scheduler's stop) while it loads: no output and no hidden folder left."""
    out = tmp_path / "out"
    proc = _analyze_in_a_process(tmp_path / "src" / "claims.csv", out)
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=120)
    if proc.returncode == 143:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]
    else:  # pragma: no cover - the machine was fast enough to finish first
        assert proc.returncode == 0 and (out / "manifest.json").exists()


COMMANDS = sorted(main.commands)
#: every command and subcommand, as typed ("case sync")
FULL = sorted([c] for c in main.commands) + sorted(
    [c, sub] for c, group in main.commands.items() for sub in getattr(group, "commands", {}))


@pytest.mark.parametrize("command", FULL, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and f"graphfraud {' '.join(command)}" in result.output


@pytest.mark.parametrize("command", FULL, ids=" ".join)
def test_every_command_is_documented_in_the_readme(command):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    typed = " ".join(command)
    assert re.search(rf"`graphfraud {typed}\b", readme), f"README does not document {typed}"


def test_synth_command_writes_tables_and_truth(tmp_path):
    out = tmp_path / "s"
    result = run("synth", "--out", out, "--persons", "800", "--months", "1", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert {"claims.csv", "items.csv", "persons.csv", "providers.csv", "doctors.csv", "staff.csv",
            "truth.json"} <= {p.name for p in out.iterdir()}
    assert "claims" in result.output
    assert run("synth", "--out", out, "--persons", "800").exit_code == 2  # exists: needs --force


def test_synth_mix_option(tmp_path):
    result = run("synth", "--out", tmp_path / "m", "--persons", "800", "--months", "1",
                 "--mix", "card_burst=2,co_visit=1", "--lookalikes", "0")
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "m" / "truth.json").read_text(encoding="utf-8"))
    patterns = sorted(p for r in truth["rings"] for p in r["patterns"][:1])
    assert patterns == ["card_burst", "card_burst", "co_visit"]
    bad = run("synth", "--out", tmp_path / "b", "--mix", "card_burst")
    assert bad.exit_code == 2 and "PATTERN=N" in bad.output
    unknown = run("synth", "--out", tmp_path / "c", "--mix", "teleport=1")
    assert unknown.exit_code == 2 and "teleport" in unknown.output


def test_readme_lists_every_registered_detector():
    from graphfraud.detectors import describe

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- detectors-table -->")[1].split("\n\n")[0]
    listed = re.findall(r"^\s*\| `(\w+)` \|", table, flags=re.M)
    assert sorted(listed) == sorted(d["pattern"] for d in describe())
