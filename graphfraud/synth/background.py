"""Ordinary life, one month at a time: outpatient visits, pharmacy purchases, inpatient stays.

Each person has monthly rates of outpatient visits, inpatient admissions and pharmacy
purchases (set in :mod:`graphfraud.synth.world`: higher for the elderly and the chronically
ill, with a gamma-distributed individual factor; about one claim per person per month on
average). Visits go mostly to the person's usual providers near home; a few go anywhere in
the city. Nobody makes a claim after death.
"""

from __future__ import annotations

import numpy as np

from graphfraud.synth.batch import INP, OUT, PHA, Batch, G, build_claims, pick_doctor, time_of_day
from graphfraud.synth.catalog import CATALOG as CAT
from graphfraud.synth.world import (CLINIC, PHARMACY, S_ALT, S_L1, S_L2, S_L3, S_PH1, S_PH2, S_PH3,
                                    S_PRIMARY, World, age_band)

_WEEK = {OUT: [1, 1, 1, 1, 1, 0.7, 0.5], PHA: [1, 1, 1, 1, 1.05, 1.1, 1.1],
         INP: [1, 1, 1, 1, 1.1, 0.6, 0.45]}
_OUT_SLOTS = np.array([S_PRIMARY, S_L1, S_L2, S_L3, S_ALT, -1])
_OUT_P = {False: [0.40, 0.21, 0.17, 0.14, 0.05, 0.03], True: [0.28, 0.18, 0.18, 0.28, 0.05, 0.03]}
_IN_SLOTS = np.array([S_L1, S_L2, S_L3, S_ALT])
_IN_P = {False: [0.22, 0.42, 0.28, 0.08], True: [0.10, 0.35, 0.47, 0.08]}
_PH_SLOTS = np.array([S_PH1, S_PH2, S_PH3, -1])
_PH_P = [0.6, 0.22, 0.13, 0.05]


def weekday(day: np.ndarray | int) -> np.ndarray:
    """0 = Monday (1970-01-01 was a Thursday)."""
    return (np.asarray(day) + 3) % 7


