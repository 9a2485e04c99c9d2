"""card_burst: a pharmacy swiping the same recruited cards in evening bursts is caught; a busy
hospital, a village clinic's market days, a group check-up, a nursing home's rounds, a dialysis
shift and a rehabilitation course, all in the same data, are not."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from detectorkit import claim, on_synth, run_detector

SEED = 7  # every random choice of the fixture; a failure names it
RING = "P33120100001"      # the pharmacy that swipes recruited cards
HOSPITAL = "H33120100002"  # a busy hospital
MARKET = "H33120100003"    # a village clinic crowded every fifth day (market day)
CHECKUP = "H33120100004"   # a company's check-up, one morning
HOME = "H33120100005"      # a clinic whose doctor visits a nursing home every ten days
DIALYSIS = "H33120100006"  # a dialysis shift, three times a week
REHAB = "H33120100007"     # a rehabilitation department: a stroke cohort every weekday morning
DAY0 = dt.datetime(2024, 3, 1)


def _at(day: int, minutes: float) -> dt.datetime:
    return DAY0 + dt.timedelta(days=day, minutes=minutes)


def _fixture() -> tuple[list[dict], list[dict], set[str]]:
    rnd = random.Random(SEED)
    claims: list[dict] = []
    persons: list[dict] = []
    ring_claims: set[str] = set()

    def add(person: str, provider: str, when: dt.datetime, terminal: str = "01",
            **kw: str) -> str:
        row = claim(person, provider, when, card_id="K" + person,
                    terminal_id=f"{provider}-{terminal}", **kw)
        claims.append(row)
        return row["claim_id"]

    def lives(person: str, address: str) -> None:
        persons.append({"person_id": person, "address": address})

    # the ring: 12 recruited cards, ten of them swiped within 20 minutes at 20:00 on 8 days,
    # at a pharmacy that otherwise sees a handful of its 80 regular customers a day
    ring = [f"R{i:02d}" for i in range(12)]
    for i, p in enumerate(ring):
        lives(p, f"江州市江城区东门路{i + 1}号")
    for day in range(60):
        for p in rnd.sample(range(80), 4):
            add(f"PC{p:02d}", RING, _at(day, rnd.uniform(8 * 60, 20 * 60)))
        if day % 7 == 3:
            for j, p in enumerate(rnd.sample(ring, 10)):
                ring_claims.add(add(p, RING, _at(day, 20 * 60 + 2 * j)))
    # a hospital: 200 patients a day from 8:00 to 17:00 (hundreds in any half hour at peak)
    for day in range(10):
        for k in range(200):
            add(f"HP{day}-{k}", HOSPITAL, _at(day, 8 * 60 + rnd.triangular(0, 540, 60)))
    # market days: thirty villagers of a pool of 150 queue from 7:00, one every 3 minutes;
    # on other days a few of them come at any hour
    for day in range(60):
        if day % 5 == 0:
            for j, p in enumerate(rnd.sample(range(150), 30)):
                add(f"V{p:03d}", MARKET, _at(day, 7 * 60 + 3 * j))
        else:
            for p in rnd.sample(range(150), 4):
                add(f"V{p:03d}", MARKET, _at(day, rnd.uniform(8 * 60, 18 * 60)))
    # a group check-up: forty employees in one morning at a quiet hospital
    for day in range(60):
        add(f"CQ{day % 30}", CHECKUP, _at(day, rnd.uniform(8 * 60, 17 * 60)))
    for j in range(40):
        add(f"EMP{j}", CHECKUP, _at(20, 7 * 60 + 30 + j), diagnosis_code="Z00.000")
    # a nursing home: its doctor sees 12-18 of its 25 residents every ten days from 9:00
    for r in range(25):
        lives(f"NH{r:02d}", "江州市江城区北岭街道 同济养老院")
    for day in range(0, 60, 10):
        for j, r in enumerate(rnd.sample(range(25), rnd.randint(12, 18))):
            add(f"NH{r:02d}", HOME, _at(day, 9 * 60 + 2.5 * j))
    for day in range(60):
        add(f"HC{day % 40}", HOME, _at(day, rnd.uniform(8 * 60, 17 * 60)))
    # dialysis: ten patients of one shift, Monday, Wednesday and Friday at 10:48
    for day in range(60):
        if _at(day, 0).weekday() in (0, 2, 4):
            for j in range(10):
                add(f"DX{j}", DIALYSIS, _at(day, 10 * 60 + 48 + 2 * j), diagnosis_code="N18.500")
    # rehabilitation: a quiet department where, from day 15 to day 50, a cohort of 16 stroke
    # patients (I69.3, not among the explained diagnoses) comes every weekday from 8:30, one
    # every three minutes or so; a few other patients come on any day
    for day in range(60):
        for p in rnd.sample(range(40), 3):
            add(f"RO{p:02d}", REHAB, _at(day, rnd.uniform(8 * 60, 17 * 60)))
        if 15 <= day < 50 and _at(day, 0).weekday() < 5:
            for j, r in enumerate(rnd.sample(range(16), rnd.randint(13, 16))):
                add(f"RH{r:02d}", REHAB, _at(day, 8 * 60 + 30 + 3 * j + rnd.uniform(0, 2)),
                    diagnosis_code="I69.300")
    return claims, persons, ring_claims


def test_recruited_cards_caught_crowds_rounds_and_shifts_cleared() -> None:
    claims, persons, ring_claims = _fixture()
    ev = run_detector("card_burst", claims=claims, persons=persons)
    assert [g["group_id"] for g in ev.groups] == [f"card_burst:{RING}#{RING}-01"], SEED
    ring = {f"R{i:02d}" for i in range(12)}
    assert ev.persons() == ring
    assert ev.ids("card") == {"K" + p for p in ring}
    assert ev.ids("provider") == {RING}
    assert {m["role"] for m in ev.members if m["kind"] == "provider"} == {"organizer"}
    assert ev.claim_ids() == ring_claims
    stats = json.loads(ev.groups[0]["stats"])
    assert stats["burst_days"] == stats["ring_days"] == 9 and stats["peak_cards"] == 10
    assert stats["recurrence_lift"] >= 2
    assert "9 天出现集中刷卡" in ev.groups[0]["summary_zh"]


def test_treatment_schedules_cleared_by_their_shape_without_the_diagnosis_list() -> None:
    # dialysis and rehabilitation fill the same hours day after day: a level, not a spike
    claims, persons, ring_claims = _fixture()
    ev = run_detector("card_burst", claims=claims, persons=persons,
                      config={"explained_diagnoses": []})
    assert [g["group_id"] for g in ev.groups] == [f"card_burst:{RING}#{RING}-01"]
    assert ev.claim_ids() == ring_claims


def test_the_rehabilitation_course_is_a_burst_for_the_places_yearly_typical_count() -> None:
    # without the neighbouring-days test its mornings are bursts of the same cards: the
    # fixture really tests what clears it
    claims, persons, _ = _fixture()
    ev = run_detector("card_burst", claims=claims, persons=persons, config={"local_days": 0})
    assert f"card_burst:{REHAB}#{REHAB}-01" in [g["group_id"] for g in ev.groups]


def test_without_terminals_the_place_is_the_provider() -> None:
    claims, persons, ring_claims = _fixture()
    for row in claims:
        del row["terminal_id"]
    ev = run_detector("card_burst", claims=claims, persons=persons)
    assert [g["group_id"] for g in ev.groups] == [f"card_burst:{RING}"]
    assert ev.claim_ids() == ring_claims


def test_without_addresses_a_nursing_home_round_looks_like_a_ring() -> None:
    # the known limit: residents' shared address is what tells their rounds from a ring
    claims, _, _ = _fixture()
    ev = run_detector("card_burst", claims=claims)
    assert [g["group_id"] for g in ev.groups] == [f"card_burst:{HOME}#{HOME}-01",
                                                 f"card_burst:{RING}#{RING}-01"]


def test_skipped_without_card_ids() -> None:
    ev = run_detector("card_burst", claims=[claim("A", RING, "2024-03-01 10:00")])
    assert ev.groups == []
    assert ev.report["skipped"] == [{"detector": "card_burst",
                                     "reason": "claims.card_id is empty or absent"}]


def test_synthetic_rings_found_lookalikes_left_alone(tmp_path: Path) -> None:
    from graphfraud.synth import SynthConfig, generate

    seed, persons, months = 31, 10000, 6  # development seeds are 1-99
    src = tmp_path / f"synth-{persons}-{months}-{seed}"
    src.mkdir()
    generate(src, SynthConfig(persons=persons, months=months, seed=seed, lookalikes=3.0,
                              mix={"shared_card": 4, "card_burst": 4, "co_visit": 1}))
    ev, truth = on_synth(["card_burst"], persons=persons, months=months, seed=seed,
                         workdir=tmp_path)
    groups: dict[str, set[str]] = {}
    for m in ev.members:
        if m["kind"] == "person":
            groups.setdefault(m["group_id"], set()).add(m["id"])

    def caught(ids: set[str]) -> bool:
        return any(len(ids & g) >= 0.5 * len(ids) for g in groups.values())

    rings = [{m["id"] for m in r["members"] if m["kind"] == "person"}
             for r in truth["rings"] if "card_burst" in r["patterns"]]
    found = sum(caught(r) for r in rings)
    assert rings and found >= 0.75 * len(rings), f"seed {seed}: {found}/{len(rings)}"
    crowds = [(x["kind"], {m["id"] for m in x["members"] if m["kind"] == "person"},
               {m["id"] for m in x["members"] if m["kind"] == "provider"})
              for x in truth["lookalikes"]
              if x["kind"] in ("village_market", "group_checkup", "nursing_home", "dialysis")]
    assert {k for k, _, _ in crowds} == {"village_market", "group_checkup", "nursing_home",
                                         "dialysis"}
    # not a ring of theirs, and not even a group at their place
    places = {m["id"] for m in ev.members if m["kind"] == "provider"}
    flagged = [k for k, ps, pv in crowds if caught(ps) or pv & places]
    assert not flagged, f"seed {seed}: {flagged}"
