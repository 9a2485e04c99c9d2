"""Providers, doctors, agency staff, and each person's usual providers.

Counts scale with the population: about one pharmacy per 1,200 persons, a village clinic
(村卫生室) in most villages, a township health centre (卫生院) or community health service
centre (社区卫生服务中心) in every town, one or two level-2 hospitals per district plus some
private ones, and two or more level-3 hospitals in the urban districts.
"""

from __future__ import annotations

import numpy as np

from graphfraud.synth import catalog as C
from graphfraud.synth.ids import fixed_strings
from graphfraud.synth.world import (CLINIC, HOSPITAL, PHARMACY, S_ALT, S_L1, S_L2, S_L3,
                                    S_PH1, S_PRIMARY, World, _names, surnames)


def _short(town: str) -> str:
    for suf in ("街道", "镇", "乡"):
        if town.endswith(suf):
            return town[: -len(suf)]
    return town


def build_providers(w: World, rng: np.random.Generator) -> None:
    """Create providers (with terminals) and their doctors."""
    n = w.cfg.persons
    rows: list[tuple] = []  # (name, type, level, public, dist, town, vil, size)
    urban = np.flatnonzero(w.dist_urban)
    n3 = max(2, round(n / 60000))
    for k in range(n3):
        name = C.L3_NAMES[k] if k < len(C.L3_NAMES) else f"江州市第{k + 1}人民医院"
        d = int(urban[k % len(urban)])
        rows.append((name, HOSPITAL, 3, True, d, -1, -1, 2.5 if k == 0 else 1.0))
    for d, dname in enumerate(w.dist_name):
        rows.append((f"{dname}人民医院", HOSPITAL, 2, True, d, -1, -1, 2.0))
        if not w.dist_urban[d] and n >= 30000:
            rows.append((f"{dname}中医院", HOSPITAL, 2, True, d, -1, -1, 1.0))
    brands = list(rng.permutation(C.BRANDS))
    for k in range(max(2, round(n / 30000))):
        d = int(rng.integers(len(w.dist_code)))
        rows.append((f"江州{brands[k % len(brands)]}医院" + ("" if k < len(brands) else str(k)),
                     HOSPITAL, 2, False, d, -1, -1, 1.0))
    for t, tname in enumerate(w.town_name):
        d = int(w.town_dist[t])
        suffix = "社区卫生服务中心" if w.dist_urban[d] else "卫生院"
        rows.append((f"{w.dist_name[d]}{tname}{suffix}", HOSPITAL, 1, True, d, t, -1, 1.0))
    kinds = ("{d}{b}医院", "江州{b}骨科医院", "江州{b}康复医院", "{d}{b}中医医院")
    for k in range(max(3, round(n / 15000))):
        t = int(rng.integers(len(w.town_dist)))
        d = int(w.town_dist[t])
        b = brands[(k + 7) % len(brands)]
        rows.append((kinds[k % 4].format(d=w.dist_name[d], b=b), HOSPITAL, 1, False, d, t, -1, 1.0))
    for v, vname in enumerate(w.vil_name):
        t = int(w.vil_town[v])
        d = int(w.town_dist[t])
        if not w.dist_urban[d] and rng.random() < 0.85:
            rows.append((f"{w.town_name[t]}{vname}卫生室", CLINIC, 0, bool(rng.random() < 0.7),
                         d, t, v, 1.0))
    town_w = np.bincount(w.p["town"], minlength=len(w.town_dist)).astype(float)
    town_w *= np.where(w.dist_urban[w.town_dist], 1.6, 1.0)
    sn = surnames(rng, max(5, round(n / 2500)))
    docn = _names(rng, np.ones(len(sn), bool), sn)
    for k in range(len(sn)):
        t = int(rng.choice(len(town_w), p=town_w / town_w.sum()))
        d = int(w.town_dist[t])
        b = brands[(k + 3) % len(brands)]
        name = (f"{w.dist_name[d]}{docn[k]}诊所", f"{w.dist_name[d]}{b}门诊部",
                f"{w.dist_name[d]}{b}中医诊所")[k % 3]
        rows.append((name, CLINIC, 0, False, d, t, -1, 1.0))
    for k in range(max(8, round(n / 1200))):
        t = int(rng.choice(len(town_w), p=town_w / town_w.sum()))
        d = int(w.town_dist[t])
        if rng.random() < 0.7:
            name = f"{C.CHAINS[int(rng.integers(len(C.CHAINS)))]}{_short(w.town_name[t])}店"
        else:
            name = f"{w.dist_name[d]}{brands[int(rng.integers(len(brands)))]}堂大药房"
        rows.append((name, PHARMACY, 0, False, d, t, -1, 1.0))
    # unique names: a second branch or hospital of the same name gets a number
    seen: dict[str, int] = {}
    names = []
    for r in rows:
        k = seen[r[0]] = seen.get(r[0], 0) + 1
        names.append(r[0] if k == 1 else (r[0][:-1] + f"{k}分店" if r[1] == PHARMACY
                                          else r[0] + f"{k}部"))
    ptype = np.array([r[1] for r in rows], np.int8)
    level = np.array([r[2] for r in rows], np.int8)
    dist = np.array([r[4] for r in rows], np.int32)
    # codes: H/P + district code + 5-digit sequence, random within the district
    seq = np.zeros(len(rows), np.int64)
    for d in range(len(w.dist_code)):
        idx = np.flatnonzero(dist == d)
        seq[idx] = rng.choice(np.arange(1, 100000), len(idx), replace=False)
    code_h = fixed_strings("H", (w.dist_code[dist], 6), (seq, 5)).to_pylist()
    code_p = fixed_strings("P", (w.dist_code[dist], 6), (seq, 5)).to_pylist()
    w.prov_code = [code_p[i] if ptype[i] == PHARMACY else code_h[i] for i in range(len(rows))]
    w.prov_name = names
    nt = np.select([ptype == PHARMACY, ptype == CLINIC, level == 1, level == 2],
                   [rng.choice([1, 1, 1, 2, 2, 2, 2, 3, 3, 4], len(rows)), np.ones(len(rows), int),
                    rng.integers(2, 5, len(rows)), rng.integers(6, 16, len(rows))],
                   rng.integers(20, 51, len(rows)))
    w.prov = dict(type=ptype, level=level, public=np.array([r[3] for r in rows]), dist=dist,
                  town=np.array([r[5] for r in rows], np.int32),
                  vil=np.array([r[6] for r in rows], np.int32),
                  size=np.array([r[7] for r in rows]), terminals=nt.astype(np.int32),
                  dual=np.zeros(len(rows), bool),
                  markup=np.where(ptype == PHARMACY, 1 + rng.uniform(0, 0.12, len(rows)), 1.0))
    _doctors(w, rng)


