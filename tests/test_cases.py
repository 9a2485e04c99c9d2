"""The case register keeps its cases through a re-run on refreshed data.

Proves, on real SQLite and real analysis folders (synthetic claims analysed on two months, then
on three, then on three months without one group's claims): a case follows its ring by member
overlap although the ring id changed; a dismissed look-alike stays dismissed when its ring
vanishes and comes back; a confirmed case reports the members its ring gained; status
transitions are enforced with the notes they need; the audit log verifies and shows tampering
with the log, the cases or the notes; two workspaces on one folder cannot both pass a check
nor lose a write. The matcher is also tested on hand-made ring dicts.
"""

from __future__ import annotations

import csv
import doctest
import json
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

import graphfraud.cases
from graphfraud import cases
from graphfraud.analysis import analyze
from graphfraud.errors import InputError
from graphfraud.i18n import pattern_text
from graphfraud.results import open_analysis
from graphfraud.synth import SynthConfig, generate
from graphfraud.workspace import Workspace


def ring(rid, *keys, score=0.9, patterns=("co_visit",), fund_paid=100.0):
    """A ring dict as in rings.json, members given as ``kind:id``."""
    return {"ring_id": rid, "score": score, "patterns": list(patterns), "fund_paid": fund_paid,
            "claims": 3, "members": [{"kind": k.split(":")[0], "id": k.split(":", 1)[1]}
                                     for k in keys]}


