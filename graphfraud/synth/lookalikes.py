"""Legitimate look-alikes: groups that resemble rings but are honest care.

Each kind is a function registered in :data:`LOOKALIKES` with :func:`register`; a new kind
is one more decorated function and touches no other. A kind receives the :class:`Plan`, its
own random stream and the number of groups to make, and records each group with
:meth:`Plan.look`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from graphfraud.synth import catalog as C
from graphfraud.synth.background import diagnoses, weekday
from graphfraud.synth.batch import INP, OUT, PHA, Batch, G, build_claims, fund_share
from graphfraud.synth.catalog import CATALOG as CAT
from graphfraud.synth.plan import Plan
from graphfraud.synth.world import CLINIC, NO_DEATH, PHARMACY, S_L2, S_L3

Kind = Callable[[Plan, np.random.Generator, int], None]
#: kind name -> (function, groups per 100,000 persons; None: not scaled)
LOOKALIKES: dict[str, tuple[Kind, float | None]] = {}


def register(name: str, per_100k: float | None) -> Callable[[Kind], Kind]:
    """Register a look-alike kind under ``name``."""
    def deco(fn: Kind) -> Kind:
        LOOKALIKES[name] = (fn, per_100k)
        return fn
    return deco


def secs(day, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Settlement times on ``day`` (array) between hours ``lo`` and ``hi``, to the second."""
    day = np.asarray(day, np.int64)
    return day * 86400 + rng.integers(int(lo * 3600), int(hi * 3600), day.shape)


