"""Reading an analysis back from the command line: `rings` lists and filters, `show` gives one
ring with members, evidence, amounts and timeline; bad references exit 2 and say what to do;
the `case` commands run the register's loop end to end and `case verify` catches tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphfraud.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def analysis(tmp_path_factory) -> Path:
    from graphfraud.analysis import analyze
    from graphfraud.synth import SynthConfig, generate

    base = tmp_path_factory.mktemp("inv")
    (base / "in").mkdir()
    generate(base / "in", SynthConfig(persons=4000, months=4, seed=5))
    analyze(base / "in", base / "an")
    return base / "an"


def test_rings_json_filters(analysis):
    all_rings = json.loads((analysis / "rings.json").read_text(encoding="utf-8"))["rings"]
    assert len(all_rings) >= 3
    rows = json.loads(run("rings", analysis, "--json").output)
    assert [r["ring_id"] for r in rows] == [r["ring_id"] for r in all_rings]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    top = json.loads(run("rings", analysis, "--top", "2", "--json").output)
    assert [r["ring_id"] for r in top] == [r["ring_id"] for r in all_rings[:2]]
    pattern = all_rings[-1]["patterns"][0]
    only = json.loads(run("rings", analysis, "--pattern", pattern, "--json").output)
    assert only and all(pattern in r["patterns"] for r in only)
    assert len(only) == sum(pattern in r["patterns"] for r in all_rings)
    cut = all_rings[1]["score"]
    high = json.loads(run("rings", analysis, "--min-score", cut, "--json").output)
    assert all(r["score"] >= cut for r in high) and len(high) >= 2
    table = run("rings", analysis)
    assert table.exit_code == 0 and all_rings[0]["ring_id"] in table.output


def test_show_by_id_and_by_rank(analysis):
    ring = json.loads((analysis / "rings.json").read_text(encoding="utf-8"))["rings"][0]
    by_id = json.loads(run("show", analysis, ring["ring_id"], "--json").output)
    by_rank = json.loads(run("show", analysis, "1", "--json").output)
    assert by_id == by_rank
    assert by_id["ring_id"] == ring["ring_id"] and by_id["rank"] == 1
    assert {(m["kind"], m["id"]) for m in by_id["members"]} == {(m["kind"], m["id"])
                                                                for m in ring["members"]}
    persons = [m for m in by_id["members"] if m["kind"] == "person"]
    assert all(m["name"] for m in persons)  # names from the persons table
    assert sum(t["claims"] for t in by_id["timeline"]) == ring["claims"]
    assert [t["month"] for t in by_id["timeline"]] == sorted(t["month"] for t in by_id["timeline"])
    assert [e["claims"] for e in by_id["evidence"]] == [len(e["claim_ids"]) for e in ring["evidence"]]
    text = run("show", analysis, ring["ring_id"])
    assert text.exit_code == 0 and "涉案金额" in text.output and "时间线" in text.output
    english = run("show", analysis, "1", "--lang", "en")
    assert "fund paid" in english.output and "timeline" in english.output


def test_show_masked_hides_person_ids_and_names(analysis):
    ring = json.loads((analysis / "rings.json").read_text(encoding="utf-8"))["rings"][0]
    plain = json.loads(run("show", analysis, "1", "--json").output)
    masked = run("show", analysis, "1", "--json", "--redact", "masked").output
    for m in plain["members"]:
        if m["kind"] in ("person", "card"):
            assert m["id"] not in masked
        if m["kind"] == "person":
            assert m["name"] not in masked
    assert ring["ring_id"] in masked


def test_bad_references_exit_2_and_say_what_to_do(analysis, tmp_path):
    unknown = run("show", analysis, "R-00000000")
    assert unknown.exit_code == 2 and "graphfraud rings" in unknown.output
    rank = run("show", analysis, "9999")
    assert rank.exit_code == 2 and "out of range" in rank.output
    empty = tmp_path / "empty"
    empty.mkdir()
    not_an = run("rings", empty)
    assert not_an.exit_code == 2 and "graphfraud analyze" in not_an.output


def test_case_commands_run_the_loop_and_verify_catches_tampering(analysis, tmp_path):
    import sqlite3

    ws = tmp_path / "ws"
    synced = run("case", "--workspace", ws, "--actor", "li.na", "sync", analysis, "--json")
    assert synced.exit_code == 0, synced.output
    rows = json.loads(synced.output)
    assert rows and {r["event"] for r in rows} == {"opened"}
    case_id = rows[0]["case_id"]
    assert run("case", "--workspace", ws, "assign", case_id, "wang.li").exit_code == 0
    bad = run("case", "--workspace", ws, "status", case_id, "referred")
    assert bad.exit_code == 2 and "verifying" in bad.output
    assert run("case", "--workspace", ws, "status", case_id, "核查中").exit_code == 0
    no_note = run("case", "--workspace", ws, "status", case_id, "dismissed")
    assert no_note.exit_code == 2
    assert run("case", "--workspace", ws, "status", case_id, "dismissed",
               "--note", "透析患者排班就诊").exit_code == 0
    listed = json.loads(run("case", "--workspace", ws, "list", "--status", "已排除", "--json").output)
    assert [c["case_id"] for c in listed] == [case_id] and listed[0]["assignee"] == "wang.li"
    again = json.loads(run("case", "--workspace", ws, "sync", analysis, "--json").output)
    assert {r["case_id"]: r["status"] for r in again}[case_id] == "dismissed"
    shown = json.loads(run("case", "--workspace", ws, "show", case_id, "--json").output)
    assert [n["text"] for n in shown["notes"]] == ["透析患者排班就诊"]
    assert shown["audit"][0]["actor"] == "li.na" and [a["action"] for a in shown["audit"]] == [
        "case.open", "case.assign", "case.status", "case.status"]
    assert run("case", "--workspace", ws, "verify").exit_code == 0
    con = sqlite3.connect(ws / "register.sqlite")
    con.execute("UPDATE cases SET status = 'confirmed' WHERE case_id = ?", (case_id,))
    con.commit()
    con.close()
    tampered = run("case", "--workspace", ws, "verify")
    assert tampered.exit_code == 1 and case_id in tampered.output