def _doctors(w: World, rng: np.random.Generator) -> None:
    n = w.cfg.persons
    ptype, level = w.prov["type"], w.prov["level"]
    cnt = np.select([ptype == PHARMACY, level == 3, level == 2, level == 1],
                    [np.zeros(len(ptype), int), 30 + n // 4000 + rng.integers(0, 11, len(ptype)),
                     rng.integers(10, 26, len(ptype)), rng.integers(3, 9, len(ptype))],
                    np.where(w.prov["vil"] >= 0, 1, rng.integers(1, 4, len(ptype))))
    prov = np.repeat(np.arange(len(ptype)), cnt).astype(np.int32)
    depts: list[str] = []
    for p in range(len(ptype)):
        pool = {3: C.DEPTS_L3, 2: C.DEPTS_L2, 1: C.DEPTS_L1}.get(int(level[p]), C.DEPTS_CLINIC)
        k = int(cnt[p])
        fixed = ["肿瘤科", "肿瘤科", "肿瘤科", "肾内科", "肾内科"] if level[p] == 3 else []
        depts += (fixed + [pool[i] for i in rng.integers(0, len(pool), k)])[:k]
    region = w.dist_code[w.prov["dist"][prov]]
    seq = np.zeros(len(prov), np.int64)
    for d in np.unique(region):
        idx = np.flatnonzero(region == d)
        seq[idx] = rng.choice(np.arange(1, 1000000), len(idx), replace=False)
    w.doc_code = fixed_strings("D", (region, 6), (seq, 6)).to_pylist()
    male = rng.random(len(prov)) < 0.55
    w.doc_name = _names(rng, male, surnames(rng, len(prov)))
    w.doc_dept = depts
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    w.doc = dict(prov=prov)
    w.prov["doc_start"] = start.astype(np.int64)
    w.prov["doc_n"] = cnt.astype(np.int64)


def build_staff(w: World, rng: np.random.Generator) -> None:
    """Agency offices (one per district and the city's) and their staff."""
    n = w.cfg.persons
    names = [f"{C.CITY_NAME}医疗保障服务中心"] + [f"{d}医疗保障服务中心" for d in w.dist_name]
    region = np.arange(-1, len(w.dist_code))  # -1: the city office
    cnt = np.array([max(4, round(n / 20000))] + [max(3, round(n / 25000))] * len(w.dist_code))
    office = np.repeat(np.arange(len(names)), cnt).astype(np.int32)
    reg = np.where(region[office] >= 0, w.dist_code[np.maximum(region[office], 0)], int(C.CITY_CODE))
    seq = rng.choice(np.arange(1, 10000), len(office), replace=False)
    w.office_name = names
    w.office_region = region.astype(np.int32)
    w.staff_office = office
    w.staff_code = fixed_strings("YB", (reg, 6), (seq, 4)).to_pylist()
    w.staff_name = _names(rng, rng.random(len(office)) < 0.45, surnames(rng, len(office)))