def sample_days(d0: int, d1: int, vtype: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` days in ``[d0, d1)`` with the weekly rhythm of a visit type."""
    days = np.arange(d0, d1)
    wt = np.array(_WEEK[vtype])[weekday(days)]
    return rng.choice(days, n, p=wt / wt.sum())


def _slot_choice(w: World, person: np.ndarray, slots: np.ndarray, probs: dict | list,
                 rng: np.random.Generator, anywhere: np.ndarray) -> np.ndarray:
    n = len(person)
    if isinstance(probs, dict):
        urban = w.dist_urban[w.p["dist"][person]]
        cum = np.where(urban[:, None], np.cumsum(probs[True]), np.cumsum(probs[False]))
    else:
        cum = np.broadcast_to(np.cumsum(probs), (n, len(probs)))
    k = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(slots) - 1)
    s = slots[k]
    prov = w.p["slots"][person, np.maximum(s, 0)]
    return np.where(s >= 0, prov, anywhere[rng.integers(0, len(anywhere), n)])


def diagnoses(w: World, person: np.ndarray, setting: str, rng: np.random.Generator) -> np.ndarray:
    """Main diagnosis of visits by age band; chronic patients mostly for their condition."""
    n = len(person)
    band = age_band(w.p["age"][person])
    wt = (CAT.w_out if setting == "out" else CAT.w_in)[:, band].T
    cum = np.cumsum(wt, axis=1)
    dx = (cum < (rng.random(n) * cum[:, -1])[:, None]).sum(axis=1)
    chronic = w.p["chronic"][person]
    codes = np.array(CAT.diag_code)
    if setting == "out":
        dx = np.where((chronic >= 0) & (rng.random(n) < 0.55), chronic, dx)
    else:
        onc = (chronic >= 0) & (CAT.diag_group[np.maximum(chronic, 0)] == G["onc"])
        dx = np.where(onc & (rng.random(n) < 0.6),
                      np.where(rng.random(n) < 0.6, CAT.diag("Z51.100"), chronic), dx)
        dx = np.where((codes[dx] == "O80.000") & (w.p["male"][person] | (band != 1)),
                      CAT.diag("J18.900"), dx)
    return dx.astype(np.int64)


def _proxy(w: World, b: Batch, rng: np.random.Generator) -> None:
    """Family sharing (家庭共济): a child's or elder's claims paid with a parent's card."""
    pc = w.p["proxy_card"][b.c["person"]]
    use = (pc >= 0) & (rng.random(b.n) < 0.8)
    b.c["card"] = np.where(use, pc, b.c["card"])
    b.c["look"] = np.where(use, w.p["proxy_look"][b.c["person"]], b.c["look"]).astype(np.int32)


def background_month(w: World, m: int, rng: np.random.Generator) -> Batch:
    """Ordinary claims of month ``m``, unsorted."""
    d0, d1 = int(w.month_starts[m]), int(w.month_starts[m + 1])
    frac = (d1 - d0) / 30.4
    counts = rng.poisson(w.p["rate"] * frac)
    death = w.p["death"]
    ptype = w.prov["type"]
    hosp_or_clinic = np.flatnonzero(ptype != PHARMACY)
    pharmacies = np.flatnonzero(ptype == PHARMACY)
    batches = []
    # outpatient visits
    person = np.repeat(np.arange(w.n), counts[:, 0])
    day = sample_days(d0, d1, OUT, len(person), rng)
    keep = day < death[person]
    person, day = person[keep], day[keep]
    prov = _slot_choice(w, person, _OUT_SLOTS, _OUT_P, rng, hosp_or_clinic)
    vt = np.full(len(person), OUT, np.int8)
    settled = day * 86400 + time_of_day(vt, ptype[prov], rng)
    batches.append(build_claims(w, rng, person=person, provider=prov, vtype=OUT, settled=settled,
                                diag=diagnoses(w, person, "out", rng)))
    # pharmacy purchases, some on an e-prescription from a doctor of a hospital nearby
    person = np.repeat(np.arange(w.n), counts[:, 2])
    day = sample_days(d0, d1, PHA, len(person), rng)
    keep = day < death[person]
    person, day = person[keep], day[keep]
    prov = _slot_choice(w, person, _PH_SLOTS, _PH_P, rng, pharmacies)
    n = len(person)
    presc = rng.random(n) < 0.22
    hs = np.array([S_L1, S_L2, S_L3])[rng.choice(3, n, p=[0.4, 0.35, 0.25])]
    doc = np.where(presc, pick_doctor(w, w.p["slots"][person, hs], rng), -1)
    presc &= doc >= 0
    chronic = w.p["chronic"][person]
    diag = np.where(presc, diagnoses(w, person, "out", rng), -1)
    pool = np.where(~presc & (chronic >= 0) & (rng.random(n) < 0.6),
                    CAT.diag_group[np.maximum(chronic, 0)], np.where(presc, -1, G["otc"]))
    vt = np.full(n, PHA, np.int8)
    settled = day * 86400 + time_of_day(vt, ptype[prov], rng)
    batches.append(build_claims(w, rng, person=person, provider=prov, vtype=PHA, settled=settled,
                                diag=diag, doctor=doc, pool=pool, presc=presc))
    # inpatient stays, settled on the discharge day
    person = np.repeat(np.arange(w.n), counts[:, 1])
    dis = sample_days(d0, d1, INP, len(person), rng)
    keep = dis < death[person]
    person, dis = person[keep], dis[keep]
    prov = _slot_choice(w, person, _IN_SLOTS, _IN_P, rng, hosp_or_clinic)
    prov = np.where(ptype[prov] == CLINIC, w.p["slots"][person, S_L2], prov)
    diag = diagnoses(w, person, "in", rng)
    los = np.clip(np.round(np.maximum(CAT.los[diag], 3) * rng.lognormal(0, 0.35, len(person))),
                  2, 20).astype(np.int64)
    vt = np.full(len(person), INP, np.int8)
    settled = dis * 86400 + time_of_day(vt, ptype[prov], rng)
    batches.append(build_claims(w, rng, person=person, provider=prov, vtype=INP, settled=settled,
                                diag=diag, admit=dis - los, discharge=dis))
    if w.cfg.big_hospital_daily > 0:
        batches.append(_big_hospital(w, d0, d1, rng))
    b = Batch.concat(batches)
    _proxy(w, b, rng)
    return b


def big_hospital(w: World) -> int:
    """The level-3 hospital that carries the load-test traffic (the largest one)."""
    l3 = np.flatnonzero(w.prov["level"] == 3)
    return int(l3[np.argmax(w.prov["size"][l3])])


def _big_hospital(w: World, d0: int, d1: int, rng: np.random.Generator) -> Batch:
    """``big_hospital_daily`` distinct patients a day at one level-3 hospital."""
    h = big_hospital(w)
    k = min(w.cfg.big_hospital_daily, w.n // 2)
    wt = w.p["rate"][:, 0] + 0.05
    persons, days = [], []
    for day in range(d0, d1):
        key = np.log(rng.random(w.n)) / np.where(w.p["death"] > day, wt, 1e-12)
        persons.append(np.sort(np.argpartition(-key, k - 1)[:k]))  # weighted, no repeats
        days.append(np.full(k, day))
    person, all_days = np.concatenate(persons), np.concatenate(days)
    vt = np.full(len(person), OUT, np.int8)
    settled = all_days * 86400 + time_of_day(vt, np.zeros(len(person), np.int8), rng)
    return build_claims(w, rng, person=person, provider=h, vtype=OUT, settled=settled,
                        diag=diagnoses(w, person, "out", rng))
