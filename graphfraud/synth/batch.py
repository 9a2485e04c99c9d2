"""Columnar batches of claims and their item lines, and the one way every claim is priced.

Background claims, planted rings and look-alikes are all made by :func:`build_claims`: the
same item choice, prices and fund shares, so that no amount or item betrays a ring.
Amounts are integers in fen (cents); a claim's ``total`` is the sum of its lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphfraud.synth.catalog import CATALOG as CAT
from graphfraud.synth.world import CLINIC, HOSPITAL, PHARMACY, World

OUT, INP, PHA = 0, 1, 2  # visit types, as in catalog.VISIT_TYPES
FRESH = -2  # line trace value: a traceable pack that still needs a code

CLAIM_COLS = {
    "person": np.int64, "card": np.int64, "provider": np.int64, "doctor": np.int64,
    "staff": np.int64, "terminal": np.int64, "vtype": np.int8, "settled": np.int64,
    "admit": np.int64, "discharge": np.int64, "diag": np.int64, "ring": np.int32,
    "look": np.int32, "pid": np.int64, "orig_pid": np.int64, "orig_local": np.int64,
    "orig_seq": np.int64, "orig_settled": np.int64, "total": np.int64, "fund": np.int64,
}
LINE_COLS = {"claim": np.int64, "item": np.int64, "qty": np.int64, "price": np.int64,
             "amount": np.int64, "trace": np.int64}


@dataclass
class Batch:
    """Claims ``c`` and lines ``l`` (lines grouped by claim, ``l["claim"]`` indexes ``c``)."""

    c: dict[str, np.ndarray]
    l: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(self.c["person"])

    @staticmethod
    def empty() -> "Batch":
        return Batch({k: np.zeros(0, t) for k, t in CLAIM_COLS.items()},
                     {k: np.zeros(0, t) for k, t in LINE_COLS.items()})

    @staticmethod
    def concat(batches: list["Batch"]) -> "Batch":
        batches = [b for b in batches if b.n] or [Batch.empty()]
        offs = np.cumsum([0] + [b.n for b in batches[:-1]])
        c = {k: np.concatenate([b.c[k] for b in batches]) for k in CLAIM_COLS}
        l = {k: np.concatenate([b.l[k] + (o if k == "claim" else 0) for b, o in zip(batches, offs)])
             for k in LINE_COLS}
        return Batch(c, l)

    def line_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        cnt = np.bincount(self.l["claim"], minlength=self.n)
        return np.cumsum(cnt) - cnt, cnt

    def take(self, idx: np.ndarray) -> "Batch":
        """Claims ``idx`` in that order, with their lines."""
        idx = np.asarray(idx, np.int64)
        start, cnt = self.line_ranges()
        k = cnt[idx]
        rel = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        li = np.repeat(start[idx], k) + rel
        c = {key: v[idx] for key, v in self.c.items()}
        l = {key: v[li] for key, v in self.l.items()}
        l["claim"] = np.repeat(np.arange(len(idx)), k)
        return Batch(c, l)


def day_of(settled: np.ndarray) -> np.ndarray:
    """Day number of a settlement time (seconds since 1970-01-01)."""
    return np.asarray(settled) // 86400


def time_of_day(vtype: np.ndarray, ptype: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seconds after midnight of a settlement: clinics and hospitals keep office hours
    (morning peak), pharmacies are open into the evening, discharges settle in the day."""
    n = len(vtype)

    def window(t: np.ndarray, lo: float, hi: float) -> np.ndarray:
        out = (t < lo * 3600) | (t >= hi * 3600)  # redraw outside opening hours: no spikes
        return np.where(out, rng.uniform(lo * 3600, hi * 3600, n), t)

    morning = rng.normal(9.8 * 3600, 4000, n)
    afternoon = rng.normal(15.2 * 3600, 3600, n)
    out = window(np.where(rng.random(n) < 0.68, morning, afternoon), 7.5, 17.8)
    ph = rng.uniform(8 * 3600, 21.6 * 3600, n)
    ph = window(np.where(rng.random(n) < 0.2, rng.normal(19 * 3600, 3000, n), ph), 7.5, 22.4)
    inp = rng.uniform(8.5 * 3600, 17 * 3600, n)
    t = np.where(vtype == PHA, ph, np.where(vtype == INP, inp, out))
    return t.astype(np.int64)


