"""Rings from evidence: hubs do not merge rings, ids are stable, amounts net out, roles and
critical members; and the whole analysis is deterministic (two runs, shuffled rows)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pyarrow as pa
import pytest

from graphfraud.analysis import analyze
from graphfraud.detectors import load_config
from graphfraud.detectors.base import EVIDENCE_TABLES
from graphfraud.engine import DuckDBEngine
from graphfraud.rings import build_rings, entity_scores, ring_id


def _engine_with(groups, members, claims, canon):
    e = DuckDBEngine()
    for name, cols in EVIDENCE_TABLES.items():
        e.execute(f"CREATE TABLE {name} ({cols})")
    for g in groups:
        e.execute("INSERT INTO ev_groups VALUES (?, ?, ?, ?, ?, NULL)", list(g) + ["摘要", "summary"])
    for m in members:
        e.execute("INSERT INTO ev_members VALUES (?, ?, ?, ?, ?, ?)", list(m))
    for c in claims:
        e.execute("INSERT INTO ev_claims VALUES (?, ?, ?)", list(c))
    table = pa.table({"claim_id": [c[0] for c in canon], "total_amount": [c[1] for c in canon],
                      "fund_paid": [c[2] for c in canon],
                      "settled_at": pa.array([c[3] for c in canon], pa.string())})
    e.load_arrow("canon_claims_in", pa.RecordBatchReader.from_batches(table.schema, table.to_batches()))
    e.execute("CREATE TABLE canon_claims AS SELECT claim_id, CAST(total_amount AS DECIMAL(18,2)) "
              "AS total_amount, CAST(fund_paid AS DECIMAL(18,2)) AS fund_paid, "
              "CAST(settled_at AS TIMESTAMP) AS settled_at FROM canon_claims_in")
    e.execute("CREATE TABLE reversal_of AS SELECT 'X9' AS reversal_id, 'A1' AS claim_id")
    return e


def _two_rings_sharing_a_hub():
    groups, members, claims = [], [], []
    hub = "H_BIG"
    for ring, persons in (("a", ["P1", "P2", "P3", "P4"]), ("b", ["Q1", "Q2", "Q3"])):
        for k in range(2):
            gid = f"{ring}{k}"
            groups.append(("co_visit", gid, 0.9))
            for p in persons:
                members.append(("co_visit", gid, "person", p, "member", 1.0))
            members.append(("co_visit", gid, "provider", f"H_{ring}", None, 1.0))
            members.append(("co_visit", gid, "provider", hub, None, 0.2))
            claims.append(("co_visit", gid, f"{ring.upper()}{k + 1}"))
    # the hub is also in many unrelated single groups
    for k in range(30):
        groups.append(("card_burst", f"noise{k:02d}", 0.2))
        members.append(("card_burst", f"noise{k:02d}", "provider", hub, None, 1.0))
        members.append(("card_burst", f"noise{k:02d}", "person", f"Z{k:02d}", None, 1.0))
    members.append(("co_visit", "a0", "staff", "S1", "insider", 1.0))
    canon = [("A1", 100, 60, "2024-03-01 10:00:00"), ("A2", 50, 30, "2024-03-08 10:00:00"),
             ("B1", 10, 6, "2024-04-01 10:00:00"), ("B2", 10, 6, "2024-04-02 10:00:00"),
             ("X9", -100, -60, "2024-03-02 10:00:00")]
    return groups, members, claims, canon


def test_hub_does_not_hold_rings_together():
    e = _engine_with(*_two_rings_sharing_a_hub())
    rings = build_rings(e, load_config(None)["rings"], seed=0)
    by_person = {m["id"]: r for r in rings for m in r.members if m["kind"] == "person"}
    assert by_person["P1"].ring_id != by_person["Q1"].ring_id
    ra, rb = by_person["P1"], by_person["Q1"]
    assert {m["id"] for m in ra.members if m["kind"] == "person"} == {"P1", "P2", "P3", "P4"}
    assert not any(m["id"] == "H_BIG" for r in (ra, rb) for m in r.members)
    # amounts: A1 was reversed by X9, so ring a's fund is A2's only
    assert ra.fund_paid == pytest.approx(30.0) and ra.claims == 2
    assert rb.fund_paid == pytest.approx(12.0)
    roles = {m["id"]: m["role"] for m in ra.members}
    assert roles["S1"] == "insider"
    assert all(m["reason"] and m["reason_en"] for m in ra.members)
    assert ra.ring_id == ring_id([(m["kind"], m["id"]) for m in ra.members])
    ents = entity_scores(e, rings)
    assert all(0 <= x["score"] <= 1 for x in ents)
    assert [x["score"] for x in ents] == sorted((x["score"] for x in ents), reverse=True)


def test_ring_id_is_stable():
    a = ring_id([("person", "P1"), ("provider", "H1")])
    assert a == ring_id([("provider", "H1"), ("person", "P1"), ("person", "P1")])
    assert a != ring_id([("person", "P1"), ("provider", "H2")])
    assert a.startswith("R-") and len(a) == 10


def test_critical_member_is_the_bridge():
    groups = [("co_visit", "g1", 0.9), ("co_visit", "g2", 0.9)]
    members = [("co_visit", "g1", "person", p, None, 1.0) for p in ("A", "B", "BRIDGE")]
    members += [("co_visit", "g2", "person", p, None, 1.0) for p in ("BRIDGE", "C", "D")]
    e = _engine_with(groups, members, [], [("A1", 1, 1, "2024-01-01 00:00:00")])
    rings = build_rings(e, {**load_config(None)["rings"], "resolution": 0.1}, seed=0)
    assert len(rings) == 1
    critical = {m["id"] for m in rings[0].members if m["critical"]}
    assert critical == {"BRIDGE"}


SEED = 17


@pytest.fixture(scope="module")
def synth_input(tmp_path_factory) -> Path:
    from graphfraud.synth import SynthConfig, generate

    src = tmp_path_factory.mktemp("det") / "in"
    src.mkdir()
    generate(src, SynthConfig(persons=3000, months=3, seed=SEED))
    return src


def test_two_runs_give_the_same_bytes(tmp_path, synth_input):
    analyze(synth_input, tmp_path / "a")
    analyze(synth_input, tmp_path / "b")
    for name in ("rings.json", "entities.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert json.loads((tmp_path / "a" / "rings.json").read_text(encoding="utf-8"))["rings"]


def test_shuffled_rows_give_the_same_rings(tmp_path, synth_input):
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for f in synth_input.iterdir():
        if f.suffix != ".csv":
            continue
        with open(f, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        body = rows[1:]
        random.Random(SEED).shuffle(body)
        with open(shuffled / f.name, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([rows[0]] + body)
    analyze(synth_input, tmp_path / "a")
    analyze(shuffled, tmp_path / "b")
    a = (tmp_path / "a" / "rings.json").read_bytes()
    b = (tmp_path / "b" / "rings.json").read_bytes()
    assert a == b


def test_known_cases_rank_neighbours(tmp_path, synth_input):
    truth = json.loads((synth_input / "truth.json").read_text(encoding="utf-8"))
    ring = truth["rings"][0]
    persons = [m["id"] for m in ring["members"] if m["kind"] == "person"]
    known = tmp_path / "known.csv"
    known.write_text("kind,id\n" + f"person,{persons[0]}\n", encoding="utf-8")
    analyze(synth_input, tmp_path / "out", known=known)
    with open(tmp_path / "out" / "entities.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    prox = {(r["kind"], r["id"]): float(r["known_proximity"]) for r in rows}
    assert prox[("person", persons[0])] == 1.0
    rings = json.loads((tmp_path / "out" / "rings.json").read_text(encoding="utf-8"))["rings"]
    assert all("known_proximity" in r for r in rings)


def test_known_file_errors_name_the_row(tmp_path):
    from graphfraud.errors import InputError
    from graphfraud.known import read_known

    bad = tmp_path / "k.csv"
    bad.write_text("kind,id\nperson,P1\nalien,X\ncard,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_known(bad)
    assert "row 3: kind 'alien'" in str(err.value) and "row 4: the id is empty" in str(err.value)
    (tmp_path / "h.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(InputError, match="header 'kind,id'"):
        read_known(tmp_path / "h.csv")


def test_calibration_maps_raw_scores_and_keeps_their_order():
    from graphfraud.rings import calibrate

    knots = [[0.4, 0.5], [0.8, 0.9], [0.97, 0.95]]
    assert calibrate(0.6, []) == 0.6  # no knots: the raw score
    assert calibrate(0.2, knots) == pytest.approx(0.25)  # from 0 to the first knot
    assert calibrate(0.6, knots) == pytest.approx(0.7)
    assert calibrate(0.99, knots) == 0.95
    raws = [i / 100 for i in range(101)]
    cal = [calibrate(r, knots) for r in raws]
    assert all(b >= a for a, b in zip(cal, cal[1:]))


def test_ring_scores_are_calibrated_and_the_raw_score_kept():
    groups, members, claims, canon = _two_rings_sharing_a_hub()
    cfg = load_config(None)["rings"]
    cfg["calibration"] = [[0.5, 0.4], [0.99, 0.6]]
    e = _engine_with(groups, members, claims, canon)
    rings = build_rings(e, cfg, seed=0)
    for r in rings:
        j = r.to_json()
        assert 0.4 <= j["score"] <= 0.6 < j["score_raw"]


def test_fitted_calibration_is_monotone_and_smoothed():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from calibrate import fit

    pooled = [(0.2, False), (0.25, True), (0.6, True), (0.6, True), (0.62, False),
              (0.85, True)] + [(0.96, True)] * 20 + [(0.97, False)] * 3
    knots = fit(pooled)
    ys = [y for _, y in knots]
    assert all(b > a for a, b in zip(ys, ys[1:]))  # strictly increasing
    assert ys[0] == pytest.approx(0.5)  # one right, one wrong, smoothed: (1 + 1) / (2 + 2)
    assert ys[-1] < 21 / 23 + 1e-9  # never 1: smoothed with a wrong pseudo-ring
