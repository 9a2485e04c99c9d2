"""induced_admission: recurring waves of recruited elderly admitted together are caught; a big
hospital's daily dozens, a city-wide flu week, a nursing home's joint admissions and two
bus crashes (emergency admissions) are not."""

from __future__ import annotations

import datetime as dt
import math
import random

from detectorkit import claim, on_synth, run_detector, score_synth

DAY0 = dt.date(2024, 1, 1)
DAYS = 120
RING = "H33120200001"       # a private level-2 hospital running the scheme
BIG = "H33120300001"        # a level-3 hospital admitting dozens a day
SMALL = [f"H3312040000{k}" for k in range(1, 6)]  # ordinary small hospitals
NURSING = "H33120500001"    # the hospital a nursing home sends its residents to
CRASH = "H33120600001"      # a hospital receiving two bus crashes (emergency admissions)
RING_DOC = "D331202000001"
WAVE_DAYS = (10, 40, 70, 100)
FLU = range(50, 57)         # a city-wide flu week: every provider admits FLU_X times as many
FLU_X = 5


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: Knuth's method, a normal approximation above a mean of 30."""
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


def _stay(person: str, provider: str, day: int, los: int, *, doctor: str | None = None,
          visit_type: str = "inpatient", with_admit: bool = True) -> dict:
    admit, discharge = DAY0 + dt.timedelta(day), DAY0 + dt.timedelta(day + los)
    return claim(person, provider, f"{discharge} 10:30", visit_type=visit_type, total=6000,
                 admit_date=str(admit) if with_admit else None, discharge_date=str(discharge),
                 doctor_id=doctor)


def _city(with_admit: bool = True) -> tuple[list[dict], list[dict], dict[str, set[str]]]:
    """Claims, persons, and the answer: ring pool, ring claim ids, ordinary patients of RING
    admitted on wave days (who may appear beside the recruits)."""
    rng = random.Random(11)
    claims: list[dict] = []
    persons: list[dict] = []
    seq = iter(range(1, 10**6))
    answer: dict[str, set[str]] = {"pool": set(), "claims": set(), "ordinary_on_wave_days": set()}

    def ordinary(provider: str, lam: float, prefix: str, birth: str = "1975-06-01") -> None:
        for d in range(DAYS):
            for _ in range(_poisson(rng, lam * (FLU_X if d in FLU else 1))):
                pid = f"{prefix}{next(seq):05d}"
                persons.append({"person_id": pid, "birth_date": birth})
                claims.append(_stay(pid, provider, d, rng.randint(3, 12),
                                    doctor=f"D3312{rng.randint(10000000, 10000009)}",
                                    with_admit=with_admit))
                if provider == RING and d in WAVE_DAYS:
                    answer["ordinary_on_wave_days"].add(pid)

    ordinary(RING, 0.8, "O")
    ordinary(BIG, 35.0, "B")
    for h in SMALL:
        ordinary(h, 1.0, "S")
    ordinary(NURSING, 0.5, "N")
    ordinary(CRASH, 0.5, "X")
    # the ring: a pool of 16 elderly villagers, 11-13 of them admitted together each month,
    # mostly by one doctor, for eight days (nine for a few)
    pool = [f"V{k:03d}" for k in range(16)]
    persons += [{"person_id": p, "birth_date": "1948-03-01"} for p in pool]
    for day in WAVE_DAYS:
        for i, p in enumerate(rng.sample(pool, rng.randint(11, 13))):
            doc = RING_DOC if i % 5 else "D331202000002"
            c = _stay(p, RING, day, 9 if i % 6 == 0 else 8, doctor=doc, with_admit=with_admit)
            claims.append(c)
            answer["pool"].add(p)
            answer["claims"].add(c["claim_id"])
    # a nursing home: two or three residents admitted together now and then
    residents = [f"NH{k:02d}" for k in range(20)]
    persons += [{"person_id": p, "birth_date": "1938-01-01", "address": "江州市敬老院"}
                for p in residents]
    for day in (15, 33, 61, 88, 104):
        for p in rng.sample(residents, rng.randint(2, 3)):
            claims.append(_stay(p, NURSING, day, 7, with_admit=with_admit))
    # two bus crashes: a dozen emergency admissions each, at one hospital
    for day in (30, 95):
        for k in range(12):
            pid = f"CR{day}{k:02d}"
            persons.append({"person_id": pid, "birth_date": "1980-01-01"})
            claims.append(_stay(pid, CRASH, day, 6, visit_type="急诊住院", with_admit=with_admit))
    return claims, persons, answer


def test_waves_caught_big_hospital_flu_nursing_home_and_crashes_cleared():
    claims, persons, answer = _city()
    ev = run_detector("induced_admission", claims=claims, persons=persons)
    assert [g["group_id"] for g in ev.groups] == [f"induced_admission:{RING}"]
    # the recruits, and at most the few ordinary patients admitted on the wave days
    assert answer["pool"] <= ev.persons()
    assert ev.persons() - answer["pool"] <= answer["ordinary_on_wave_days"]
    assert answer["claims"] <= ev.claim_ids()
    roles = {(m["kind"], m["id"]): m["role"] for m in ev.members}
    assert roles[("provider", RING)] == "organizer"
    assert roles[("doctor", RING_DOC)] == "insider"
    assert ev.ids("provider") == {RING}
    g = ev.groups[0]
    assert "共 4 次集中入院" in g["summary_zh"] and "老年人" in g["summary_zh"]
    assert "4 waves of same-day admissions" in g["summary_en"]
    assert 0.5 < g["strength"] <= 1


def test_single_flu_and_crash_days_are_not_waves():
    # even counting single waves (min_wave_days=1): flu-week days at small hospitals reach
    # eight times their ordinary level (one a day), but the whole city is up fivefold that week;
    # the crashes are emergencies; the nursing home's joint admissions are two or three
    claims, persons, _ = _city()
    flu = [c for c in claims if c["provider_id"] in SMALL and
           DAY0 + dt.timedelta(FLU.start) <= dt.date.fromisoformat(c["admit_date"])
           < DAY0 + dt.timedelta(FLU.stop)]
    by_day: dict[tuple[str, str], int] = {}
    for c in flu:
        key = (c["provider_id"], c["admit_date"])
        by_day[key] = by_day.get(key, 0) + 1
    assert max(by_day.values()) >= 8 * 1.0, max(by_day.values())
    ev = run_detector("induced_admission", claims=claims, persons=persons,
                      config={"min_wave_days": 1})
    assert ev.ids("provider") == {RING}


def test_without_admit_date_waves_of_discharges_are_used():
    claims, persons, answer = _city(with_admit=False)
    ev = run_detector("induced_admission", claims=claims, persons=persons)
    assert [g["group_id"] for g in ev.groups] == [f"induced_admission:{RING}"]
    assert answer["pool"] <= ev.persons()
    assert "出院结算" in ev.groups[0]["summary_zh"]
    assert "discharges" in ev.groups[0]["summary_en"]


def test_synthetic_rings_found_lookalikes_left_alone(tmp_path):
    ev, truth = on_synth(["induced_admission"], persons=20000, months=6, seed=2, workdir=tmp_path)
    found, total, flagged, looks = score_synth(ev, truth, "induced_admission")
    assert total, "seed 2 plants induced_admission rings"
    assert found >= 0.8 * total, f"seed 2: found {found} of {total}"
    assert flagged <= 0.05 * looks, f"seed 2: {flagged} of {looks} look-alikes flagged"