def write_analysis(path: Path, rings: list[dict]) -> Path:
    """A minimal analysis folder (rings.json + manifest.json) for the register's unit tests."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "rings.json").write_text(json.dumps({"contract": 1, "rings": rings}), encoding="utf-8")
    (path / "manifest.json").write_text(json.dumps({"contract": 1}), encoding="utf-8")
    return path


def keyset(r):
    return set(cases.member_keys(r))


# --------------------------------------------------------------------------- the matcher

def test_doctests():
    assert doctest.testmod(graphfraud.cases).failed == 0


def test_grown_ring_is_matched_though_jaccard_is_below_half():
    old = ["person:a", "person:b", "person:c", "card:x"]
    grown = ring("R-2", *old[:3], "card:x", "person:d", "person:e", "person:f", "card:y", "card:z")
    m = cases.match_rings({"C-1": old}, [grown])
    assert m == [{"case_id": "C-1", "ring_id": "R-2", "overlap": 1.0, "jaccard": 0.4444,
                  "shared": 4}]


def test_one_shared_hospital_is_not_the_same_ring():
    case = ["person:a", "provider:H1"]
    other = ring("R-9", "person:q", "provider:H1")
    assert cases.match_rings({"C-1": case}, [other]) == []
    # but a two-member ring found again unchanged is matched
    assert cases.match_rings({"C-1": case}, [ring("R-1", *case)])[0]["overlap"] == 1.0


def test_merge_goes_to_the_closer_case_one_to_one():
    small = ["person:a", "person:b", "person:c"]
    big = ["person:d", "person:e", "person:f", "person:g", "person:h"]
    merged = ring("R-m", *small, *big)
    m = cases.match_rings({"C-1": small, "C-2": big}, [merged])
    assert [(x["case_id"], x["ring_id"]) for x in m] == [("C-2", "R-m")]


def test_split_ring_each_half_to_at_most_one_case():
    old = ["person:a", "person:b", "person:c", "person:d", "person:e", "person:f"]
    left, right = ring("R-l", *old[:4]), ring("R-r", *old[4:], "person:z")
    m = cases.match_rings({"C-1": old}, [right, left])
    assert [(x["case_id"], x["ring_id"]) for x in m] == [("C-1", "R-l")]


def test_ties_go_to_the_older_case_and_the_higher_ranked_ring():
    same = ["person:a", "person:b"]
    m = cases.match_rings({"C-old": same, "C-new": same}, [ring("R-1", *same)])
    assert [x["case_id"] for x in m] == ["C-old"]
    m = cases.match_rings({"C-1": same}, [ring("R-top", *same), ring("R-low", *same, "person:c")])
    assert [x["ring_id"] for x in m] == ["R-top"]
    with pytest.raises(InputError, match="min_overlap"):
        cases.match_rings({}, [], min_overlap=0)


# --------------------------------------------------------------------------- register basics

@pytest.fixture
def small(tmp_path):
    """A workspace and a hand-made analysis of three rings."""
    a = write_analysis(tmp_path / "an", [
        ring("R-aaaa0001", "person:p1", "person:p2", "person:p3", "provider:H1", score=0.95),
        ring("R-aaaa0002", "person:q1", "person:q2", "card:k1", score=0.80,
             patterns=("shared_card",)),
        ring("R-aaaa0003", "person:s1", "person:s2", "doctor:D1", score=0.40,
             patterns=("readmission",))])
    return Workspace(tmp_path / "ws"), a


def test_transitions_are_enforced_with_their_notes(small):
    ws, a = small
    c = cases.open_case(ws, a, "1", actor="wang")["case_id"]
    with pytest.raises(InputError, match=r"new \(新线索\).*cannot go to confirmed.*verifying"):
        cases.set_status(ws, c, "confirmed", note="x")
    assert cases.set_status(ws, c, "核查中", actor="wang")["status"] == "verifying"
    with pytest.raises(InputError, match="needs a note"):
        cases.set_status(ws, c, "dismissed")
    cases.set_status(ws, c, "dismissed", note="透析患者，正常就医", actor="wang")
    with pytest.raises(InputError, match="needs a note"):
        cases.set_status(ws, c, "verifying")
    cases.set_status(ws, c, "verifying", note="新举报", actor="li")
    cases.set_status(ws, c, "confirmed", note="查实虚假住院", actor="li")
    cases.set_status(ws, c, "referred", note="移送公安", actor="li")
    with pytest.raises(InputError, match="it can go to: nothing"):
        cases.set_status(ws, c, "verifying", note="x")
    with pytest.raises(InputError, match="unknown status 'closed'.*已移送"):
        cases.set_status(ws, c, "closed")
    with pytest.raises(InputError, match="no case 'C-nope'"):
        cases.set_status(ws, "C-nope", "verifying")
    got = cases.get_case(ws, c)
    assert [n["text"] for n in got["notes"]] == ["透析患者，正常就医", "新举报", "查实虚假住院",
                                                 "移送公安"]
    assert [(e["action"], e["details"].get("to")) for e in got["audit"]] == [
        ("case.open", None), ("case.status", "verifying"), ("case.status", "dismissed"),
        ("case.status", "verifying"), ("case.status", "confirmed"), ("case.status", "referred")]
    assert [e["actor"] for e in got["audit"]][-1] == "li"


def test_open_assign_note_and_list(small, monkeypatch):
    ws, a = small
    monkeypatch.setenv("GRAPHFRAUD_USER", "zhao.min")
    c1 = cases.open_case(ws, a, "R-aaaa0002", assignee="li.wei", note="举报线索")
    assert c1["case_id"].startswith("C-") and c1["status"] == "new"
    assert c1["title"] == f"{pattern_text('shared_card')}（2 人，涉案 100.00 元）"
    assert {"kind": "card", "id": "k1"} in c1["members"] and c1["ring_present"] is True
    with pytest.raises(InputError, match=f"already followed by case {c1['case_id']}"):
        cases.open_case(ws, a, "2")
    with pytest.raises(InputError, match="--lang 'fr'"):
        cases.open_case(ws, a, "3", lang="fr")
    en = cases.open_case(ws, a, "1", lang="en")
    assert en["title"] == f"{pattern_text('co_visit', 'en')} (3 persons, fund paid 100.00 yuan)"
    c2 = cases.open_case(ws, a, "3", title="分解住院 复核")["case_id"]
    assert c2 > c1["case_id"]
    cases.assign(ws, c2, "li.wei", note="交李伟核查")
    with pytest.raises(InputError, match="already assigned to li.wei"):
        cases.assign(ws, c2, "li.wei")
    note = cases.add_note(ws, c2, "  调取了住院病历  ")
    assert note["text"] == "调取了住院病历" and note["actor"] == "zhao.min"
    with pytest.raises(InputError, match="the note is empty"):
        cases.add_note(ws, c2, "  ")
    cases.set_status(ws, c2, "verifying")
    assert [c["case_id"] for c in cases.list_cases(ws, assignee="li.wei")] == [c1["case_id"], c2]
    assert [c["case_id"] for c in cases.list_cases(ws, status="核查中")] == [c2]
    assert [c["case_id"] for c in cases.list_cases(ws, status=["new", "dismissed"])] == [
        c1["case_id"], en["case_id"]]
    assert cases.assign(ws, c2, None)["assignee"] is None
    assert cases.get_case(ws, c2)["title"] == "分解住院 复核"
    assert cases.verify(ws) == []


def test_sync_can_leave_rings_without_a_case(small):
    ws, a = small
    rep = cases.sync(ws, a, open_new=False, actor="wang")
    assert [r["event"] for r in rep] == ["unmatched"] * 3 and cases.list_cases(ws) == []
    rep = cases.sync(ws, a, min_score=0.5, actor="wang")
    assert [r["event"] for r in rep] == ["opened", "opened", "unmatched"]
    assert [c["ring_id"] for c in cases.list_cases(ws)] == ["R-aaaa0001", "R-aaaa0002"]
    with pytest.raises(InputError, match="min-overlap"):
        cases.sync(ws, a, min_overlap=1.5)
    assert [e["action"] for e in Workspace(ws.path).audit_log()].count("register.sync") == 2


# --------------------------------------------------------------------------- refreshed data

def _filter_claims(src: Path, dst: Path, keep) -> None:
    shutil.copytree(src, dst)
    with open(src / "claims.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(dst / "claims.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if keep(r))


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """Three analyses of one synthetic world (seed 5): ``early`` on its first two months,
    ``full`` on all three (the refreshed data), and ``gone``: all three months without the
    claims of the persons and cards of the early analysis's lowest-scored ring (the look-alike
    the investigators dismiss)."""
    root = tmp_path_factory.mktemp("refresh")
    full_in = root / "full-in"
    full_in.mkdir()
    generate(full_in, SynthConfig(persons=3000, months=3, seed=5))
    _filter_claims(full_in, root / "early-in", lambda r: r["settled_at"] < "2024-03-01")
    analyze(root / "early-in", root / "early")
    lookalike = open_analysis(root / "early").rings[-1]
    persons = {m["id"] for m in lookalike["members"] if m["kind"] == "person"}
    cards = {m["id"] for m in lookalike["members"] if m["kind"] == "card"}
    _filter_claims(full_in, root / "gone-in",
                   lambda r: r["person_id"] not in persons and r["card_id"] not in cards)
    analyze(full_in, root / "full")
    analyze(root / "gone-in", root / "gone")
    return {k: root / k for k in ("early", "full", "gone")}


def _ring_with(analysis: Path, pattern: str) -> dict:
    (r,) = [r for r in open_analysis(analysis).rings if pattern in r["patterns"]]
    return r


def test_case_follows_its_ring_on_refreshed_data(refreshed, tmp_path):
    ws = Workspace(tmp_path / "ws")
    early, full = open_analysis(refreshed["early"]), open_analysis(refreshed["full"])
    rep = cases.sync(ws, refreshed["early"], actor="wang")
    assert [r["event"] for r in rep] == ["opened"] * len(early.rings)
    assert [c["ring_id"] for c in cases.list_cases(ws)] == [r["ring_id"] for r in early.rings]

    old, new = _ring_with(refreshed["early"], "drug_resale"), _ring_with(refreshed["full"],
                                                                        "drug_resale")
    assert old["ring_id"] != new["ring_id"] and keyset(old) < keyset(new)
    (case,) = [c for c in cases.list_cases(ws) if c["ring_id"] == old["ring_id"]]
    cases.set_status(ws, case["case_id"], "verifying", actor="wang")

    rep = cases.sync(ws, refreshed["full"], actor="li")
    row = next(r for r in rep if r["case_id"] == case["case_id"])
    assert row["event"] == "followed" and row["previous_ring_id"] == old["ring_id"]
    assert row["ring_id"] == new["ring_id"] and row["overlap"] == 1.0
    assert {f"{m['kind']}:{m['id']}" for m in row["members_added"]} == keyset(new) - keyset(old)
    after = cases.get_case(ws, case["case_id"])
    assert after["status"] == "verifying" and after["ring_id"] == new["ring_id"]
    assert {f"{m['kind']}:{m['id']}" for m in after["members"]} == keyset(new)
    assert [(h["event"], h["ring_id"]) for h in after["history"]] == [
        ("opened", old["ring_id"]), ("followed", new["ring_id"])]
    assert after["history"][-1]["analysis"] == str(refreshed["full"].resolve())
    # every ring of the refreshed analysis has exactly one case; rings new in the third month
    # were opened, the others followed
    assert sorted(r["ring_id"] for r in rep) == sorted(r["ring_id"] for r in full.rings)
    assert len({r["case_id"] for r in rep}) == len(rep)
    assert {r["event"] for r in rep} <= {"followed", "updated", "unchanged", "opened"}
    followed = [r for r in rep if r["event"] != "opened"]
    assert len(followed) == len(early.rings)
    assert all(r["overlap"] >= 0.5 for r in followed)
    assert "新增" in cases.event_text(row) and "added" in cases.event_text(row, "en")

    # syncing the same analysis again changes nothing but records the run
    before = len(ws.audit_log())
    again = cases.sync(ws, refreshed["full"], actor="li")
    assert {r["event"] for r in again} == {"unchanged"}
    assert [e["action"] for e in ws.audit_log()[before:]] == ["register.sync"]
    assert cases.verify(ws) == []


def test_dismissed_lookalike_stays_dismissed_when_its_ring_comes_back(refreshed, tmp_path):
    ws = Workspace(tmp_path / "ws")
    cases.sync(ws, refreshed["early"], actor="wang")
    lookalike = cases.list_cases(ws)[-1]
    cid = lookalike["case_id"]
    assert lookalike["ring_id"] == open_analysis(refreshed["early"]).rings[-1]["ring_id"]
    cases.set_status(ws, cid, "verifying", actor="wang")
    cases.set_status(ws, cid, "dismissed", note="正常的集中体检，已排除", actor="wang")

    rep = cases.sync(ws, refreshed["gone"], actor="wang")  # its claims stopped: ring gone
    (row,) = [r for r in rep if r["case_id"] == cid]
    assert row["event"] == "vanished" and row["ring_id"] is None
    assert row["previous_ring_id"] == lookalike["ring_id"]
    assert cases.get_case(ws, cid)["ring_present"] is False
    again = cases.sync(ws, refreshed["gone"], actor="wang")
    assert cid not in {r["case_id"] for r in again}  # reported once

    rep = cases.sync(ws, refreshed["full"], actor="wang")  # the ring is back
    (row,) = [r for r in rep if r["case_id"] == cid]
    assert row["event"] == "still_dismissed" and row["status"] == "dismissed"
    assert row["overlap"] >= 0.5
    back = cases.get_case(ws, cid)
    assert back["status"] == "dismissed" and back["ring_present"] is True
    assert back["ring_id"] == row["ring_id"]
    assert [h["event"] for h in back["history"]] == ["opened", "vanished", "still_dismissed"]
    assert [c["case_id"] for c in cases.list_cases(ws, status="已排除")] == [cid]
    assert not [r for r in rep if r["event"] == "opened" and r["ring_id"] == row["ring_id"]]
    assert cases.verify(ws) == []


def test_confirmed_case_reports_the_members_its_ring_gained(refreshed, tmp_path):
    ws = Workspace(tmp_path / "ws")
    cases.sync(ws, refreshed["early"], actor="wang")
    old, new = _ring_with(refreshed["early"], "drug_resale"), _ring_with(refreshed["full"],
                                                                        "drug_resale")
    (cid,) = [c["case_id"] for c in cases.list_cases(ws) if c["ring_id"] == old["ring_id"]]
    cases.set_status(ws, cid, "verifying", actor="wang")
    cases.set_status(ws, cid, "confirmed", note="查实倒卖回流药", actor="wang")
    rep = cases.sync(ws, refreshed["full"], actor="wang")
    (row,) = [r for r in rep if r["case_id"] == cid]
    assert row["event"] == "grown" and row["status"] == "confirmed"
    gained = keyset(new) - keyset(old)
    assert gained and {f"{m['kind']}:{m['id']}" for m in row["members_added"]} == gained
    sync_entry = cases.get_case(ws, cid)["audit"][-1]
    assert sync_entry["action"] == "case.sync" and set(sync_entry["details"]["added"]) == gained


# --------------------------------------------------------------------------- audit, tampering

def test_audit_verifies_and_tampering_shows(small):
    ws, a = small
    cases.sync(ws, a, actor="wang")
    c1, c2, c3 = [c["case_id"] for c in cases.list_cases(ws)]
    cases.set_status(ws, c1, "verifying", actor="wang")
    cases.add_note(ws, c2, "电话核实了参保人", actor="wang")
    cases.assign(ws, c3, "li.wei", actor="wang")
    assert cases.verify(ws) == []

    con = sqlite3.connect(ws.db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE case_notes SET text = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM case_rings")
    # the register's own rows, changed behind graphfraud's back
    con.execute("UPDATE cases SET status = 'dismissed' WHERE case_id = ?", (c1,))
    con.execute("UPDATE cases SET assignee = 'zhang' WHERE case_id = ?", (c3,))
    con.execute("DROP TRIGGER case_notes_no_update")
    con.execute("UPDATE case_notes SET text = '未核实' WHERE case_id = ?", (c2,))
    con.commit()
    problems = cases.verify(ws)
    assert any(p.startswith(f"case {c1}: status is 'dismissed' in the register but "
                            "'verifying'") for p in problems)
    assert any(p.startswith(f"case {c3}: assignee is 'zhang'") for p in problems)
    assert any(p.startswith("note ") and c2 in p for p in problems)
    assert len(problems) == 3

    # the audit log itself, edited to hide the change
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET details = json_set(details, '$.to', 'dismissed') "
                "WHERE action = 'case.status' AND target = ?", (c1,))
    con.commit()
    con.close()
    problems = cases.verify(ws)
    assert any(p.endswith("its content was changed") for p in problems)
    assert not any(p.startswith(f"case {c1}: status") for p in problems)  # replay now agrees


# --------------------------------------------------------------------------- concurrency

def test_two_workspaces_on_one_folder_serialise(small):
    ws, a = small
    cases.sync(ws, a, actor="wang")
    cid = cases.list_cases(ws)[0]["case_id"]
    one, two = Workspace(ws.path), Workspace(ws.path)

    # both see the case as new and try to start verifying it at the same moment:
    # the check runs inside the write transaction, so exactly one passes
    start, results = threading.Barrier(2), []

    def take(w, who):
        start.wait()
        try:
            cases.set_status(w, cid, "verifying", actor=who)
            results.append(("ok", who))
        except InputError as exc:
            results.append(("refused", str(exc)))

    threads = [threading.Thread(target=take, args=(w, n)) for w, n in ((one, "wang"), (two, "li"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert "is verifying" in next(r[1] for r in results if r[0] == "refused")

    # notes written at once from both never collide in the chain and none is lost
    start2 = threading.Barrier(2)

    def write(w, who):
        start2.wait()
        for k in range(15):
            cases.add_note(w, cid, f"{who} {k}", actor=who)

    threads = [threading.Thread(target=write, args=(w, n)) for w, n in ((one, "wang"), (two, "li"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    notes = cases.get_case(one, cid)["notes"]
    assert sorted(n["text"] for n in notes) == sorted(f"{w} {k}" for w in ("wang", "li")
                                                      for k in range(15))
    log = two.audit_log()
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert cases.verify(one) == [] and cases.verify(two) == []