def pick_card(w: World, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The credential read: social card, e-credential (if any), or the id number itself."""
    u = rng.random(len(person))
    e = w.p["card_ecert"][person]
    card = np.where((u < 0.55) & (e >= 0), e, w.p["card_social"][person])
    return np.where(u > 0.92, w.p["card_idno"][person], card)


def pick_doctor(w: World, provider: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A doctor of the provider (-1 where it has none)."""
    n = w.prov["doc_n"][provider]
    d = w.prov["doc_start"][provider] + np.floor(rng.random(len(provider)) * n).astype(np.int64)
    return np.where(n > 0, d, -1)


def pick_terminal(w: World, provider: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A terminal of the provider, the first ones busier."""
    n = w.prov["terminals"][provider]
    return np.floor(rng.random(len(provider)) ** 1.4 * n).astype(np.int64)


def pick_staff(w: World, provider: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A reviewer from the office of the provider's district (city office for level 3,
    sometimes; a colleague of any office in 3% of cases)."""
    n = len(provider)
    off_start = np.searchsorted(w.staff_office, np.arange(len(w.office_name)))
    off_n = np.bincount(w.staff_office, minlength=len(w.office_name))
    office = w.prov["dist"][provider] + 1
    office = np.where((w.prov["level"][provider] == 3) & (rng.random(n) < 0.7), 0, office)
    office = np.where(rng.random(n) < 0.03, rng.integers(0, len(off_n), n), office)
    return off_start[office] + np.floor(rng.random(n) * off_n[office]).astype(np.int64)


def _pools() -> tuple[np.ndarray, np.ndarray]:
    g = CAT.groups
    alias = {"injury": "msk", "obst": "inj", "general": "otc", "exam": "otc", "onc": "onc_t"}
    lists = [CAT.drugs_in(alias.get(name, name)) for name in g]
    pad = np.zeros((len(g), max(len(x) for x in lists)), np.int64)
    for i, x in enumerate(lists):
        pad[i, :len(x)] = x
    return pad, np.array([len(x) for x in lists])


POOL, POOL_N = _pools()
G = {name: i for i, name in enumerate(CAT.groups)}
_SVC = {k: CAT.services(k) for k in ("exam_out", "exam_in", "bed", "nurse", "test", "test_big",
                                     "infusion", "special")}
_LEVEL_MULT = np.array([0.8, 0.9, 1.0, 1.25])
_CHECKUP = np.array([CAT.item(x) for x in ("血常规检查", "尿常规检查", "肝功能检查", "肾功能检查",
                                          "血糖测定", "血脂测定", "心电图检查", "胸部X线摄影",
                                          "腹部彩色超声")])


def _draw(pool_group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = np.floor(rng.random(len(pool_group)) * POOL_N[pool_group]).astype(np.int64)
    return POOL[pool_group, k]


def make_lines(w: World, c: dict[str, np.ndarray], pool: np.ndarray, special: np.ndarray,
               qty_mult: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Item lines of claims ``c`` (vtype, provider, diag, admit/discharge known).

    ``pool``: drug pool group per claim (-1: the diagnosis's); ``special``: an extra service
    item per claim (-1 none); ``qty_mult``: multiplier of drug quantities.
    """
    n = len(c["vtype"])
    vt, prov = c["vtype"], c["provider"]
    level = w.prov["level"][prov]
    diag = c["diag"]
    dgroup = np.where(diag >= 0, CAT.diag_group[np.maximum(diag, 0)], G["otc"])
    pool = np.where(pool >= 0, pool, dgroup)
    los = np.where(vt == INP, np.maximum(c["discharge"] - c["admit"], 1), 1)
    is_exam = dgroup == G["exam"]
    out, inp, pha = vt == OUT, vt == INP, vt == PHA
    p_test = np.array([0.08, 0.15, 0.25, 0.35])[level]
    n_test = np.where(out, rng.binomial(3, p_test), 0) + np.where(inp, 3 + rng.binomial(4, 0.5, n), 0)
    n_test = np.where(is_exam, 0, n_test)
    n_big = np.where(inp, rng.random(n) < 0.35 + 0.2 * (level == 3), 0) + np.where(
        out & (level >= 2), rng.random(n) < 0.05, 0)
    small = w.prov["type"][prov] == CLINIC
    n_drug = np.select([pha, out & (small | (level == 1)), out, inp],
                       [1 + rng.binomial(2, 0.35, n), 1 + rng.binomial(2, 0.5, n),
                        rng.binomial(3, 0.5, n), 3 + rng.binomial(5, 0.5, n)], 0)
    n_drug = np.where(is_exam | ((dgroup == G["dialysis"]) & out), 0, n_drug)
    surg = CAT.surgery[np.maximum(diag, 0)]
    surg = np.where((diag >= 0) & (surg >= 0) & (inp | (rng.random(n) < 0.3)), surg, -1)
    surg = np.where(out & (dgroup != G["injury"]), -1, surg)
    blocks = []  # (claim index, item, qty)
    ex = np.flatnonzero(~pha)
    blocks.append((ex, np.where(inp[ex], _SVC["exam_in"][0], _SVC["exam_out"][0]), los[ex]))
    ip = np.flatnonzero(inp)
    blocks.append((ip, np.full(len(ip), _SVC["bed"][0]), los[ip]))
    blocks.append((ip, np.full(len(ip), _SVC["nurse"][0]), los[ip]))
    inf = ip[rng.random(len(ip)) < 0.7]
    blocks.append((inf, np.full(len(inf), _SVC["infusion"][0]), los[inf]))
    t = np.repeat(np.arange(n), n_test)
    blocks.append((t, _SVC["test"][rng.integers(0, len(_SVC["test"]), len(t))], np.ones(len(t), np.int64)))
    b = np.repeat(np.arange(n), n_big)
    blocks.append((b, _SVC["test_big"][rng.integers(0, len(_SVC["test_big"]), len(b))],
                   np.ones(len(b), np.int64)))
    ck = np.flatnonzero(is_exam & out)
    m = rng.integers(6, len(_CHECKUP) + 1, len(ck))
    ckc = np.repeat(ck, m)
    ckr = np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m)
    blocks.append((ckc, _CHECKUP[ckr], np.ones(len(ckc), np.int64)))
    s = np.flatnonzero(surg >= 0)
    blocks.append((s, surg[s], np.ones(len(s), np.int64)))
    sp = np.flatnonzero(special >= 0)
    blocks.append((sp, special[sp], np.where(inp[sp], los[sp], 1)))
    d = np.repeat(np.arange(n), n_drug)
    dpool = pool[d]
    if len(ip):  # inpatient drugs: most from the injection pool
        inj = inp[d] & (rng.random(len(d)) < 0.6)
        dpool = np.where(inj, G["inj"], dpool)
    ditem = _draw(dpool, rng)
    chronic = np.isin(pool[d], [G[x] for x in ("cardio", "diab", "lipid", "cerebro", "hep",
                                                 "kidney", "onc_t", "uro")])
    dq = np.where(inp[d], 2 + rng.poisson(6, len(d)), 1 + rng.binomial(2, 0.35, len(d)) + chronic)
    dq = np.maximum(1, np.round(dq * qty_mult[d])).astype(np.int64)
    blocks.append((d, ditem, dq))
    claim = np.concatenate([x[0] for x in blocks]).astype(np.int64)
    item = np.concatenate([x[1] for x in blocks]).astype(np.int64)
    qty = np.concatenate([x[2] for x in blocks]).astype(np.int64)
    # one line per pack of a traceable drug dispensed outside a ward
    tr = CAT.item_trace[item] & (vt[claim] != INP)
    rep = np.where(tr, qty, 1)
    claim, item, qty, tr = (np.repeat(a, rep) for a in (claim, item, qty, tr))
    qty = np.where(tr, 1, qty)
    order = np.argsort(claim, kind="stable")
    claim, item, qty, tr = claim[order], item[order], qty[order], tr[order]
    base = CAT.item_price[item].astype(float)
    mult = np.where(CAT.item_is_drug[item], w.prov["markup"][prov[claim]],
                    _LEVEL_MULT[level[claim]])
    price = np.round(base * mult).astype(np.int64)
    return {"claim": claim, "item": item, "qty": qty, "price": price, "amount": qty * price,
            "trace": np.where(tr, FRESH, -1).astype(np.int64)}


def fund_share(w: World, c: dict[str, np.ndarray], presc: np.ndarray, ratio: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Fund paid (fen) for claims with totals ``c["total"]``: a plausible share by setting."""
    n = len(c["total"])
    total = c["total"].astype(float)
    vt = c["vtype"]
    level = w.prov["level"][c["provider"]]
    r_out = np.where(rng.random(n) < np.where(total < 5000, 0.5, 0.15), 0.0,
                     np.array([0.65, 0.6, 0.52, 0.45])[level] + rng.uniform(-0.06, 0.06, n))
    r_ph = np.where(presc, rng.uniform(0.4, 0.6, n),
                    np.where(rng.random(n) < 0.75, 0.0, rng.uniform(0.2, 0.5, n)))
    deduct = np.array([0, 30000, 60000, 90000])[level]
    r_in = np.array([0.85, 0.85, 0.78, 0.7])[level] + rng.uniform(-0.05, 0.05, n)
    fund = np.select([vt == OUT, vt == PHA], [total * r_out, total * r_ph],
                     np.maximum(total - deduct, 0) * r_in)
    fund = np.where(ratio >= 0, total * ratio, fund)
    return np.floor(np.clip(fund, 0, total)).astype(np.int64)


def build_claims(w: World, rng: np.random.Generator, *, person, provider, vtype, settled,
                 diag=None, admit=None, discharge=None, doctor=None, staff=None, terminal=None,
                 card=None, pool=None, special=None, qty_mult=None, fund_ratio=None,
                 presc=None, ring=-1, look=-1, review=None) -> Batch:
    """Claims with their lines and amounts. ``None`` means: choose as the background does.

    ``review``: probability that an agency reviewer signs the claim when ``staff`` is None
    (default: inpatient always, hospital outpatient 8%, clinics 3%, pharmacies 2%).
    """
    person = np.asarray(person, np.int64)
    n = len(person)

    def arr(x, default, dtype=np.int64):
        if x is None:
            return default
        return np.broadcast_to(np.asarray(x, dtype), (n,)).copy()

    provider = arr(provider, None)
    vtype = arr(vtype, None, np.int8)
    settled = arr(settled, None)
    ptype = w.prov["type"][provider]
    neg = np.full(n, -1, np.int64)
    diag = arr(diag, neg.copy())
    admit, discharge = arr(admit, neg.copy()), arr(discharge, neg.copy())
    presc = arr(presc, np.zeros(n, bool), bool)
    doc_auto = pick_doctor(w, provider, rng)
    doctor = arr(doctor, np.where(ptype != PHARMACY, doc_auto, -1))
    terminal = arr(terminal, pick_terminal(w, provider, rng))
    card = arr(card, pick_card(w, person, rng))
    if staff is None:
        p_rev = np.select([vtype == INP, ptype == HOSPITAL, ptype == CLINIC], [1.0, 0.08, 0.03], 0.02)
        if review is not None:
            p_rev = np.broadcast_to(np.asarray(review, float), (n,))
        staff = np.where(rng.random(n) < p_rev, pick_staff(w, provider, rng), -1)
    staff = arr(staff, None)
    c = {"person": person, "card": card, "provider": provider, "doctor": doctor, "staff": staff,
         "terminal": terminal, "vtype": vtype, "settled": settled, "admit": admit,
         "discharge": discharge, "diag": diag, "ring": arr(ring, None, np.int32),
         "look": arr(look, None, np.int32), "pid": neg.copy(), "orig_pid": neg.copy(),
         "orig_local": neg.copy(), "orig_seq": neg.copy(), "orig_settled": neg.copy()}
    lines = make_lines(w, c, arr(pool, neg.copy()), arr(special, neg.copy()),
                       arr(qty_mult, np.ones(n), float), rng)
    c["total"] = np.bincount(lines["claim"], weights=lines["amount"], minlength=n).astype(np.int64)
    c["fund"] = fund_share(w, c, presc, arr(fund_ratio, np.full(n, -1.0), float), rng)
    return Batch({k: np.asarray(c[k], CLAIM_COLS[k]) for k in CLAIM_COLS}, lines)
