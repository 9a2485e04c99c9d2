"""Synthetic exports through ``graphfraud analyze``: every header family, encoding and format.

The issue's "done when": analyze reads a GB18030 export with Chinese headers and one with
platform field codes, writes manifest.json and rejected/, and the accounting holds.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from graphfraud.analysis import analyze
from graphfraud.cli import main
from graphfraud.synth import SynthConfig, generate

SEED = 11  # stated: every random test says its seed
SMALL = dict(persons=1500, months=2, seed=SEED)


def _synth(path: Path, **kwargs) -> Path:
    path.mkdir(parents=True)
    generate(path, SynthConfig(**{**SMALL, **kwargs}))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("e2e")
    src = _synth(base / "canonical")
    analyze(src, base / "out")
    return base / "out", json.loads((src / "truth.json").read_text(encoding="utf-8"))


def _table(out: Path, name: str):
    return pq.read_table(out / "data" / f"{name}.parquet")


def test_accounting_and_quarantine_on_synthetic_noise(reference):
    out, truth = reference
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, stats in manifest["tables"].items():
        assert stats["read"] == stats["accepted"] + stats["rejected"], name
    assert set(manifest["tables"]) == {"claims", "items", "persons", "providers", "doctors", "staff"}
    with open(out / "rejected" / "claims.csv", encoding="utf-8-sig", newline="") as fh:
        rejected = list(csv.DictReader(fh))
    reasons = {}
    for row in rejected:
        reasons.setdefault(row["claim_id"], []).append(row["reason"])
    noise = truth["noise"]
    for bad in noise["malformed"]:  # every planted malformed field is caught, for its reason
        assert any(bad["field"] in r for r in reasons.get(bad["claim_id"], [])), bad
    for cid in noise["duplicated_claim_ids"]:
        assert any(r.startswith("duplicate claim_id") for r in reasons[cid])
    assert len(rejected) == noise["malformed_rows"] + noise["duplicated_rows"]
    # planted ring claims are all well-formed and accepted
    accepted = set(_table(out, "claims").column("claim_id").to_pylist())
    assert all(c in accepted for ring in truth["rings"] for c in ring["claim_ids"])


@pytest.mark.parametrize("headers,encoding", [("chinese", "gb18030"), ("platform", "utf-8"),
                                              ("chinese", "utf-8-sig")])
def test_header_families_and_encodings_give_the_same_tables(tmp_path, reference, headers, encoding):
    out_ref, _ = reference
    src = _synth(tmp_path / "src", headers=headers, encoding=encoding)
    result = CliRunner().invoke(main, ["analyze", str(src), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    claims_input = next(i for i in manifest["inputs"] if i["table"] == "claims")
    assert claims_input["encoding"] == ("gb18030" if encoding == "gb18030" else "utf-8")
    assert manifest["tables"]["claims"]["unknown_columns"] == []
    for name in ("claims", "items", "persons", "providers"):
        ours, ref = _table(tmp_path / "out", name), _table(out_ref, name)
        if name == "claims":  # the value as written differs (门诊 / outpatient), by design
            ours, ref = ours.drop(["visit_type_raw"]), ref.drop(["visit_type_raw"])
        assert ours.equals(ref), name


@pytest.mark.parametrize("fmt", ["parquet", "csv.gz"])
def test_other_formats_give_the_same_claims(tmp_path, reference, fmt):
    out_ref, _ = reference
    src = _synth(tmp_path / "src", fmt=fmt)
    analyze(src, tmp_path / "out")
    ours, ref = _table(tmp_path / "out", "claims"), _table(out_ref, "claims")
    assert ours.drop(["source_row"]).equals(ref.drop(["source_row"]))


def test_excel_export_loads(tmp_path):
    src = _synth(tmp_path / "src", persons=500, months=1, fmt="xlsx", headers="chinese")
    result = analyze(src, tmp_path / "out")
    stats = result.load.tables["claims"]
    assert stats.read == stats.accepted + stats.rejected and stats.accepted > 100


def test_optional_tables_removed(tmp_path):
    src = _synth(tmp_path / "src", items=False, persons_table=False)
    result = analyze(src, tmp_path / "out")
    assert set(result.load.tables) == {"claims", "providers", "doctors", "staff"}
    assert result.load.ignored_files == ["truth.json"]


def test_demo_runs_and_reruns(tmp_path):
    import hashlib

    from graphfraud.packet import verify_packet

    out = tmp_path / "demo"
    digests = []
    for _ in range(2):  # a second run replaces the demo's own folder, with the same bytes
        result = CliRunner().invoke(main, ["demo", "--out", str(out), "--persons", "3000"])
        assert result.exit_code == 0, result.output
        packets = sorted(out.glob("packet-R-*.zip"))
        assert len(packets) == 1 and (out / "view.html").exists()
        digests.append([hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in (out / "view.html", packets[0], out / "analysis" / "rings.json")])
    assert digests[0] == digests[1]
    rings = json.loads((out / "analysis" / "rings.json").read_text(encoding="utf-8"))["rings"]
    folder = out / f"packet-{rings[0]['ring_id']}"
    assert verify_packet(folder) == [] and verify_packet(folder.with_suffix(".zip")) == []
    assert str(out / "view.html") in result.output and str(folder) in result.output
    # issue 4's done-when: the view renders offline in a headless browser, the PDF shows Chinese
    import shutil
    import subprocess

    import browserkit

    page = browserkit.load(out / "view.html")
    assert page.outside_requests == []
    assert int(page.html_attribute("data-rendered") or 0) > 0
    if shutil.which("pdftotext"):
        pdf = next(folder.glob("02_*.pdf"))
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert "案件调查报告" in text and rings[0]["ring_id"] in text
    assert (out / "analysis" / "manifest.json").exists()
    assert (out / "input" / "truth.json").exists()
    other = tmp_path / "mine"
    other.mkdir()
    result = CliRunner().invoke(main, ["demo", "--out", str(other), "--persons", "800"])
    assert result.exit_code == 2 and "not made by graphfraud demo" in result.output