def queue(day: int, start_h: float, n: int, gap_s: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` settlements one after another from ``start_h`` with exponential gaps."""
    t = day * 86400 + int(start_h * 3600) + rng.integers(0, 600)
    return t + np.cumsum(rng.exponential(gap_s, n).astype(np.int64) + 20)


def doctors_of(p: Plan, provider: int, dept: str | None = None) -> np.ndarray:
    """Doctors of a provider, those of ``dept`` if it has any."""
    w = p.w
    s, n = int(w.prov["doc_start"][provider]), int(w.prov["doc_n"][provider])
    docs = np.arange(s, s + n)
    if dept is not None:
        d = docs[[w.doc_dept[i] == dept for i in docs]]
        if len(d):
            return d
    return docs


def single_drug(p: Plan, rng: np.random.Generator, person, provider: int, settled, item,
                pack, **kw) -> Batch:
    """Pharmacy claims of exactly one pack each, of drug ``item`` with pack ids ``pack``."""
    w = p.w
    b = build_claims(w, rng, person=person, provider=provider, vtype=PHA, settled=settled, **kw)
    n = b.n
    item = np.broadcast_to(np.asarray(item, np.int64), (n,))
    price = np.round(CAT.item_price[item] * w.prov["markup"][provider]).astype(np.int64)
    b.l = {"claim": np.arange(n), "item": item.copy(), "qty": np.ones(n, np.int64),
           "price": price, "amount": price.copy(), "trace": np.asarray(pack, np.int64)}
    b.c["total"] = price.copy()
    b.c["fund"] = fund_share(w, b.c, b.c["doctor"] >= 0, np.full(n, -1.0), rng)
    return b


def reverse(b: Batch, pids: np.ndarray, delay: np.ndarray) -> Batch:
    """Reversals (冲正) of planted claims ``b`` with planted ids ``pids``."""
    r = b.take(np.arange(b.n))
    r.c["settled"] = b.c["settled"] + delay
    r.c["total"], r.c["fund"] = -b.c["total"], -b.c["fund"]
    r.c["orig_pid"] = np.asarray(pids, np.int64)
    r.l["qty"], r.l["amount"] = -r.l["qty"], -r.l["amount"]
    return r


@register("dialysis", 3)
def dialysis(p: Plan, rng: np.random.Generator, count: int) -> None:
    """Haemodialysis cohorts: three sessions a week (Mon/Wed/Fri or Tue/Thu/Sat shifts)."""
    w = p.w
    for _ in range(count):
        h = p.provider(rng, w.prov["level"] >= 2, weight=w.prov["level"].astype(float))
        rec = p.look("dialysis")
        age = w.p["age"]
        pts = p.persons(rng, int(rng.integers(10, 26)), (age > 35) & (age < 82) & p.near(h, "district"))
        docs = doctors_of(p, h, "肾内科")
        days = np.arange(w.day0, w.day1)
        for i, pt in enumerate(pts):
            shift = np.isin(weekday(days), [0, 2, 4] if i % 2 else [1, 3, 5])
            start = w.day0 + int(rng.integers(0, 40)) if rng.random() < 0.3 else w.day0
            d = days[shift & (days >= start)]
            lo = 10.8 if rng.random() < 0.5 else 16.0
            settled = secs(d, lo, lo + 1.3, rng)
            doc = int(rng.choice(docs))
            p.add(build_claims(w, rng, person=np.full(len(d), pt), provider=h, vtype=OUT,
                               settled=settled, diag=CAT.diag("N18.500" if rng.random() < 0.6
                                                               else "Z49.100"),
                               doctor=doc, special=CAT.item("血液透析"), fund_ratio=0.88,
                               terminal=0, look=rec.index))
            rec.add("person", pt)
            rec.add("doctor", doc)
        rec.add("provider", h)


@register("nursing_home", 3)
def nursing_home(p: Plan, rng: np.random.Generator, count: int) -> None:
    """Residents of one address visited together by a clinic doctor; the odd joint admission."""
    w = p.w
    for _ in range(count):
        t = int(rng.integers(len(w.town_dist)))
        d = int(w.town_dist[t])
        clinic = p.provider(rng, (w.prov["town"] == t) & ((w.prov["type"] == CLINIC) |
                                                          (w.prov["level"] == 1)))
        home = (f"{w.town_name[t]}敬老院" if not w.dist_urban[d]
                else f"{w.dist_name[d]}{C.BRANDS[int(rng.integers(len(C.BRANDS)))]}养老院")
        addr = f"{C.CITY_NAME}{w.dist_name[d]}{w.town_name[t]}{home}"
        res = p.persons(rng, int(rng.integers(20, 61)), (w.p["age"] >= 68) & (w.p["dist"] == d))
        for r in res:
            w.p_addr[r] = addr
        rec = p.look("nursing_home")
        rec.add("person", res)
        rec.add("provider", clinic)
        rec.info["address"] = addr
        doc = int(rng.choice(doctors_of(p, clinic)))
        rec.add("doctor", doc)
        day = w.day0 + int(rng.integers(0, 10))
        gap = int(rng.integers(7, 15))
        while day < w.day1:
            k = rng.random(len(res)) < rng.uniform(0.3, 0.8)
            who = res[k]
            if len(who):
                st = queue(day, 9.0, len(who), 150, rng)
                p.add(build_claims(w, rng, person=who, provider=clinic, vtype=OUT, settled=st,
                                   diag=diagnoses(w, who, "out", rng), doctor=doc, terminal=0,
                                   look=rec.index))
            if rng.random() < 0.15:  # an outbreak: two or three admitted the same day
                who = rng.choice(res, min(len(res), int(rng.integers(2, 4))), replace=False)
                hosp = w.p["slots"][who[0], S_L2]
                los = rng.integers(5, 11, len(who))
                dis = day + los
                p.add(build_claims(w, rng, person=who, provider=hosp, vtype=INP,
                                   settled=secs(dis, 9, 16, rng), diag=CAT.diag("J18.900"),
                                   admit=np.full(len(who), day), discharge=dis, look=rec.index))
                rec.add("provider", hosp)
            day += gap + int(rng.integers(-1, 2))


@register("family_card", 500)
def family_card(p: Plan, rng: np.random.Generator, count: int) -> None:
    """家庭共济: a parent's card used for a child or an elder of the same household."""
    w = p.w
    role, age, hh = w.p["role"], w.p["age"], w.p["hh"]
    dependent = ((age < 14) | (age >= 75)) & ~p.used
    hhs = np.unique(hh[dependent])
    hhs = rng.permutation(hhs)[:count]
    members = np.flatnonzero(np.isin(hh, hhs))
    for h in np.sort(hhs):
        mem = members[hh[members] == h]
        adults = mem[np.isin(role[mem], (0, 1)) & (age[mem] >= 22) & (age[mem] < 62) & ~p.used[mem]]
        deps = mem[((age[mem] < 14) | (age[mem] >= 75)) & ~p.used[mem]]
        if len(adults) == 0 or len(deps) == 0:
            continue
        a = int(rng.choice(adults))
        card = w.p["card_ecert"][a] if w.p["card_ecert"][a] >= 0 else w.p["card_social"][a]
        rec = p.look("family_card")
        w.p["proxy_card"][deps] = card
        w.p["proxy_look"][deps] = rec.index
        p.used[deps] = True
        p.used[a] = True
        rec.add("person", deps)
        rec.add("person", a, "card holder")
        rec.add("card", card)


@register("chemotherapy", 4)
def chemotherapy(p: Plan, rng: np.random.Generator, count: int) -> None:
    """Cancer patients re-admitted every 14-21 days for chemotherapy (Z51.1) or radiotherapy."""
    w = p.w
    l3 = np.flatnonzero(w.prov["level"] == 3)
    for _ in range(count):
        h = int(rng.choice(l3))
        rec = p.look("chemotherapy")
        rec.add("provider", h)
        pts = p.persons(rng, int(rng.integers(5, 16)), (w.p["age"] > 38) & (w.p["age"] < 80))
        docs = doctors_of(p, h, "肿瘤科")
        for pt in pts:
            radio = rng.random() < 0.2
            cycle, los = int(rng.integers(14, 22)), rng.integers(2, 5 if not radio else 8, 12)
            adm = w.day0 + int(rng.integers(0, cycle)) + np.arange(12) * cycle + rng.integers(-1, 2, 12)
            adm = adm[: int(rng.integers(4, 9))]
            dis = adm + los[: len(adm)]
            doc = int(rng.choice(docs))
            dx = CAT.diag("Z51.000" if radio else "Z51.100")
            p.add(build_claims(w, rng, person=np.full(len(adm), pt), provider=h, vtype=INP,
                               settled=secs(dis, 9, 16.5, rng), admit=adm, discharge=dis,
                               diag=dx, doctor=doc, pool=G["chemo"], fund_ratio=0.8,
                               special=CAT.item("调强放射治疗") if radio else -1, look=rec.index))
            rec.add("person", pt)
            rec.add("doctor", doc)


@register("village_market", 5)
def village_market(p: Plan, rng: np.random.Generator, count: int) -> None:
    """A village clinic crowded on market days (every fifth day)."""
    w = p.w
    rural_clinic = (w.prov["type"] == CLINIC) & (w.prov["vil"] >= 0)
    for _ in range(count):
        c = p.provider(rng, rural_clinic)
        rec = p.look("village_market")
        rec.add("provider", c)
        pool = p.persons(rng, int(rng.integers(80, 220)), p.near(c, "town"))
        doc = int(rng.choice(doctors_of(p, c)))
        rec.add("doctor", doc)
        off = int(rng.integers(0, 5))
        seen: set[int] = set()
        for day in range(w.day0 + off, w.day1, 5):
            k = min(len(pool), int(rng.integers(15, 46)))
            who = rng.choice(pool, k, replace=False)
            st = queue(day, 7.2, k, 240, rng)
            p.add(build_claims(w, rng, person=who, provider=c, vtype=OUT, settled=st,
                               diag=diagnoses(w, who, "out", rng), doctor=doc, terminal=0,
                               look=rec.index))
            seen.update(int(x) for x in who)
        rec.add("person", np.array(sorted(seen), np.int64))


@register("group_checkup", 6)
def group_checkup(p: Plan, rng: np.random.Generator, count: int) -> None:
    """A company or school sends 20-60 people for a check-up on one or two days."""
    w = p.w
    for _ in range(count):
        h = p.provider(rng, w.prov["level"] >= 2)
        rec = p.look("group_checkup")
        rec.add("provider", h)
        age = w.p["age"]
        staff = p.persons(rng, int(rng.integers(20, 61)), (age >= 20) & (age < 58) &
                          p.near(h, "district"), weight=np.ones(w.n))
        day = w.day0 + int(rng.integers(0, max(1, w.day1 - w.day0 - 3)))
        while weekday(day) >= 5:
            day += 1
        split = rng.random(len(staff)) < (0.5 if rng.random() < 0.4 else 0.0)
        docs = rng.choice(doctors_of(p, h), 2)
        for k, grp in enumerate((staff[~split], staff[split])):
            if len(grp):
                st = queue(day + k, 7.6, len(grp), 70, rng)
                p.add(build_claims(w, rng, person=grp, provider=h, vtype=OUT, settled=st,
                                   diag=CAT.diag("Z00.000"), doctor=docs[rng.integers(0, 2, len(grp))],
                                   look=rec.index))
        rec.add("person", staff)
        rec.add("doctor", docs)


@register("dual_channel", 2)
def dual_channel(p: Plan, rng: np.random.Generator, count: int) -> None:
    """双通道: a designated pharmacy filling level-3 oncologists' e-prescriptions city-wide."""
    w = p.w
    onc = np.array([i for i in range(len(w.doc_code)) if w.doc_dept[i] == "肿瘤科"
                    and w.prov["level"][w.doc["prov"][i]] == 3])
    cancers = np.array([CAT.diag(c) for c in ("C34.900", "C34.900", "C50.900", "C16.900",
                                              "C22.000")])
    for _ in range(count):
        ph = p.provider(rng, (w.prov["type"] == PHARMACY) & w.dist_urban[w.prov["dist"]],
                        fallback=w.prov["type"] == PHARMACY)
        w.prov["dual"][ph] = True
        rec = p.look("dual_channel")
        rec.add("provider", ph)
        docs = rng.choice(onc, min(len(onc), int(rng.integers(2, 7))), replace=False)
        pts = p.persons(rng, int(rng.integers(15, 51)), (w.p["age"] > 35) & (w.p["age"] < 82))
        for pt in pts:
            doc = int(rng.choice(docs))
            first = w.day0 + int(rng.integers(0, 60))
            days = first + np.cumsum(rng.integers(27, 33, 24)) - 28
            days = days[days < w.day1]
            p.add(build_claims(w, rng, person=np.full(len(days), pt), provider=ph, vtype=PHA,
                               settled=secs(days, 8.5, 18, rng), diag=int(rng.choice(cancers)),
                               doctor=doc, pool=G["onc_t"], qty_mult=0.4, fund_ratio=0.7,
                               presc=True, look=rec.index))
            rec.add("person", pt)
            rec.add("doctor", doc)


@register("returns", 8)
def returns(p: Plan, rng: np.random.Generator, count: int) -> None:
    """A traceable pack dispensed, returned (negative claim), then dispensed to someone else."""
    w = p.w
    traceable = np.flatnonzero(CAT.item_trace & CAT.item_is_drug & ~np.isin(
        np.arange(len(CAT.item_code)), CAT.drugs_in("chemo")))
    for _ in range(count):
        ph = p.provider(rng, w.prov["type"] == PHARMACY)
        rec = p.look("returns")
        rec.add("provider", ph)
        k = int(rng.integers(2, 7))
        who = p.persons(rng, 2 * k, p.near(ph, "district"))
        k = len(who) // 2
        if k == 0:
            continue
        a, b = who[:k], who[k:2 * k]
        item = rng.choice(traceable, k)
        pack = p.packs(k)
        d1 = rng.integers(w.day0, w.day1 - 14, k)
        first = single_drug(p, rng, a, ph, secs(d1, 8.5, 20, rng), item, pack, look=rec.index)
        pid = p.add(first)
        back = reverse(first, pid, rng.integers(600, 3 * 86400, k))
        p.add(back)
        again = single_drug(p, rng, b, ph, back.c["settled"] + rng.integers(86400, 10 * 86400, k),
                            item, pack, look=rec.index)
        p.add(again)
        rec.add("person", who[:2 * k])


@register("in_hospital_death", None)
def in_hospital_death(p: Plan, rng: np.random.Generator, count: int) -> None:
    """Deaths in hospital: the stay ends on the day of death, settled 1-5 days later."""
    w = p.w
    dead = np.flatnonzero(w.p["death_in_hospital"] & (w.p["death"] < NO_DEATH))
    for pt in dead:
        death = int(w.p["death"][pt])
        h = int(w.p["slots"][pt, S_L3 if rng.random() < 0.4 else S_L2])
        los = int(rng.integers(3, 21))
        settle = death + int(rng.integers(1, 6))
        if settle >= w.day1:
            continue
        rec = p.look("in_hospital_death")
        dx = diagnoses(w, np.array([pt]), "in", rng)
        p.add(build_claims(w, rng, person=[pt], provider=h, vtype=INP,
                           settled=secs([settle], 9, 16.5, rng), admit=death - los,
                           discharge=death, diag=dx, look=rec.index))
        rec.add("person", pt)
        rec.add("provider", h)


@register("rehab_therapy", 4)
def rehab_therapy(p: Plan, rng: np.random.Generator, count: int) -> None:
    """Post-stroke rehabilitation cohorts (added after the detectors were written, to measure
    them on a look-alike they were not built against): patients with stroke sequelae (I69.3)
    attending one hospital's rehabilitation department on weekday mornings for four to ten
    weeks, most of a cohort starting in the same week, seen by the department's doctors."""
    w = p.w
    for _ in range(count):
        h = p.provider(rng, w.prov["level"] >= 2)
        rec = p.look("rehab_therapy")
        rec.add("provider", h)
        age = w.p["age"]
        pts = p.persons(rng, int(rng.integers(8, 21)), (age > 50) & p.near(h, "district"))
        docs = doctors_of(p, h, "康复科")
        days = np.arange(w.day0, w.day1)
        weekdays = days[weekday(days) < 5]
        cohort = w.day0 + int(rng.integers(0, max(1, (w.day1 - w.day0) // 3)))
        for pt in pts:
            start = cohort + (int(rng.integers(0, 15)) if rng.random() < 0.3 else int(rng.integers(0, 3)))
            d = weekdays[(weekdays >= start) & (weekdays < start + int(rng.integers(28, 71)))]
            d = d[rng.random(len(d)) >= 0.08]  # missed sessions
            if len(d) == 0:
                continue
            doc = int(rng.choice(docs))
            p.add(build_claims(w, rng, person=np.full(len(d), pt), provider=h, vtype=OUT,
                               settled=secs(d, 8.5, 11.5, rng), diag=CAT.diag("I69.300"),
                               doctor=doc, fund_ratio=0.7, terminal=0, look=rec.index))
            rec.add("person", pt)
            rec.add("doctor", doc)


def plant_lookalikes(p: Plan, seed: int, factor: float) -> None:
    """Make every registered kind, each with its own random stream."""
    from graphfraud.synth.plan import stream

    for name, (fn, per) in LOOKALIKES.items():
        if per is None:
            count = 1
        elif factor <= 0:
            continue
        else:
            count = max(1, round(p.w.n / 100000 * per * factor))
        fn(p, stream(seed, "lookalike", name), count)