def staff_region_code(w: World, s: int) -> str:
    """Region code of a staff member's office (``331200`` for the city office)."""
    r = int(w.office_region[w.staff_office[s]])
    return C.CITY_CODE if r < 0 else str(int(w.dist_code[r]))


def _pick(keys: np.ndarray, cand: dict[int, tuple[np.ndarray, np.ndarray]],
          fallback: tuple[np.ndarray, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """For each key, one candidate drawn with weights from ``cand[key]`` (or ``fallback``)."""
    out = np.empty(len(keys), np.int64)
    for k in np.unique(keys):
        idx = np.flatnonzero(keys == k)
        c, wt = cand.get(int(k), fallback)
        if len(c) == 0:
            c, wt = fallback
        out[idx] = c[rng.choice(len(c), len(idx), p=wt / wt.sum())]
    return out


def _groups(sel: np.ndarray, key: np.ndarray, weight: np.ndarray) -> dict:
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in np.unique(key[sel]):
        c = np.flatnonzero(sel & (key == k))
        out[int(k)] = (c, weight[c])
    return out


def usual_providers(w: World, rng: np.random.Generator) -> None:
    """Each person's usual providers near home: ``p["slots"]`` of shape (persons, 8)."""
    pt, lv, pub = w.prov["type"], w.prov["level"], w.prov["public"]
    pd, ptown, pvil = w.prov["dist"], w.prov["town"], w.prov["vil"]
    one = np.ones(len(pt))
    town, dist, vil = w.p["town"], w.p["dist"], w.p["vil"]
    slots = np.zeros((w.n, 8), np.int64)
    clinic = pt == CLINIC
    village_clinic = {int(pvil[i]): i for i in np.flatnonzero(clinic & (pvil >= 0))}
    town_clin = _groups(clinic, ptown, one)
    dist_clin = _groups(clinic, pd.astype(np.int64), one)
    l1 = _groups((lv == 1) & pub, ptown, one)
    all_l1 = np.flatnonzero(lv == 1)
    prim = _pick(town, town_clin, (all_l1, one[all_l1]), rng)
    prim_d = _pick(dist, dist_clin, (all_l1, one[all_l1]), rng)
    has_town_clin = np.zeros(len(w.town_dist), bool)
    has_town_clin[list(town_clin)] = True
    prim = np.where(has_town_clin[town], prim, prim_d)
    vil_clinic = np.full(len(w.vil_town), -1, np.int64)
    for v, i in village_clinic.items():
        vil_clinic[v] = i
    vc = vil_clinic[vil]
    slots[:, S_PRIMARY] = np.where(vc >= 0, vc, prim)  # own village clinic, else one nearby
    slots[:, S_L1] = _pick(town, l1, (all_l1, one[all_l1]), rng)
    l2 = _groups(lv == 2, pd.astype(np.int64), np.where(pub, 3.0, 1.0))
    all_l2 = np.flatnonzero(lv == 2)
    slots[:, S_L2] = _pick(dist, l2, (all_l2, one[all_l2]), rng)
    l3 = np.flatnonzero(lv == 3)
    size = w.prov["size"]
    l3_near = _groups(lv == 3, pd.astype(np.int64), size)
    far = _pick(np.zeros(w.n, np.int64), {}, (l3, size[l3]), rng)
    near = _pick(dist, l3_near, (l3, size[l3]), rng)
    slots[:, S_L3] = np.where(rng.random(w.n) < 0.7, near, far)
    ph = pt == PHARMACY
    town_ph = _groups(ph, ptown, one)
    dist_ph = _groups(ph, pd.astype(np.int64), one)
    all_ph = np.flatnonzero(ph)
    for s in range(3):
        a = _pick(town, town_ph, (all_ph, one[all_ph]), rng)
        b = _pick(dist, dist_ph, (all_ph, one[all_ph]), rng)
        slots[:, S_PH1 + s] = np.where(rng.random(w.n) < (0.75 if s == 0 else 0.5), a, b)
    alt = (~pub & (pt != PHARMACY)) | ((lv == 1) & pub)
    slots[:, S_ALT] = _pick(dist, _groups(alt, pd.astype(np.int64), one),
                            (np.flatnonzero(alt), one[alt]), rng)
    w.p["slots"] = slots
