"""readmission: a hospital splitting stays is caught; chemotherapy and radiotherapy cycles
(and the stays that follow a cycle), emergency and transfer re-admissions, and the last stays
of the dying are not."""

from __future__ import annotations

import datetime as dt
import random

from detectorkit import claim, on_synth, person_groups, run_detector, score_synth

DAY0 = dt.date(2024, 1, 1)
DAYS = 180
RING = "H33120700001"      # splits stays: discharge, re-admit a few days later
CHEMO = "H33120800001"     # oncology: Z51.1 chemotherapy every 18 days, Z51.0 radiotherapy,
                           # and neutropenia stays days after a cycle
URGENT = "H33120900001"    # emergency and transfer re-admissions
HOSPICE = "H33121000001"   # patients re-admitted in their last days
OTHERS = [f"H3312110000{k}" for k in range(1, 5)]
RING_DOC = "D331207000001"


def _stay(person: str, provider: str, day: int, los: int, *, dx: str = "J44.100",
          doctor: str | None = None, visit_type: str = "inpatient") -> dict:
    admit, discharge = DAY0 + dt.timedelta(day), DAY0 + dt.timedelta(day + los)
    return claim(person, provider, f"{discharge} 15:00", visit_type=visit_type, total=8000,
                 admit_date=str(admit), discharge_date=str(discharge), diagnosis_code=dx,
                 doctor_id=doctor)


def _city() -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    rng = random.Random(5)
    claims: list[dict] = []
    persons: list[dict] = []
    answer: dict[str, set[str]] = {"ring": set(), "claims": set(), "ordinary_readmitted": set()}
    seq = iter(range(1, 10**6))
    # ordinary stays everywhere; about one in thirty is followed by an honest re-admission
    for provider, per_day in [(RING, 0.6), (CHEMO, 1.0), (URGENT, 0.5), (HOSPICE, 0.5)] + \
            [(h, 0.7) for h in OTHERS]:
        for d in range(DAYS - 30):
            if rng.random() < per_day:
                pid = f"O{next(seq):05d}"
                persons.append({"person_id": pid})
                los = rng.randint(4, 12)
                claims.append(_stay(pid, provider, d, los, dx="I63.900"))
                if rng.random() < 1 / 30:
                    back = d + los + rng.randint(1, 15)
                    claims.append(_stay(pid, provider, back, 5, dx="I63.900"))
                    if provider == RING:
                        answer["ordinary_readmitted"].add(pid)
    # the ring: eight patients, each discharged and re-admitted twice within days
    for k in range(8):
        pid = f"R{k}"
        persons.append({"person_id": pid})
        day = rng.randint(0, 120)
        for _ in range(3):
            c = _stay(pid, RING, day, 6, doctor=RING_DOC)
            claims.append(c)
            answer["ring"].add(pid)
            answer["claims"].add(c["claim_id"])
            day += 6 + rng.randint(2, 5)
    # chemotherapy every 18 days (three-day stays), radiotherapy courses a week apart
    for k in range(8):
        pid = f"C{k}"
        persons.append({"person_id": pid})
        for cycle in range(8):
            claims.append(_stay(pid, CHEMO, 5 + k + 18 * cycle, 3, dx="Z51.100"))
    for k in range(4):
        pid = f"RT{k}"
        persons.append({"person_id": pid})
        for course in range(6):
            claims.append(_stay(pid, CHEMO, 10 + k + 14 * course, 7, dx="Z51.0"))
    # after a chemotherapy cycle, back for its side effects (neutropenia): the stay follows a
    # planned cycle, so it is not a split stay
    for k in range(8):
        pid = f"N{k}"
        persons.append({"person_id": pid})
        for cycle in range(2):
            claims.append(_stay(pid, CHEMO, 20 + 9 * k + 40 * cycle, 3, dx="Z51.100"))
            claims.append(_stay(pid, CHEMO, 20 + 9 * k + 40 * cycle + 7, 5, dx="D70.x00"))
    # back within days, but as an emergency (急诊住院) or a transfer (转院住院)
    for k in range(12):
        pid = f"U{k}"
        persons.append({"person_id": pid})
        day = 10 + 12 * k
        claims.append(_stay(pid, URGENT, day, 7))
        claims.append(_stay(pid, URGENT, day + 7 + 3, 8, visit_type="急诊住院" if k < 8 else "转院住院"))
    # the dying: re-admitted days after discharge, and died in that stay or soon after
    for k in range(12):
        pid = f"D{k}"
        day = 10 + 10 * k
        claims.append(_stay(pid, HOSPICE, day, 9, dx="C34.900"))
        claims.append(_stay(pid, HOSPICE, day + 13, 6, dx="C34.900"))
        persons.append({"person_id": pid, "death_date": str(DAY0 + dt.timedelta(day + 19 + k % 3))})
    return claims, persons, answer


def test_split_stays_caught_cycles_emergencies_transfers_and_dying_cleared():
    claims, persons, answer = _city()
    ev = run_detector("readmission", claims=claims, persons=persons)
    assert [g["group_id"] for g in ev.groups] == [f"readmission:{RING}"]
    assert answer["ring"] <= ev.persons()
    assert ev.persons() - answer["ring"] <= answer["ordinary_readmitted"]
    assert answer["claims"] <= ev.claim_ids()
    assert RING_DOC in ev.ids("doctor") and ev.ids("provider") == {RING}
    g = ev.groups[0]
    assert "名患者出院后 15 天内在本机构再次入院共" in g["summary_zh"]
    assert "x the rate over all providers" in g["summary_en"]
    assert 0 < g["strength"] <= 1


def test_each_exclusion_is_what_clears_its_look_alike():
    claims, persons, _ = _city()
    ev = run_detector("readmission", claims=claims, persons=persons,
                      config={"excluded_diagnoses": []})
    assert CHEMO in ev.ids("provider")
    # without death dates, the last stays of the dying look like split stays
    alive = [{"person_id": p["person_id"]} for p in persons]
    ev = run_detector("readmission", claims=claims, persons=alive)
    assert HOSPICE in ev.ids("provider") and CHEMO not in ev.ids("provider")
    # emergency and transfer re-admissions count once they are plain inpatient stays
    plain = [dict(c, visit_type="inpatient") for c in claims]
    ev = run_detector("readmission", claims=plain, persons=persons)
    assert URGENT in ev.ids("provider")


def test_skipped_without_admit_dates():
    claims = [claim("A", "H33120100001", "2024-03-10 10:00", visit_type="inpatient",
                    discharge_date="2024-03-10", total=5000)]
    ev = run_detector("readmission", claims=claims)
    assert ev.groups == []
    assert ev.report["skipped"] == [{"detector": "readmission",
                                     "reason": "claims.admit_date is empty or absent"}]


def test_synthetic_rings_found_lookalikes_left_alone(tmp_path):
    ev, truth = on_synth(["readmission"], persons=20000, months=6, seed=3, workdir=tmp_path)
    groups = person_groups(ev)
    found, total, flagged, looks = score_synth(ev, truth, "readmission")
    assert total, "seed 3 plants readmission rings"
    assert found >= 0.8 * total, f"seed 3: found {found} of {total}"
    assert flagged <= 0.05 * looks, f"seed 3: {flagged} of {looks} look-alikes flagged"
    chemo = [lk for lk in truth["lookalikes"] if lk["kind"] == "chemotherapy"]
    chemo_providers = {m["id"] for lk in chemo for m in lk["members"] if m["kind"] == "provider"}
    assert not chemo_providers & {g.split(":", 1)[1] for g in groups}
