"""The synthetic city: places, providers, doctors, agency staff, persons and their cards.

The city 江州市 has ten districts and counties (four urban districts, six rural counties and
county-level cities), towns (镇/乡, or 街道 in the urban districts) and villages (村, or 社区).
Every person lives in a household (1-5 persons sharing an address; children and the
father's parents share the father's surname, wives keep their own, as in China), has an id
number, a social-security card (社保卡), often a medical-insurance e-credential (医保电子凭证),
and a handful of usual providers near home (:attr:`World.p_slots`).
"""

from __future__ import annotations

from typing import Any

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from graphfraud.synth import catalog as C
from graphfraud.synth.catalog import CATALOG
from graphfraud.synth.config import SynthConfig
from graphfraud.synth.ids import fixed_strings, id_numbers, scramble

HOSPITAL, CLINIC, PHARMACY = 0, 1, 2
NO_DEATH = np.iinfo(np.int32).max
#: person slots of usual providers
S_PRIMARY, S_L1, S_L2, S_L3, S_PH1, S_PH2, S_PH3, S_ALT = range(8)


@dataclass
class World:
    """Everything that exists before the first claim. Arrays are indexed by dense integers."""

    cfg: SynthConfig
    day0: int
    day1: int
    month_starts: np.ndarray
    dist_code: np.ndarray
    dist_name: list[str]
    dist_urban: np.ndarray
    town_dist: np.ndarray
    town_name: list[str]
    vil_town: np.ndarray
    vil_name: list[str]
    prov: dict[str, np.ndarray] = field(default_factory=dict)
    prov_code: list[str] = field(default_factory=list)
    prov_name: list[str] = field(default_factory=list)
    doc: dict[str, np.ndarray] = field(default_factory=dict)
    doc_code: list[str] = field(default_factory=list)
    doc_name: list[str] = field(default_factory=list)
    doc_dept: list[str] = field(default_factory=list)
    office_name: list[str] = field(default_factory=list)
    office_region: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    staff_office: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    staff_code: list[str] = field(default_factory=list)
    staff_name: list[str] = field(default_factory=list)
    p: dict[str, np.ndarray] = field(default_factory=dict)
    p_name: list[str] = field(default_factory=list)
    p_addr: list[str] = field(default_factory=list)
    p_psn: Any = None  # a pyarrow string array, set by build_world
    p_idno: pa.Array | None = None
    card_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    card_str: Any = None  # a pyarrow string array, set by build_world

    @property
    def n(self) -> int:
        """Number of persons."""
        return len(self.p["age"])

    def month_of(self, day: np.ndarray) -> np.ndarray:
        """Index of the month chunk a day falls in."""
        return np.searchsorted(self.month_starts, day, side="right") - 1

    def district_of_provider(self, i: int) -> int:
        """District index of provider ``i``."""
        return int(self.prov["dist"][i])


def _names(rng: np.random.Generator, male: np.ndarray, surname: np.ndarray) -> list[str]:
    n = len(male)
    two = rng.random(n) < 0.7
    gm = rng.integers(0, len(C.GIVEN_MALE), (n, 2))
    gf = rng.integers(0, len(C.GIVEN_FEMALE), (n, 2))
    out = []
    for i in range(n):
        pool, g = (C.GIVEN_MALE, gm[i]) if male[i] else (C.GIVEN_FEMALE, gf[i])
        out.append(C.SURNAMES[surname[i]] + pool[g[0]] + (pool[g[1]] if two[i] else ""))
    return out


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """Surname indexes with a Zipf-like frequency (王, 李, 张 about 7% each)."""
    w = 1.0 / np.arange(1, len(C.SURNAMES) + 1) ** 0.9
    return rng.choice(len(C.SURNAMES), n, p=w / w.sum())


