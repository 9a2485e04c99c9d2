"""How each contract pattern is planted.

A planter ``fn(p, rng, rec, s, ctx)`` adds claims to the plan and members to the ring
record ``rec``; ``s`` in (0, 1] is the ring's strength (weak rings sit near the detection
limit: few, loose, spread-out events; strong ones are blatant). ``ctx`` is shared by the
patterns of one ring, so that a second pattern reuses the first one's provider and persons
(``ctx["batches"]`` holds the ring's claim batches, which ``insider_collusion`` signs).

Camouflage comes for free: ring persons are drawn from the population (weighted by how
often they see a doctor, as recruiters prefer regular patients) and keep their ordinary
lives; ring providers are ordinary providers with ordinary patients. Planted claims are
priced by the same code as every other claim.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from graphfraud.synth.background import diagnoses
from graphfraud.synth.batch import FRESH, INP, OUT, PHA, Batch, G, build_claims
from graphfraud.synth.catalog import CATALOG as CAT
from graphfraud.synth.lookalikes import doctors_of, queue, secs, single_drug
from graphfraud.synth.plan import Plan, Record
from graphfraud.synth.world import CLINIC, HOSPITAL, PHARMACY

Planter = Callable[[Plan, np.random.Generator, Record, float, dict], None]
PLANTERS: dict[str, Planter] = {}


def planter(name: str) -> Callable[[Planter], Planter]:
    """Register the planter of a pattern."""
    def deco(fn: Planter) -> Planter:
        PLANTERS[name] = fn
        return fn
    return deco


def put(p: Plan, ctx: dict, b: Batch) -> np.ndarray:
    """Add ring claims to the plan and remember the batch for a second pattern."""
    pids = p.add(b)
    ctx.setdefault("batches", []).append(p.batches[-1])
    return pids


def _months(p: Plan) -> list[tuple[int, int]]:
    ms = p.w.month_starts
    return [(int(ms[i]), int(ms[i + 1])) for i in range(len(ms) - 1)]


def _pool_of(w, person: np.ndarray) -> np.ndarray:
    """Drug pool of a person's purchases: the chronic condition's, else over the counter."""
    ch = w.p["chronic"][person]
    return np.where(ch >= 0, CAT.diag_group[np.maximum(ch, 0)], G["otc"])


def _mixed_ring_provider(p: Plan, rng, kinds: tuple[str, ...]) -> int:
    w = p.w
    kind = kinds[int(rng.integers(len(kinds)))]
    where = {"pharmacy": w.prov["type"] == PHARMACY, "clinic": w.prov["type"] == CLINIC,
             "l1": w.prov["level"] == 1, "l2": w.prov["level"] == 2}[kind]
    return p.provider(rng, where & ~w.prov["dual"])


@planter("card_burst")
def card_burst(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """A pharmacy or clinic swiping many recruited cards within minutes on one terminal."""
    w = p.w
    prov = ctx.get("provider")
    if prov is None:
        prov = _mixed_ring_provider(p, rng, ("pharmacy", "pharmacy", "pharmacy", "clinic"))
    ctx["provider"] = prov
    n = int(rng.integers(10, 61))
    who = p.persons(rng, n, p.near(prov, "district") & (w.p["age"] >= 35))
    card = np.where(rng.random(len(who)) < 0.85, w.p["card_social"][who], w.p["card_idno"][who])
    term = int(rng.integers(0, w.prov["terminals"][prov]))
    is_ph = w.prov["type"][prov] == PHARMACY
    doc = -1 if is_ph else int(rng.choice(doctors_of(p, prov)))
    per_month = 1 + round(s * 4)
    for d0, d1 in _months(p):
        for _ in range(per_month):
            day = int(rng.integers(d0, d1))
            k = int(rng.integers(max(5, len(who) // 4), max(6, int(len(who) * (0.5 + 0.4 * s))) + 1))
            k = min(k, len(who))
            pick = rng.choice(len(who), k, replace=False)
            hour = float(rng.choice([19.6, 20.5, 21.2, 12.3, 15.1])) + rng.random() * 0.5
            st = queue(day, hour, k, 40 + (1 - s) * 200, rng)
            term_k = np.where(rng.random(k) < 0.9, term, rng.integers(0, w.prov["terminals"][prov], k))
            put(p, ctx, build_claims(
                w, rng, person=who[pick], provider=prov, vtype=PHA if is_ph else OUT, settled=st,
                card=card[pick], terminal=term_k, doctor=doc,
                diag=-1 if is_ph else diagnoses(w, who[pick], "out", rng),
                pool=_pool_of(w, who[pick]) if is_ph else -1, qty_mult=1 + 0.5 * s,
                ring=rec.index))
    rec.add("provider", prov, "organizer")
    rec.add("person", who)
    rec.add("card", card)
    if doc >= 0:
        rec.add("doctor", doc)
    rec.describe(f"{len(who)} recruited cards swiped in bursts, {per_month}x a month")


@planter("shared_card")
def shared_card(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """One card used under several unrelated person ids, or one person on many cards."""
    w = p.w
    prov = ctx.get("provider")
    if prov is None:
        prov = _mixed_ring_provider(p, rng, ("pharmacy", "pharmacy", "clinic"))
    ctx["provider"] = prov
    near = p.near(prov, "district")
    is_ph = w.prov["type"][prov] == PHARMACY
    vt = PHA if is_ph else OUT
    if rng.random() < 0.5:  # one card, many persons
        owner = p.persons(rng, 1, near & (w.p["age"] > 30))
        users = p.persons(rng, 4 + int(rng.integers(0, 3 + round(4 * s))), near)
        e = w.p["card_ecert"][owner[0]]
        card = int(e if e >= 0 and rng.random() < 0.5 else w.p["card_social"][owner[0]])
        for d0, d1 in _months(p):
            k = rng.poisson(0.6 + 2 * s, len(users))
            who = np.repeat(users, k)
            put(p, ctx, build_claims(w, rng, person=who, provider=prov, vtype=vt,
                                     settled=secs(rng.integers(d0, d1, len(who)), 8, 20, rng),
                                     card=card, diag=-1 if is_ph else diagnoses(w, who, "out", rng),
                                     pool=_pool_of(w, who) if is_ph else -1, ring=rec.index))
        rec.add("person", owner, "organizer")
        rec.add("person", users)
        rec.add("card", card)
        rec.describe(f"one card used under {len(users)} unrelated person ids")
    else:  # one person, many recruited cards
        holder = p.persons(rng, 1, near & (w.p["age"] > 30))
        owners = p.persons(rng, 5 + int(rng.integers(0, 4 + round(7 * s))), near)
        cards = w.p["card_social"][owners]
        for d0, d1 in _months(p):
            m = int(rng.poisson(2 + 6 * s))
            c = cards[rng.integers(0, len(cards), m)]
            who = np.full(m, holder[0])
            put(p, ctx, build_claims(w, rng, person=who, provider=prov, vtype=vt,
                                     settled=secs(rng.integers(d0, d1, m), 8, 20, rng), card=c,
                                     diag=-1 if is_ph else diagnoses(w, who, "out", rng),
                                     pool=_pool_of(w, who) if is_ph else -1, ring=rec.index))
        rec.add("person", holder, "organizer")
        rec.add("person", owners)
        rec.add("card", cards)
        rec.describe(f"one person id on {len(cards)} recruited cards")
    rec.add("provider", prov)


@planter("co_visit")
def co_visit(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """A broker takes 5-20 recruited persons to the same 2-5 providers, again and again."""
    w = p.w
    d = int(rng.integers(len(w.dist_code)))
    in_d = w.p["dist"] == d
    broker = p.persons(rng, 1, in_d & (w.p["age"] > 30) & (w.p["age"] < 66))
    towns = rng.choice(np.unique(w.p["town"][in_d]), 2)
    crew = p.persons(rng, int(rng.integers(5, 21)), np.isin(w.p["town"], towns))
    kinds = ("clinic", "l1", "l2", "pharmacy", "clinic", "l1")
    provs = []
    for _ in range(int(rng.integers(2, 6))):
        kind = kinds[int(rng.integers(len(kinds)))]
        where = {"pharmacy": w.prov["type"] == PHARMACY, "clinic": w.prov["type"] == CLINIC,
                 "l1": w.prov["level"] == 1, "l2": w.prov["level"] == 2}[kind]
        provs.append(p.provider(rng, where & (w.prov["dist"] == d) & ~w.prov["dual"],
                                fallback=where & ~w.prov["dual"]))
    docs = {pv: (int(rng.choice(doctors_of(p, pv))) if w.prov["doc_n"][pv] else -1) for pv in provs}
    group = np.concatenate([broker, crew])
    trips = 1 + round(s * 3)
    for d0, d1 in _months(p):
        for _ in range(trips):
            day = int(rng.integers(d0, d1))
            go = group[rng.random(len(group)) < 0.45 + 0.5 * s]
            if len(go) < 2:
                continue
            for j, pv in enumerate(rng.choice(provs, min(len(provs), 1 + int(rng.random() < 0.5)),
                                              replace=False)):
                is_ph = w.prov["type"][pv] == PHARMACY
                st = queue(day, (9.0, 14.5)[j] + rng.random(), len(go), 60 + (1 - s) * 400, rng)
                doc = np.where(rng.random(len(go)) < 0.8, docs[pv], -1) if not is_ph else -1
                if not is_ph and docs[pv] >= 0:
                    doc = np.where(doc < 0, int(rng.choice(doctors_of(p, pv))), doc)
                put(p, ctx, build_claims(
                    w, rng, person=rng.permutation(go), provider=pv, vtype=PHA if is_ph else OUT,
                    settled=st, doctor=doc, diag=-1 if is_ph else diagnoses(w, go, "out", rng),
                    pool=_pool_of(w, go) if is_ph else -1, ring=rec.index))
    rec.add("person", broker, "organizer")
    rec.add("person", crew)
    rec.add("provider", provs)
    rec.add("doctor", [v for v in docs.values() if v >= 0])
    ctx["persons"] = crew
    hosp = [pv for pv in provs if w.prov["type"][pv] == HOSPITAL]
    ctx["provider"] = hosp[0] if hosp else provs[0]
    rec.describe(f"broker and {len(crew)} recruits visit {len(provs)} providers "
                 f"together, {trips}x a month")


@planter("induced_admission")
def induced_admission(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """Monthly waves of recruited elderly villagers admitted the same day, similar stays."""
    w = p.w
    h = ctx.get("provider")
    if h is None or w.prov["type"][h] != HOSPITAL or w.prov["level"][h] == 3:
        pv = w.prov
        wt = np.where(pv["public"], 1.0, 3.0)
        h = p.provider(rng, (pv["type"] == HOSPITAL) & np.isin(pv["level"], (1, 2)), weight=wt)
    rural = ~w.dist_urban[w.p["dist"]]
    same = w.p["dist"] == w.prov["dist"][h]
    area = same & rural if (same & rural).sum() > 200 else rural
    vils = rng.choice(np.unique(w.p["vil"][area]), int(rng.integers(1, 4)))
    elder = w.p["age"] >= 58
    pool = p.persons(rng, int(rng.integers(10, 41)), elder & np.isin(w.p["vil"], vils))
    if len(pool) < 8:
        pool = np.concatenate([pool, p.persons(rng, 10 - len(pool), elder & area)])
    pool = np.concatenate([pool, ctx.get("persons", np.zeros(0, np.int64))])
    docs = rng.choice(doctors_of(p, h), int(rng.integers(1, 4)))
    every = 1 if s >= 0.35 else 2
    base = int(rng.integers(6, 12))
    spread = 0 if s > 0.6 else (1 if s > 0.3 else 2)
    day = w.day0 + int(rng.integers(0, 20))
    waves = 0
    while day < w.day1 - base - 3:
        k = min(len(pool), int(rng.integers(8, 31)))
        who = rng.choice(pool, k, replace=False)
        adm = day + rng.integers(0, spread + 1, k)
        los = base + rng.integers(-1 - spread, 2 + spread, k)
        dis = adm + np.maximum(los, 3)
        dx = diagnoses(w, who, "in", rng)
        dx = np.where(CAT.diag_group[dx] == G["chemo"], CAT.diag("I63.900"), dx)
        put(p, ctx, build_claims(w, rng, person=who, provider=h, vtype=INP,
                                 settled=secs(dis, 9, 16.5, rng), admit=adm, discharge=dis,
                                 diag=dx, doctor=docs[rng.integers(0, len(docs), k)],
                                 ring=rec.index))
        waves += 1
        day += every * int(rng.integers(27, 35))
    rec.add("provider", h, "organizer")
    rec.add("person", pool)
    rec.add("doctor", docs)
    ctx["provider"] = h
    rec.describe(f"{waves} admission waves from a pool of {len(pool)} villagers")


@planter("readmission")
def readmission(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """A hospital splitting stays: discharge and re-admission within 15 days, repeatedly."""
    w = p.w
    h = ctx.get("provider")
    if h is None or w.prov["type"][h] != HOSPITAL:
        h = p.provider(rng, (w.prov["type"] == HOSPITAL) & np.isin(w.prov["level"], (1, 2)))
    ctx["provider"] = h
    pts = p.persons(rng, int(rng.integers(5, 31)), p.near(h, "district") & (w.p["age"] >= 45))
    docs = rng.choice(doctors_of(p, h), int(rng.integers(1, 4)))
    period = w.day1 - w.day0
    for pt in pts:
        dx = int(diagnoses(w, np.array([pt]), "in", rng)[0])
        if CAT.diag_group[dx] in (G["chemo"], G["obst"]):
            dx = CAT.diag("J44.100")
        for _ in range(1 + int(rng.random() < s - 0.3)):
            n_stay = 2 + int(rng.integers(0, 1 + round(3 * s)))
            los = rng.integers(5, 15, n_stay)
            gap = rng.integers(1, 6, n_stay) if s > 0.5 else rng.integers(3, 15, n_stay)
            span = int((los + gap).sum())
            start = w.day0 + int(rng.integers(0, max(1, period - span)))
            adm = start + np.concatenate([[0], np.cumsum(los + gap)[:-1]])
            dis = adm + los
            put(p, ctx, build_claims(w, rng, person=np.full(n_stay, pt), provider=h, vtype=INP,
                                     settled=secs(dis, 9, 16.5, rng), admit=adm, discharge=dis,
                                     diag=dx, doctor=int(rng.choice(docs)), ring=rec.index))
    rec.add("provider", h, "organizer")
    rec.add("person", pts)
    rec.add("doctor", docs)
    rec.describe(f"split stays of {len(pts)} patients")


@planter("deceased_claim")
def deceased_claim(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """A provider billing the cards of people who died: claims after the death date."""
    w = p.w
    prov = ctx.get("provider")
    if prov is None:
        prov = _mixed_ring_provider(p, rng, ("clinic", "clinic", "pharmacy", "l1"))
    ctx["provider"] = prov
    dead = p.persons(rng, int(rng.integers(2, 11)), p.near(prov, "district") & (w.p["age"] >= 65))
    period = w.day1 - w.day0
    # they lived ordinary lives first: deaths between a quarter and 60% of the period
    w.p["death"][dead] = w.day0 + rng.integers(period // 4, max(period // 4 + 2, period * 3 // 5),
                                               len(dead))
    is_ph = w.prov["type"][prov] == PHARMACY
    doc = -1 if is_ph else int(rng.choice(doctors_of(p, prov)))
    cards = w.p["card_social"][dead]
    for pt, card in zip(dead, cards):
        first = int(w.p["death"][pt]) + int(rng.integers(3, 10 + round(40 * (1 - s))))
        n = int(rng.poisson((0.5 + 2 * s) * max(0, w.day1 - first) / 30.4))
        if n == 0 and first < w.day1:
            n = 1
        days = np.sort(rng.integers(first, max(first + 1, w.day1), n))
        who = np.full(n, pt)
        put(p, ctx, build_claims(w, rng, person=who, provider=prov, vtype=PHA if is_ph else OUT,
                                 settled=secs(days, 8, 18.5, rng), card=card, doctor=doc,
                                 diag=-1 if is_ph else diagnoses(w, who, "out", rng),
                                 pool=_pool_of(w, who) if is_ph else -1, ring=rec.index))
    rec.add("provider", prov, "organizer")
    rec.add("person", dead)
    rec.add("card", cards)
    if doc >= 0:
        rec.add("doctor", doc)
    rec.describe(f"claims on the cards of {len(dead)} deceased persons")


@planter("drug_resale")
def drug_resale(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """Professional patients collect high-value drugs everywhere; packs are sold on and
    dispensed again (same 追溯码, no reversal) at a colluding pharmacy."""
    w = p.w
    coll = ctx.get("provider")
    if coll is None or w.prov["type"][coll] != PHARMACY:
        coll = p.provider(rng, (w.prov["type"] == PHARMACY) & ~w.prov["dual"])
    pros = p.persons(rng, int(rng.integers(3, 13)), (w.p["age"] >= 35) & (w.p["age"] < 72))
    takers = p.persons(rng, int(rng.integers(2, 9)), p.near(coll, "district"))
    hv_groups = np.array([G[g] for g in ("cardio", "diab", "cerebro", "hep", "resp", "kidney")])
    places = np.flatnonzero((w.prov["type"] == PHARMACY) | (w.prov["level"] >= 1))
    resold = 0
    for pro in pros:
        grp = int(rng.choice(hv_groups))
        my_places = rng.choice(places, int(rng.integers(4, 12 + round(10 * s))), replace=False)
        for d0, d1 in _months(p):
            m = int(rng.poisson(2 + 6 * s))
            pv = rng.choice(my_places, m)
            is_ph = w.prov["type"][pv] == PHARMACY
            b = build_claims(w, rng, person=np.full(m, pro), provider=pv,
                             vtype=np.where(is_ph, PHA, OUT), settled=secs(rng.integers(d0, d1, m), 8, 18, rng),
                             diag=CAT.diag({G["cardio"]: "I25.100", G["diab"]: "E11.900",
                                            G["cerebro"]: "I63.900", G["hep"]: "B18.100",
                                            G["resp"]: "J44.900", G["kidney"]: "N18.900"}[grp]),
                             pool=grp, qty_mult=1.5 + s, presc=is_ph, ring=rec.index)
            any_doc = rng.integers(0, len(w.doc_code), m)  # e-prescriptions from anywhere
            b.c["doctor"] = np.where(is_ph, np.where(rng.random(m) < 0.5, any_doc, -1),
                                     b.c["doctor"])
            tr = np.flatnonzero((b.l["trace"] == FRESH) & CAT.item_high[b.l["item"]])
            b.l["trace"][tr] = p.packs(len(tr))
            put(p, ctx, b)
            # some packs come back through the collector and are dispensed again
            again = tr[rng.random(len(tr)) < 0.05 + 0.35 * s]
            if len(again) == 0:
                continue
            when = b.c["settled"][b.l["claim"][again]] + rng.integers(3, 30, len(again)) * 86400
            resold += len(again)
            put(p, ctx, single_drug(p, rng, rng.choice(takers, len(again)), coll,
                                    (when // 86400) * 86400 + rng.integers(8 * 3600, 21 * 3600, len(again)),
                                    b.l["item"][again], b.l["trace"][again], ring=rec.index))
    rec.add("provider", coll, "organizer")
    rec.add("person", pros)
    rec.add("person", takers)
    ctx["provider"] = coll
    rec.describe(f"{len(pros)} professional patients; {resold} packs dispensed "
                 f"twice at one pharmacy")


@planter("doctor_pharmacy_collusion")
def doctor_pharmacy(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """A doctor's e-prescriptions go overwhelmingly to one far-away pharmacy."""
    w = p.w
    # a hospital whose doctors normally write e-prescriptions for the people around it
    seen = np.bincount(w.p["slots"][:, 1:4].ravel(), minlength=len(w.prov_code)).astype(float)
    hosp = p.provider(rng, (w.prov["type"] == HOSPITAL) & (seen > 0), weight=seen / w.prov["doc_n"].clip(1))
    doc = int(rng.choice(doctors_of(p, hosp)))
    hd = w.prov["dist"][hosp]
    far = (w.dist_urban[w.prov["dist"]] != w.dist_urban[hd]) | (w.prov["dist"] != hd)
    ph = p.provider(rng, (w.prov["type"] == PHARMACY) & far & ~w.prov["dual"]
                    & (w.prov["dist"] != hd))
    ctx["provider"] = ph
    pts = p.persons(rng, int(rng.integers(8, 61)), w.p["dist"] == hd)
    for d0, d1 in _months(p):
        m = int(rng.poisson(8 + 70 * s))
        who = rng.choice(pts, m)
        dx = diagnoses(w, who, "out", rng)
        put(p, ctx, build_claims(w, rng, person=who, provider=ph, vtype=PHA,
                                 settled=secs(rng.integers(d0, d1, m), 8.5, 20.5, rng), diag=dx,
                                 doctor=doc, presc=True, qty_mult=1.3, ring=rec.index))
    rec.add("doctor", doc, "organizer")
    rec.add("provider", ph)
    rec.add("person", pts)
    rec.describe("e-prescriptions of one doctor sent to a distant pharmacy")


@planter("insider_collusion")
def insider(p: Plan, rng, rec: Record, s: float, ctx: dict) -> None:
    """An agency reviewer outside the provider's region signs most of the ring's claims."""
    w = p.w
    prov = ctx.get("provider", 0)
    offices = [k for k in range(1, len(w.office_name)) if w.office_region[k] != w.prov["dist"][prov]]
    office = int(rng.choice(offices))
    staff = np.flatnonzero(w.staff_office == office)
    st = int(rng.choice(staff))
    share = 0.45 + 0.5 * s
    for b in ctx.get("batches", []):
        sign = rng.random(b.n) < share
        b.c["staff"] = np.where(sign, st, b.c["staff"])
    rec.add("staff", st, "insider")
    rec.describe(f"a reviewer of another region signs about {share:.0%} of the ring's claims")
