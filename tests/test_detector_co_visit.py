"""co_visit: a broker's crews are caught, each on its own even when one person goes with both;
dialysis cohorts, a nursing home, a family, a village market, a group check-up and a daily
visitor who meets everyone are left alone."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from detectorkit import claim, on_synth, person_groups, run_detector

DAY0 = dt.date(2024, 1, 1)
DAYS = 180
CLINIC, PHARMACY, HOSPITAL = "H33010100001", "P33010100002", "H33010100003"
DIALYSIS, HOME_CLINIC, MARKET, CHECKUP = "H33010100004", "H33010100005", "H33010100006", "H33010100007"
ORDINARY = [CLINIC, PHARMACY, HOSPITAL, "H33010100008", "P33010100009"]
HOME = "江州市江口市杨坪镇杨坪镇敬老院"
FAMILY_HOME = "江州市江口市杨坪镇和平村12号"


def _at(person: str, provider: str, day: int, minute: int = 0, **extra: str) -> dict:
    when = dt.datetime.combine(DAY0 + dt.timedelta(day), dt.time(9)) + dt.timedelta(minutes=minute)
    return claim(person, provider, when, **extra)


def side_by_side() -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    """Two crews and every look-alike in one city; returns claims, persons and the answers."""
    rng = random.Random(11)
    claims: list[dict] = []
    persons: list[dict] = []
    answer: dict[str, set[str]] = {"crew1": set(), "crew2": set(), "crew1_claims": set()}

    def person(pid: str, address: str | None = None) -> str:
        persons.append({"person_id": pid, **({"address": address} if address else {})})
        return pid

    # the background: 80 people seeing the ordinary places about twice a month
    for k in range(80):
        pid = person(f"N{k:03d}", f"江州市江口市某街{k}号")
        for _ in range(12):
            claims.append(_at(pid, rng.choice(ORDINARY), rng.randrange(DAYS), rng.randrange(480)))
    # crew 1: broker B1 and five recruits, to two of three places together, 8 trips;
    # LINK goes along on 7 of them (and on every trip of crew 2)
    crew1 = [person("B1")] + [person(f"R{k}") for k in range(1, 6)]
    trips1 = [(5, [CLINIC, PHARMACY]), (19, [HOSPITAL]), (33, [CLINIC, HOSPITAL]), (47, [PHARMACY]),
              (61, [CLINIC, PHARMACY]), (75, [HOSPITAL, PHARMACY]), (96, [CLINIC]), (110, [HOSPITAL])]
    link = person("LINK")
    for t, (day, places) in enumerate(trips1):
        go = [p for i, p in enumerate(crew1) if i == 0 or (i + t) % 5]  # recruits miss one in five
        go += [link] if t != 3 else []
        for j, place in enumerate(places):
            for m, pid in enumerate(go):
                c = _at(pid, place, day, 60 * j + 3 * m, doctor_id="D330101000001")
                claims.append(c)
                if pid in crew1:
                    answer["crew1_claims"].add(c["claim_id"])
    answer["crew1"] = set(crew1)
    # crew 2: four recruits and their broker at two other places, on other days, with LINK
    crew2 = [person("B2")] + [person(f"Q{k}") for k in range(1, 4)]
    for t, day in enumerate([8, 22, 36, 50, 64, 78, 99, 113]):
        for j, place in enumerate([ORDINARY[3], ORDINARY[4]] if t % 2 else [ORDINARY[3]]):
            for m, pid in enumerate(crew2 + [link]):
                if m == 0 or (m + t) % 4:
                    claims.append(_at(pid, place, day, 90 * j + 4 * m))
    answer["crew2"] = set(crew2)
    # dialysis: six patients at one unit Mon/Wed/Fri, and to the pharmacy together monthly
    for k in range(6):
        pid = person(f"DIA{k}", f"江州市江口市北街{k}号")
        for d in range(DAYS):
            if (DAY0 + dt.timedelta(d)).weekday() in (0, 2, 4):
                claims.append(_at(pid, DIALYSIS, d, 5 * k, diagnosis_code="N18.500"))
            if d % 30 == 2 and k < 4:
                claims.append(_at(pid, PHARMACY, d, 300 + k))
    # a nursing home: eight residents seen by their clinic every ten days, to the pharmacy monthly
    for k in range(8):
        pid = person(f"NH{k}", HOME)
        for d in range(3, DAYS, 10):
            if (d + k) % 4:
                claims.append(_at(pid, HOME_CLINIC, d, 5 * k))
            if d % 30 == 3 and k < 5:
                claims.append(_at(pid, PHARMACY, d + 1, 200 + k))
    # a family of four going to the clinic and the pharmacy together
    for k in range(4):
        pid = person(f"FAM{k}", FAMILY_HOME)
        for d in (12, 40, 70, 100, 130):
            claims.append(_at(pid, CLINIC, d, 400 + k))
            claims.append(_at(pid, PHARMACY, d, 430 + k))
    # a village clinic crowded on market days (every fifth day), 30 villagers, half each time
    villagers = [person(f"V{k:02d}", f"江州市江口市杨坪镇{k}村") for k in range(30)]
    for d in range(2, DAYS, 5):
        for m, pid in enumerate(rng.sample(villagers, 15)):
            claims.append(_at(pid, MARKET, d, 2 * m))
    # a company check-up: 25 people on one day, a few the next
    for k in range(25):
        pid = person(f"CHK{k}")
        claims.append(_at(pid, CHECKUP, 60 + (k >= 20), k, diagnosis_code="Z00.000"))
        claims.append(_at(pid, PHARMACY, 60 + (k >= 20), 200 + k))
    # a daily visitor: at the clinic and the pharmacy every day, meeting everybody
    hub = person("DAILY")
    for d in range(DAYS):
        claims.append(_at(hub, CLINIC, d, 470))
        claims.append(_at(hub, PHARMACY, d, 475))
    return claims, persons, answer


def test_crews_caught_hub_does_not_chain_them_lookalikes_cleared() -> None:
    claims, persons, answer = side_by_side()
    ev = run_detector("co_visit", claims=claims, persons=persons)
    groups = person_groups(ev)
    assert len(groups) == 2, groups
    g1 = next(g for g in groups.values() if "B1" in g)
    g2 = next(g for g in groups.values() if "B2" in g)
    assert g1 == answer["crew1"] | {"LINK"}
    assert g2 == answer["crew2"] | {"LINK"}
    # the broker went every time: named recruiter
    gid1 = next(gid for gid, g in groups.items() if "B1" in g)
    roles = {m["id"]: m["role"] for m in ev.members if m["group_id"] == gid1 and m["kind"] == "person"}
    assert roles["B1"] == "recruiter" and roles["R1"] == "member"
    assert gid1.startswith("co_visit:B1:2024-01-06")
    assert {m["id"] for m in ev.members if m["group_id"] == gid1 and m["kind"] == "provider"} == \
        {CLINIC, PHARMACY, HOSPITAL}
    claims1 = {c["claim_id"] for c in ev.claims if c["group_id"] == gid1}
    assert answer["crew1_claims"] <= claims1
    everyone = set().union(*groups.values())
    for lookalike in ("DIA", "NH", "FAM", "V", "CHK", "DAILY", "N0"):
        assert not any(p.startswith(lookalike) for p in everyone), lookalike
    group = next(g for g in ev.groups if g["group_id"] == gid1)
    # eight trips, twelve provider-days
    assert "7 人在 3 家机构同日就诊 12 次" in group["summary_zh"]
    assert "B1 到场 12 次" in group["summary_zh"]
    assert 0.5 < group["strength"] <= 1


def test_without_diagnoses_dialysis_is_one_place_without_addresses_family_is_not_cleared() -> None:
    claims, persons, answer = side_by_side()
    for c in claims:
        c.pop("diagnosis_code", None)
    ev = run_detector("co_visit", claims=claims, persons=persons)
    everyone = set().union(*person_groups(ev).values())
    assert answer["crew1"] <= everyone and answer["crew2"] <= everyone
    assert not any(p.startswith("DIA") for p in everyone)  # the unit's rhythm: one place
    # without the persons table nobody shares an address: the family going together to two
    # places is what a small crew looks like (a known limit), the nursing home is one clinic
    ev = run_detector("co_visit", claims=claims)
    everyone = set().union(*person_groups(ev).values())
    assert not any(p.startswith(("DIA", "NH", "V", "CHK", "DAILY")) for p in everyone)
    assert {f"FAM{k}" for k in range(4)} <= everyone


def test_needs_only_claims() -> None:
    ev = run_detector("co_visit", claims=[claim("A", "H33010100001", "2024-03-01")])
    assert ev.groups == [] and ev.report["skipped"] == []
    assert [r["detector"] for r in ev.report["run"]] == ["co_visit"]


def _crews(src: Path, truth: dict) -> dict[str, set[str]]:
    """Persons of each co_visit ring who made its outpatient and pharmacy claims (the crew; an
    induced_admission pool planted with it is another detector's)."""
    ids = {r["truth_id"]: set(r["claim_ids"]) for r in truth["rings"] if "co_visit" in r["patterns"]}
    crews: dict[str, set[str]] = {t: set() for t in ids}
    with open(src / "claims.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["visit_type"] != "inpatient":
                for t, claim_ids in ids.items():
                    if row["claim_id"] in claim_ids:
                        crews[t].add(row["person_id"])
    return crews


def test_synthetic_crews_found_lookalikes_left_alone(tmp_path: Path) -> None:
    seed = 7
    ev, truth = on_synth(["co_visit"], persons=20000, months=6, seed=seed, workdir=tmp_path)
    groups = person_groups(ev)
    crews = _crews(tmp_path / f"synth-20000-6-{seed}", truth)
    assert crews, f"seed {seed} plants co_visit rings"
    found = sum(any(len(c & g) >= 0.5 * len(c) for g in groups.values()) for c in crews.values())
    assert found >= 0.8 * len(crews), f"seed {seed}: found {found} of {len(crews)}"
    looks = [{m["id"] for m in lk["members"] if m["kind"] == "person"} for lk in truth["lookalikes"]]
    looks = [ps for ps in looks if len(ps) >= 2]
    flagged = sum(any(len(ps & g) >= min(0.5 * len(ps), 3) for g in groups.values()) for ps in looks)
    assert flagged == 0, f"seed {seed}: {flagged} of {len(looks)} look-alikes flagged"


def test_hub_finder_matches_removing_each_cut_vertex() -> None:
    """The block-cut tree sizes the parts a cut vertex leaves as deleting it would (seeds 0-199)."""
    import igraph as ig
    import numpy as np

    from graphfraud.detectors.visits import _chaining_hubs

    for seed in range(200):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(4, 40))
        g = ig.Graph(n=n, edges=rng.integers(0, n, (int(rng.integers(3, 60)), 2)).tolist())
        g.simplify()
        for comp in g.connected_components():
            sub = g.induced_subgraph(comp)
            for part in (1, 2, 3, 4):
                slow = []
                for v in sub.articulation_points():
                    rest = sub.copy()
                    rest.delete_vertices([v])
                    if sum(len(c) >= part for c in rest.connected_components()) >= 2:
                        slow.append(v)
                assert sorted(_chaining_hubs(sub, part)) == sorted(slow), f"seed {seed}"


def test_same_groups_whatever_the_row_order() -> None:
    claims, persons, _ = side_by_side()
    first = run_detector("co_visit", claims=claims, persons=persons)
    random.Random(3).shuffle(claims)
    again = run_detector("co_visit", claims=claims, persons=persons)
    def rounded(ev):  # sums of floats may be added in another order
        return [{**g, "strength": round(g["strength"], 9)} for g in ev.groups], \
            [{**m, "weight": round(m["weight"], 9)} for m in ev.members], ev.claims
    assert rounded(first) == rounded(again)