def _place_names(rng: np.random.Generator, k: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < k:
        s = C.SYL1[rng.integers(len(C.SYL1))] + C.SYL2[rng.integers(len(C.SYL2))]
        if s not in taken or len(taken) > 1500:
            taken.add(s)
            out.append(s)
    return out


def _geography(cfg: SynthConfig, rng: np.random.Generator) -> dict:
    share = np.array([0.14, 0.12, 0.10, 0.09, 0.11, 0.10, 0.09, 0.08, 0.09, 0.08])
    n_vil = max(40, round(cfg.persons / 250))
    vil_per = np.maximum(4, np.round(share / share.sum() * n_vil)).astype(int)
    town_dist, town_name, vil_town, vil_name = [], [], [], []
    taken: set[str] = set()
    for d, (_, _, urban) in enumerate(C.DISTRICTS):
        n_town = max(2, round(vil_per[d] / 8))
        names = _place_names(rng, n_town, taken)
        for t in range(n_town):
            town_dist.append(d)
            suffix = "街道" if urban else ("乡" if rng.random() < 0.2 else "镇")
            town_name.append(names[t] + suffix)
        first = len(town_dist) - n_town
        vt = first + np.sort(rng.integers(0, n_town, vil_per[d]))
        vt[:n_town] = np.arange(first, first + n_town)  # every town has a village
        for t in np.sort(vt):  # village names may repeat across towns, as they do
            vil_town.append(int(t))
            vil_name.append(_place_names(rng, 1, set())[0] + ("社区" if urban else "村"))
    return dict(town_dist=np.array(town_dist), town_name=town_name,
                vil_town=np.array(vil_town), vil_name=vil_name)


# household types: roles 0 head, 1 spouse, 2 child, 3 grandparent, 4 elder, 5 elder spouse,
# 6 single adult
_HH = ((0.08, (6,)), (0.08, (4,)), (0.10, (0, 1)), (0.15, (4, 5)), (0.24, (0, 1, 2)),
       (0.15, (0, 1, 2, 2)), (0.12, (0, 1, 2, 3)), (0.06, (0, 1, 2, 2, 3)), (0.05, (0, 1, 2, 3, 3)))


def _persons(w: World, rng: np.random.Generator) -> None:
    n = w.cfg.persons
    probs = np.array([t[0] for t in _HH])
    ht = rng.choice(len(_HH), n, p=probs / probs.sum())  # more than enough households
    sizes = np.array([len(_HH[t][1]) for t in ht])
    n_hh = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    ht, sizes = ht[:n_hh], sizes[:n_hh]
    roles_pad = np.full((len(_HH), 5), -1)
    for i, (_, r) in enumerate(_HH):
        roles_pad[i, :len(r)] = r
    hh = np.repeat(np.arange(n_hh), sizes)[:n]
    pos = np.arange(len(hh)) - np.repeat(np.cumsum(sizes) - sizes, sizes)[:n]
    role = roles_pad[ht[hh], pos]
    # ages
    head_kids = rng.uniform(24, 58, n_hh)
    head_nokid = rng.uniform(22, 60, n_hh)
    has_kid = np.array([2 in _HH[t][1] for t in ht])
    head_age = np.where(has_kid, head_kids, head_nokid)
    elder_age = np.minimum(60 + rng.exponential(9.0, n_hh), 98)
    ha, ea = head_age[hh], elder_age[hh]
    age = np.select(
        [role == 0, role == 1, role == 2, role == 3, role == 4, role == 5, role == 6],
        [ha, ha + rng.normal(0, 3, n), np.clip(ha - rng.uniform(22, 36, n), 0.1, None),
         np.minimum(ha + rng.uniform(24, 34, n), 98), ea,
         np.clip(ea + rng.normal(0, 3, n), 55, 98), rng.uniform(20, 55, n)])
    age = np.clip(age, 0.1, 99)
    head_male = rng.random(n_hh) < 0.7
    coupled = np.isin(role, (0, 1, 4, 5))
    male = np.where(coupled, np.where(np.isin(role, (0, 4)), head_male[hh], ~head_male[hh]),
                    rng.random(n) < 0.5)
    fam = surnames(rng, n_hh)[hh]
    own = surnames(rng, n)
    keep_family = (role == 2) | (role == 6) | (coupled & male) | ((role == 3) & (rng.random(n) < 0.7))
    surname = np.where(keep_family | ((role == 4) & ~coupled), fam, own)
    # place: households to villages, village sizes vary
    vil_w = rng.lognormal(0, 0.35, len(w.vil_town))
    vil_w *= np.array([0.45 / 4 if w.dist_urban[w.town_dist[t]] else 0.55 / 6
                       for t in w.vil_town]) / np.bincount(
        w.town_dist[w.vil_town], minlength=len(w.dist_code))[w.town_dist[w.vil_town]]
    hh_vil = rng.choice(len(vil_w), n_hh, p=vil_w / vil_w.sum())
    vil = hh_vil[hh]
    town = w.vil_town[vil]
    dist = w.town_dist[town]
    # birthdays spread over the year (from the person's index, so no random draw is consumed
    # and the rest of the world is unchanged): one birth date per age would leave too few
    # id-number sequences per region and day in a large city, and id numbers would repeat
    spread = (np.arange(n, dtype=np.int64) * 2654435761 + w.cfg.seed) % 365
    birth = (w.day0 - age * 365.25).astype(np.int64) - spread
    w.p = dict(hh=hh, role=role, age=age, male=male, surname=surname, vil=vil, town=town,
               dist=dist, birth=birth, death=np.full(n, NO_DEATH, np.int32))
    w.p_name = _names(rng, male, surname)
    w.p_addr = _addresses(w, rng, hh_vil)
    # id numbers: birth region mostly the home district, some from elsewhere in China
    other = np.array([int(x) for x in C.OTHER_REGIONS])
    region = np.where(rng.random(n) < 0.82, w.dist_code[dist], other[rng.integers(0, len(other), n)])
    seq = np.where(male, 2 * rng.integers(0, 500, n) + 1, 2 * rng.integers(1, 500, n))
    key = region * 10 ** 12 + birth * 1000 + seq
    for _ in range(20):  # make id numbers unique
        _, first = np.unique(key, return_index=True)
        dup = np.ones(n, bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = (seq[dup] + 2 * rng.integers(1, 200, dup.sum())) % 1000
        seq[dup] = np.where(seq[dup] == 0, 2, seq[dup])
        key = region * 10 ** 12 + birth * 1000 + seq
    w.p_idno = id_numbers(region, birth, seq)
    w.p_psn = fixed_strings("3312", (scramble(np.arange(n), 12, salt=w.cfg.seed), 12))


def _addresses(w: World, rng: np.random.Generator, hh_vil: np.ndarray) -> list[str]:
    n_hh = len(hh_vil)
    num = rng.integers(1, 300, n_hh)
    road = rng.integers(0, len(C.ROADS), n_hh)
    estate = rng.integers(0, len(C.ESTATES), n_hh)
    bld, unit, flr, room = (rng.integers(1, 30, n_hh), rng.integers(1, 5, n_hh),
                            rng.integers(1, 25, n_hh), rng.integers(1, 5, n_hh))
    out = []
    for h in range(n_hh):
        v = hh_vil[h]
        t = w.vil_town[v]
        d = w.town_dist[t]
        base = f"{C.CITY_NAME}{w.dist_name[d]}{w.town_name[t]}"
        if w.dist_urban[d]:
            out.append(f"{base}{C.ROADS[road[h]]}{num[h]}号{C.ESTATES[estate[h]]}{bld[h]}幢"
                       f"{unit[h]}单元{flr[h]}{room[h]:02d}室")
        else:
            out.append(f"{base}{w.vil_name[v]}{num[h]}号")
    hh = w.p["hh"]
    return [out[h] for h in hh]


def build_world(cfg: SynthConfig, rng: np.random.Generator) -> World:
    """Make the city, its providers, doctors, staff and persons."""
    start = np.datetime64(cfg.start, "D")
    first_month = start.astype("datetime64[M]")
    starts = [start] + [(first_month + k).astype("datetime64[D]") + (start - first_month.astype(
        "datetime64[D]")) for k in range(1, cfg.months + 1)]
    month_starts = np.array([int(d.astype(np.int64)) for d in starts], dtype=np.int64)
    geo = _geography(cfg, rng)
    w = World(cfg=cfg, day0=int(month_starts[0]), day1=int(month_starts[-1]),
              month_starts=month_starts,
              dist_code=np.array([int(d[0]) for d in C.DISTRICTS]),
              dist_name=[d[1] for d in C.DISTRICTS],
              dist_urban=np.array([d[2] for d in C.DISTRICTS]), **geo)
    _persons(w, rng)
    from graphfraud.synth.providers import build_providers, build_staff, usual_providers

    build_providers(w, rng)
    build_staff(w, rng)
    usual_providers(w, rng)
    _cards(w, rng)
    _health(w, rng)
    return w


def _cards(w: World, rng: np.random.Generator) -> None:
    """Social cards (letter + 8 digits), e-credentials (E + 19 digits), id numbers as cards."""
    n = w.n
    letters = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ", np.uint8)
    soc = fixed_strings(letters[rng.integers(0, 24, n)][:, None],
                        (scramble(np.arange(n), 8, salt=w.cfg.seed), 8))
    has_e = rng.random(n) < np.where(w.p["age"] < 65, 0.75, 0.4)
    ne = int(has_e.sum())
    ec = fixed_strings("E3312", (scramble(np.arange(ne), 12, salt=7 + w.cfg.seed), 12),
                       (rng.integers(0, 1000, ne), 3))
    w.card_str = pa.concat_arrays([soc, ec, w.p_idno])
    w.card_owner = np.concatenate([np.arange(n), np.flatnonzero(has_e), np.arange(n)]).astype(
        np.int32)
    ecert = np.full(n, -1, np.int64)
    ecert[has_e] = n + np.arange(ne)
    w.p["card_social"] = np.arange(n)
    w.p["card_ecert"] = ecert
    w.p["card_idno"] = n + ne + np.arange(n)
    w.p["proxy_card"] = np.full(n, -1, np.int64)
    w.p["proxy_look"] = np.full(n, -1, np.int32)


_AGES = np.array([0, 7, 18, 45, 60, 75, 120])
_OUT = np.array([0.9, 0.35, 0.3, 0.45, 0.9, 1.1])
_PH = np.array([0.2, 0.15, 0.35, 0.55, 0.95, 1.0])
_IN = np.array([0.008, 0.004, 0.007, 0.012, 0.03, 0.05])
_CHRONIC = np.array([0.03, 0.03, 0.12, 0.4, 0.65, 0.75])
#: average claims per person per month of the background (look-alikes and rings add ~3%)
TARGET_RATE = 0.97


def age_band(age: np.ndarray) -> np.ndarray:
    """0 child (<18), 1 adult (18-59), 2 elder (60+)."""
    return np.digitize(age, [18, 60])


def _health(w: World, rng: np.random.Generator) -> None:
    """Chronic conditions, visit rates and deaths (about 1% of persons, mostly elderly)."""
    n, age, male = w.n, w.p["age"], w.p["male"]
    k = np.digitize(age, _AGES[1:-1])
    band = age_band(age)
    chronic = rng.random(n) < _CHRONIC[k]
    wc = CATALOG.w_chronic[:, band].T  # (n, n_diag)
    cum = np.cumsum(wc, axis=1)
    u = rng.random(n) * cum[:, -1]
    dx = (cum < u[:, None]).sum(axis=1)
    codes = np.array(CATALOG.diag_code)
    dx = np.where((codes[dx] == "N40.x00") & ~male, CATALOG.diag("I10.x00"), dx)
    dx = np.where((codes[dx] == "C50.900") & male, CATALOG.diag("C34.900"), dx)
    w.p["chronic"] = np.where(chronic, dx, -1).astype(np.int32)
    het = rng.gamma(1.5, 1 / 1.5, n)
    r_out = _OUT[k] * het * np.where(chronic, 1.3, 1.0)
    r_ph = _PH[k] * het * np.where(chronic, 1.6, 1.0)
    r_in = _IN[k] * rng.gamma(2.0, 0.5, n) * np.where(chronic, 1.4, 1.0)
    scale = (TARGET_RATE - r_in.mean()) / (r_out.mean() + r_ph.mean())
    w.p["rate"] = np.stack([r_out * scale, r_in, r_ph * scale], axis=1)
    # deaths
    n_dead = max(1, round(0.01 * n))
    hz = np.exp((age - 60) / 8)
    dead = rng.choice(n, n_dead, replace=False, p=hz / hz.sum())
    w.p["death"][dead] = rng.integers(w.day0 + 3, w.day1 - 1, n_dead)
    w.p["death_in_hospital"] = np.zeros(n, bool)
    w.p["death_in_hospital"][dead[rng.random(n_dead) < 0.4]] = True
