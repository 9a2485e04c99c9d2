"""shared_card: a card lent to strangers and a person on recruited cards are caught; a parent's
card used for a child and a grandparent (家庭共济) is not."""

from __future__ import annotations

import json
from pathlib import Path

from detectorkit import claim, on_synth, run_detector

PHARMACY = "P33120100001"
CLINIC = "H33120100002"


def _fixture() -> tuple[list[dict], list[dict], dict[str, list[str]]]:
    claims: list[dict] = []
    persons: list[dict] = []
    proof: dict[str, list[str]] = {"lent": [], "holder": []}

    def add(person: str, provider: str, when: str, card: str, group: str | None = None) -> None:
        row = claim(person, provider, when, card_id=card)
        claims.append(row)
        if group:
            proof[group].append(row["claim_id"])

    # the ring's card: the owner's card read under five more unrelated person ids
    lent = ["LOWN", "LU1", "LU2", "LU3", "LU4", "LU5"]
    for i, p in enumerate(lent):
        persons.append({"person_id": p, "address": f"江州市江城区东门路{10 + i}号"})
        for k in range(3):
            add(p, PHARMACY, f"2024-0{k + 1}-{10 + i} 10:00", "KLENT", "lent")
    # the look-alike: a parent's e-credential pays for a child and a grandparent (same address);
    # the child also has her own social card, e-credential and id number: four cards in all
    family = {"FPARENT": ["KFAM"], "FCHILD": ["KFAM", "CS1", "CE1", "CI1"], "FGRAN": ["KFAM"]}
    for p, cards in family.items():
        persons.append({"person_id": p, "address": "江州市江城区 幸福路1号"})  # spacing differs
        for k, card in enumerate(cards):
            add(p, CLINIC, f"2024-02-0{k + 1} 09:30", card)
    # one person id on six recruited cards, whose owners also use them
    persons.append({"person_id": "HOLDER", "address": "江州市江城区南门路8号"})
    add("HOLDER", PHARMACY, "2024-01-02 15:00", "KHOLDER")
    for i in range(6):
        owner, card = f"OWN{i}", f"KOWN{i}"
        persons.append({"person_id": owner, "address": f"江州市云岭县{i}村{i}号"})
        add(owner, CLINIC, f"2024-01-0{i + 1} 08:00", card)
        for k in range(2):
            add("HOLDER", PHARMACY, f"2024-0{k + 3}-1{i} 16:00", card, "holder")
    return claims, persons, proof


def test_lent_card_and_card_holder_caught_family_mutual_aid_cleared() -> None:
    claims, persons, proof = _fixture()
    ev = run_detector("shared_card", claims=claims, persons=persons)
    assert [g["group_id"] for g in ev.groups] == ["shared_card:card:KLENT",
                                                 "shared_card:person:HOLDER"]
    by = {g["group_id"]: g for g in ev.groups}
    members = {(m["group_id"], m["kind"], m["id"]): m for m in ev.members}
    # the lent card: its six persons of six households, every claim on it
    lent = {m["id"] for m in ev.members if m["group_id"] == "shared_card:card:KLENT"
            and m["kind"] == "person"}
    assert lent == {"LOWN", "LU1", "LU2", "LU3", "LU4", "LU5"}
    assert {c["claim_id"] for c in ev.claims if c["group_id"].endswith("KLENT")} == set(proof["lent"])
    assert "6 个不同人员编号" in by["shared_card:card:KLENT"]["summary_zh"]
    # the holder: organizer; the cards' owners are members; the holder's claims on them
    g = "shared_card:person:HOLDER"
    assert members[(g, "person", "HOLDER")]["role"] == "organizer"
    assert {m["id"] for m in ev.members if m["group_id"] == g and m["role"] == "member"} == \
        {f"OWN{i}" for i in range(6)}
    assert {m["id"] for m in ev.members if m["group_id"] == g and m["kind"] == "card"} == \
        {"KHOLDER"} | {f"KOWN{i}" for i in range(6)}
    held = {c["claim_id"] for c in ev.claims if c["group_id"] == g}
    assert set(proof["holder"]) <= held and len(held) == len(proof["holder"]) + 1
    stats = json.loads(by[g]["stats"])
    assert stats["cards"] == 7 and stats["cards_of_others"] == 6 and stats["other_persons"] == 6
    assert all(0 <= m["weight"] <= 1 for m in ev.members)
    # the family: neither the parent's card nor the child's four cards
    assert not ev.persons() & {"FPARENT", "FCHILD", "FGRAN"}


def test_without_addresses_small_groups_are_presumed_families() -> None:
    claims, _, _ = _fixture()
    ev = run_detector("shared_card", claims=claims)
    # six persons on one card is more than a family; the family's three is not
    assert [g["group_id"] for g in ev.groups] == ["shared_card:card:KLENT",
                                                 "shared_card:person:HOLDER"]
    assert all("无人员住址信息" in g["summary_zh"] and "no addresses" in g["summary_en"]
               for g in ev.groups)
    assert not ev.persons() & {"FPARENT", "FCHILD", "FGRAN"}


def test_skipped_without_card_ids() -> None:
    ev = run_detector("shared_card", claims=[claim("A", PHARMACY, "2024-03-01")])
    assert ev.groups == []
    assert ev.report["skipped"] == [{"detector": "shared_card",
                                     "reason": "claims.card_id is empty or absent"}]


def _generate(tmp: Path, persons: int, months: int, seed: int) -> None:
    """More rings of both card patterns than the default mix plants (on_synth reuses it)."""
    from graphfraud.synth import SynthConfig, generate

    src = tmp / f"synth-{persons}-{months}-{seed}"
    src.mkdir(parents=True)
    generate(src, SynthConfig(persons=persons, months=months, seed=seed, lookalikes=3.0,
                              mix={"shared_card": 4, "card_burst": 4, "co_visit": 1}))


def test_synthetic_rings_found_families_left_alone(tmp_path: Path) -> None:
    seed = 31  # development seeds are 1-99; a failure names this one
    _generate(tmp_path, 10000, 6, seed)
    ev, truth = on_synth(["shared_card"], persons=10000, months=6, seed=seed, workdir=tmp_path)
    groups: dict[str, set[str]] = {}
    for m in ev.members:
        if m["kind"] == "person":
            groups.setdefault(m["group_id"], set()).add(m["id"])

    def caught(persons: set[str]) -> bool:
        return any(len(persons & g) >= 0.5 * len(persons) for g in groups.values())

    rings = [{m["id"] for m in r["members"] if m["kind"] == "person"}
             for r in truth["rings"] if "shared_card" in r["patterns"]]
    found = sum(caught(r) for r in rings)
    assert rings and found >= 0.75 * len(rings), f"seed {seed}: {found}/{len(rings)} rings"
    families = [{m["id"] for m in x["members"] if m["kind"] == "person"}
                for x in truth["lookalikes"] if x["kind"] == "family_card"]
    flagged = sum(caught(f) for f in families)
    assert len(families) >= 50 and flagged <= 0.02 * len(families), f"seed {seed}: {flagged}"
