"""The project is held to the data contract (docs/data-contract.md, a copy of shared/spec)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from graphfraud.loaders.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")


def test_copy_matches_the_shared_contract():
    shared = ROOT.parent / "shared" / "spec" / "data-contract.md"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert shared.read_text(encoding="utf-8") == CONTRACT


def _markdown_table(title: str) -> list[list[str]]:
    section = CONTRACT.split(f"### {title}")[1].split("###")[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and not ln.startswith("| column")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in rows]


@pytest.mark.parametrize("table", ["claims", "items"])
def test_tabled_columns_required_flags_and_aliases(table):
    spec = TABLES[table]
    rows = _markdown_table(table)
    assert rows, "contract table not found"
    for name, _type, req, _meaning, aliases in rows:
        column = spec.column(name)
        assert column.required == (req == "yes"), name
        for alias in re.findall(r"[\w\u4e00-\u9fff]+", aliases.split("(")[0]):
            assert alias in column.aliases, f"{table}.{name}: alias {alias} missing"
    assert {c.name for c in spec.columns if not c.extension} == {r[0] for r in rows}


@pytest.mark.parametrize("table", ["persons", "providers", "doctors", "staff"])
def test_prose_tables(table):
    section = CONTRACT.split(f"### {table}")[1].split("###")[0].split("##")[0]
    text = " ".join(section.splitlines()[1:])
    spec = TABLES[table]
    names = re.findall(r"(?:^|, |\) ?)\s*([a-z_]+)(?= \(|,|\.|$)", text.strip())
    for name in names:
        spec.column(name)  # raises KeyError when the project lacks a contract column
    for name, aliases in re.findall(r"([a-z_]+) \(([^)]*)\)", text):
        if "`" in aliases:
            continue  # a list of accepted values (`1`/`2`/`3`, `public`/`private`), not aliases
        for alias in re.split(r"[,/;]\s*", aliases):
            alias = alias.strip()
            if re.fullmatch(r"[\u4e00-\u9fff]+|[a-z_]+", alias):
                assert alias in spec.column(name).aliases, f"{table}.{name}: alias {alias} missing"
    assert spec.required_columns == (spec.column(spec.key),)


def test_analysis_folder_has_the_contract_shape(tmp_path, canonical_claims):
    from graphfraud.analysis import analyze

    analyze(canonical_claims, tmp_path / "out")
    out = tmp_path / "out"
    rings = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    assert rings["contract"] == 1 and isinstance(rings["rings"], list)
    with open(out / "entities.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[:3] == ["kind", "id", "score"]  # the contract's columns first; additions after
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for key in ("inputs", "tables", "parameters", "graphfraud_version", "timings"):
        assert key in manifest
    for stats in manifest["tables"].values():
        assert stats["read"] == stats["accepted"] + stats["rejected"]
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
