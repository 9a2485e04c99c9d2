"""insider_collusion: a reviewer of another region signing a provider's claims, and an
in-region reviewer signing a ring's claims, are caught; the ordinary reviewers of a region,
a one-person office and a reviewer covering a whole other region are not."""

from __future__ import annotations

import datetime as dt

from detectorkit import claim, on_synth, person_groups, run_detector, score_synth

RING = "H33120200003"
INSIDER = "YB3312210001"


def _approved(provider: str, staff: list[str], n: int, tag: str, *, start: int = 0,
              **kw) -> list[dict]:
    """``n`` claims of ``provider`` by persons ``<tag>0..9``, signed by ``staff`` in turn."""
    day0 = dt.datetime(2024, 1, 2, 9)
    return [claim(f"{tag}{i % 10}", provider, day0 + dt.timedelta(days=start + i, minutes=i),
                  claim_id=f"{tag}-{provider}-{i}", staff_id=staff[i % len(staff)], **kw)
            for i in range(n)]


def _staff(*ids: str) -> list[dict]:
    return [{"staff_id": s, "office": f"{s[2:8]}医疗保障服务中心", "region": s[2:8]} for s in ids]


OFFICE = ["YB3312020001", "YB3312020002", "YB3312020003"]   # district 331202


def test_out_of_region_reviewer_caught_assigned_reviewers_cleared():
    rows = []
    # district 331202: three reviewers sign their providers' claims in turn ...
    for prov in ("H33120200001", "H33120200002", "P33120200004"):
        rows += _approved(prov, OFFICE, 30, f"N{prov[-1]}")
    # ... and a reviewer of county 331221 signs 25 of the ring provider's claims
    rows += _approved(RING, OFFICE, 40, "ORD") + _approved(RING, [INSIDER], 25, "RING", start=60)
    for prov in ("H33122100001", "P33122100002"):
        rows += _approved(prov, [INSIDER, "YB3312210002"], 30, f"HOME{prov[-1]}")
    # a one-person office signs every claim of its county
    rows += _approved("H33122200001", ["YB3312220001"], 40, "ONE")
    rows += _approved("H33122200002", ["YB3312220001"], 30, "ONE")
    # a reviewer of 331223 covers the whole of county 331224 (a colleague on leave)
    for prov in ("H33122400001", "H33122400002", "H33122400003"):
        rows += _approved(prov, ["YB3312230001"], 25, f"COV{prov[-1]}")
    rows += _approved("H33122300001", ["YB3312230001", "YB3312230002"], 20, "OWN")
    staff = _staff(*OFFICE, INSIDER, "YB3312210002", "YB3312220001", "YB3312230001",
                   "YB3312230002")
    ev = run_detector("insider_collusion", claims=rows, staff=staff)
    assert [g["group_id"] for g in ev.groups] == [f"insider:{INSIDER}"]
    roles = {(m["kind"], m["id"]): m["role"] for m in ev.members}
    assert roles[("staff", INSIDER)] == "insider"
    assert ev.ids("provider") == {RING}
    assert ev.persons() == {f"RING{i}" for i in range(10)}
    assert ev.claim_ids() == {f"RING-{RING}-{i}" for i in range(25)}
    assert "25/65" in ev.groups[0]["summary_zh"]
    # without the staff table, each reviewer's region is where most of their approvals go
    ev = run_detector("insider_collusion", claims=rows)
    assert [g["group_id"] for g in ev.groups] == [f"insider:{INSIDER}"]


def test_in_region_insider_on_other_evidence_caught_ordinary_reviewers_cleared():
    dead = [{"person_id": f"DEAD{i}", "death_date": "2024-01-01"} for i in range(10)]
    dead += [{"person_id": f"GONE{i}", "death_date": "2024-01-01"} for i in range(10)]
    dead += [{"person_id": f"LOST{i}", "death_date": "2024-01-01"} for i in range(10)]
    rows = []
    # a clinic billing the dead; one reviewer of its own office signs nearly all of those
    rows += _approved("H33120200005", OFFICE, 30, "PAT")
    rows += _approved("H33120200005", [OFFICE[0]] * 11 + [OFFICE[1]], 25, "DEAD", start=40)
    # another clinic billing the dead, its claims signed by the office in turn
    rows += _approved("H33120200006", OFFICE, 30, "PAT")
    rows += _approved("H33120200006", OFFICE, 24, "GONE", start=40)
    # a one-person office signs everything of its county, the dead included
    rows += _approved("H33122200007", ["YB3312220001"], 30, "PAT")
    rows += _approved("H33122200007", ["YB3312220001"], 25, "LOST", start=40)
    ev = run_detector(["deceased_claim", "insider_collusion"], claims=rows, persons=dead,
                      staff=_staff(*OFFICE, "YB3312220001"))
    insiders = [g for g in ev.groups if g["group_id"].startswith("insider:")]
    assert [g["group_id"] for g in insiders] == [f"insider:{OFFICE[0]}"]
    mine = [m for m in ev.members if m["group_id"] == f"insider:{OFFICE[0]}"]
    assert {m["id"] for m in mine if m["kind"] == "person"} == {f"DEAD{i}" for i in range(10)}
    assert {m["id"] for m in mine if m["kind"] == "provider"} == {"H33120200005"}
    assert "deceased:H33120200005（23/25" in insiders[0]["summary_zh"]


def test_skipped_without_staff_ids():
    ev = run_detector("insider_collusion", claims=[claim("A", "H33120200001", "2024-03-01")])
    assert ev.groups == []
    assert ev.report["skipped"] == [{"detector": "insider_collusion",
                                     "reason": "claims.staff_id is empty or absent"}]


def test_on_synthetic_data(tmp_path):
    """Seeds 19 and 41, 20,000 persons, 6 months, run alone (no other evidence): the planted
    out-of-region reviewers are found, no look-alike group is flagged."""
    found, total, flagged = 0, 0, 0
    for seed in (19, 41):
        ev, truth = on_synth(["insider_collusion"], persons=20000, months=6, seed=seed,
                             workdir=tmp_path)
        groups = person_groups(ev)
        f, t, fl, _ = score_synth(ev, truth, "insider_collusion")
        found, total, flagged = found + f, total + t, flagged + fl
        assert len(groups) <= 2, f"seed {seed}: {sorted(groups)}"
    assert total >= 2 and found == total, f"seeds 19, 41: found {found} of {total}"
    assert flagged == 0, f"seeds 19, 41: {flagged} look-alike groups flagged"
