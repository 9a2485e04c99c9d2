"""Tests of the synthetic-data generator (graphfraud.synth). Every random run states its seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from graphfraud.errors import InputError
from graphfraud.loaders.schema import TABLES
from graphfraud.synth import LOOKALIKES, PATTERNS, SynthConfig, generate, gb11643_check_digit

SEED = 11
FILES = ("claims", "items", "persons", "providers", "doctors", "staff")


def _run(tmp: Path, name: str, **kw) -> tuple[Path, dict]:
    out = tmp / name
    out.mkdir()
    return out, generate(out, SynthConfig(**kw))


def _read(d: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """One default-mix data set: persons=6000, months=4, seed=SEED."""
    d, summary = _run(tmp_path_factory.mktemp("synth"), "small", persons=6000, months=4, seed=SEED)
    truth = json.loads((d / "truth.json").read_text(encoding="utf-8"))
    return {"dir": d, "summary": summary, "truth": truth,
            **{t: _read(d, t) for t in FILES}}


def _cents(s: pd.Series) -> pd.Series:
    return (pd.to_numeric(s, errors="coerce") * 100).round().astype("Int64")


def _bad_ids(small) -> set[str]:
    return {m["claim_id"] for m in small["truth"]["noise"]["malformed"]}


# --- determinism ------------------------------------------------------------------------

def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    a, _ = _run(tmp_path, "a", persons=2500, months=2, seed=5)
    b, _ = _run(tmp_path, "b", persons=2500, months=2, seed=5)
    c, _ = _run(tmp_path, "c", persons=2500, months=2, seed=6)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert {f"{t}.csv" for t in FILES} | {"truth.json"} == set(names)
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), f"seed 5: {n} differs between runs"
    assert (a / "claims.csv").read_bytes() != (c / "claims.csv").read_bytes(), "seeds 5 and 6"
    assert (a / "truth.json").read_bytes() != (c / "truth.json").read_bytes()


# --- formats ----------------------------------------------------------------------------

def test_gb11643_known_answer():
    assert gb11643_check_digit("11010519491231002") == "X"
    assert gb11643_check_digit("44052418800101001") == "4"
    with pytest.raises(ValueError):
        gb11643_check_digit("123")


def test_every_id_number_is_valid(small):
    p = small["persons"]
    assert p.id_number.str.fullmatch(r"\d{17}[\dX]").all()
    assert all(gb11643_check_digit(x[:17]) == x[17] for x in p.id_number), f"seed {SEED}"
    assert p.id_number.is_unique and p.person_id.is_unique
    # birth date and sex parity agree with the id number
    assert (p.id_number.str[6:14] == p.birth_date.str.replace("-", "")).all()
    odd = p.id_number.str[16].astype(int) % 2 == 1
    assert (odd == (p.gender == "M")).all()


def test_code_shapes(small):
    c, it, pr, doc = small["claims"], small["items"], small["providers"], small["doctors"]
    assert pr.provider_id.str.fullmatch(r"[HP]\d{11}").all()
    assert ((pr.provider_id.str[0] == "P") == (pr.provider_type == "pharmacy")).all()
    assert pr.region.str.fullmatch(r"3312\d\d").all()
    assert (pr.provider_id.str[1:7] == pr.region).all()
    assert doc.doctor_id.str.fullmatch(r"D\d{12}").all()
    assert small["staff"].office.str.endswith("医疗保障服务中心").all()
    drugs = it.item_code.str.len() == 23
    assert it.item_code[drugs].str.fullmatch(r"[XZ][A-Z]\d\d[A-Z]{2}[A-Z]\d{3}A\d{3}\d{9}").all()
    assert it.item_code[~drugs].str.fullmatch(r"\d{15}").all()
    tc = it.trace_code[it.trace_code != ""]
    assert len(tc) > 100 and tc.str.fullmatch(r"\d{20}").all()
    assert (it.item_code[it.trace_code != ""].str.len() == 23).all()  # only drugs carry codes
    dx = c.diagnosis_code[c.diagnosis_code != ""]
    assert dx.str.fullmatch(r"[A-Z]\d\d\.[\dx]\d\d").all()
    ok = ~c.claim_id.isin(_bad_ids(small))
    assert c.settled_at[ok].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert c.total_amount[ok].str.fullmatch(r"-?\d+\.\d\d").all()
    assert set(c.visit_type[ok]) == {"outpatient", "inpatient", "pharmacy"}
    assert c.person_id[ok].str.fullmatch(r"\d{16}").all()
    assert set(c.columns) == {col.name for col in TABLES["claims"].columns}
    for t in FILES:
        assert list(small[t].columns) == [col.name for col in TABLES[t].columns]


def test_volume_and_population(small):
    s, p = small["summary"], small["persons"]
    per = s["claims"] / (6000 * 4)
    assert 0.85 < per < 1.25, f"seed {SEED}: {per} claims per person-month"
    elder = (p.birth_date < "1964-01-01").mean()
    assert 0.15 < elder < 0.26
    dead = (p.death_date != "").mean()
    assert 0.006 < dead < 0.02
    assert p.address.duplicated(keep=False).mean() > 0.5  # households share an address


def test_inpatient_claims_are_stays(small):
    c = small["claims"]
    ip = c[(c.visit_type == "inpatient") & ~c.claim_id.isin(_bad_ids(small)) & (c.orig_claim_id == "")]
    los = (pd.to_datetime(ip.discharge_date) - pd.to_datetime(ip.admit_date)).dt.days
    assert los.between(1, 25).all()
    lag = (pd.to_datetime(ip.settled_at.str[:10]) - pd.to_datetime(ip.discharge_date)).dt.days
    assert lag.between(0, 5).all() and (lag == 0).mean() > 0.9


# --- answer key -------------------------------------------------------------------------

def test_every_pattern_planted(small):
    rings = small["truth"]["rings"]
    assert {p for r in rings for p in r["patterns"]} == set(PATTERNS)
    for r in rings:
        assert r["claims"] > 0 and len(r["members"]) >= 3, r["truth_id"]
        assert r["fund_paid"] > 0
    assert any(len(r["patterns"]) > 1 for r in rings)
    assert all("insider_collusion" not in r["patterns"] or len(r["patterns"]) == 2 for r in rings)
    strengths = [r["strength"] for r in rings]
    assert min(strengths) < 0.35 and max(strengths) > 0.7


def test_every_lookalike_kind_present(small):
    kinds = {g["kind"] for g in small["truth"]["lookalikes"]}
    assert kinds == set(LOOKALIKES)
    assert all(g["claims"] > 0 for g in small["truth"]["lookalikes"])


def test_truth_claim_ids_exist_and_fund_adds_up(small):
    c = small["claims"].drop_duplicates("claim_id").set_index("claim_id")
    for r in small["truth"]["rings"] + small["truth"]["lookalikes"]:
        assert set(r["claim_ids"]) <= set(c.index)
    for r in small["truth"]["rings"]:
        total = _cents(c.loc[r["claim_ids"], "fund_paid"]).sum()
        assert total == round(r["fund_paid"] * 100), r["truth_id"]
    t = small["truth"]
    assert sorted(t) == ["config", "counts", "generator", "lookalikes", "noise", "rings"]
    assert t["generator"] == "graphfraud.synth" and t["config"]["seed"] == SEED


def test_items_sum_to_claim_totals(small):
    c, it = small["claims"], small["items"]
    c = c[~c.claim_id.isin(_bad_ids(small))].drop_duplicates()
    sums = _cents(it.amount).groupby(it.claim_id).sum()
    tot = _cents(c.set_index("claim_id").total_amount)
    assert (sums.reindex(tot.index) == tot).all()
    line = _cents(it.unit_price) * pd.to_numeric(it.quantity)
    assert (line == _cents(it.amount)).all()
    fund = _cents(c.fund_paid).abs() <= _cents(c.total_amount).abs()
    assert fund.all()


def test_ring_members_live_ordinary_lives(small):
    c = small["claims"]
    planted = {i for r in small["truth"]["rings"] for i in r["claim_ids"]}
    other = c[~c.claim_id.isin(planted)]
    seen_person, seen_prov = set(other.person_id), set(other.provider_id)
    shares = []
    for r in small["truth"]["rings"]:
        persons = [m["id"] for m in r["members"] if m["kind"] == "person"]
        provs = [m["id"] for m in r["members"] if m["kind"] == "provider"]
        assert all(p in seen_prov for p in provs), r["truth_id"]
        share = np.mean([p in seen_person for p in persons])
        assert share >= 0.5, f"seed {SEED}: {r['truth_id']} only {share:.0%} camouflaged"
        shares += [p in seen_person for p in persons]
    assert np.mean(shares) >= 0.9, f"seed {SEED}: ring persons without ordinary claims"


def test_ring_ids_do_not_reveal_membership(small):
    c = small["claims"]
    planted = {i for r in small["truth"]["rings"] for i in r["claim_ids"]}
    seq = c.claim_id.str[-10:].astype(int)
    is_ring = c.claim_id.isin(planted)
    # claim ids follow settlement time for everyone: ring claims are spread over the range
    assert seq[is_ring].min() < seq.quantile(0.2) and seq[is_ring].max() > seq.quantile(0.8)
    assert c.settled_at[~c.claim_id.isin(_bad_ids(small))].is_monotonic_increasing


def test_deceased_and_trace_duplicates_are_where_the_key_says(small):
    c, p, it, t = small["claims"], small["persons"], small["items"], small["truth"]
    ring_ids = {i for r in t["rings"] for i in r["claim_ids"]}
    deceased_ids = {i for r in t["rings"] if "deceased_claim" in r["patterns"] for i in r["claim_ids"]}
    death_ids = {i for g in t["lookalikes"] if g["kind"] == "in_hospital_death" for i in g["claim_ids"]}
    m = c.merge(p[["person_id", "death_date"]], on="person_id")
    after = m[(m.death_date != "") & (m.settled_at.str[:10] > m.death_date)
              & ~m.total_amount.str.startswith("-") & ~m.claim_id.isin(_bad_ids(small))]
    assert len(after) and set(after.claim_id) <= deceased_ids | death_ids
    assert deceased_ids & set(after.claim_id)
    net = pd.to_numeric(it.quantity).groupby(it.trace_code.where(it.trace_code != "")).sum()
    twice = set(net[net > 1].index)
    assert twice, f"seed {SEED}: no traceability code dispensed twice"
    resale = {i for r in t["rings"] if "drug_resale" in r["patterns"] for i in r["claim_ids"]}
    assert set(it.claim_id[it.trace_code.isin(twice)]) <= resale | (set(it.claim_id) - ring_ids)
    assert set(it.claim_id[it.trace_code.isin(twice)]) & resale


def test_noise(small):
    c, n = small["claims"], small["truth"]["noise"]
    rev = c[c.orig_claim_id != ""]
    assert len(rev) > 0.005 * len(c)
    assert set(rev.orig_claim_id) <= set(c.claim_id)
    orig = c.drop_duplicates("claim_id").set_index("claim_id").loc[rev.orig_claim_id]
    assert (orig.visit_id.values == rev.visit_id.values).all()
    assert (_cents(rev.total_amount).values == -_cents(orig.total_amount).values).all()
    assert n["duplicated_rows"] == c.duplicated().sum() > 0
    assert n["malformed_rows"] == len(n["malformed"]) > 0
    bad = c[c.claim_id.isin(_bad_ids(small))]
    broken = (bad.person_id == "") | ~bad.visit_type.isin(["outpatient", "inpatient", "pharmacy"]) \
        | pd.to_datetime(bad.settled_at, errors="coerce", format="%Y-%m-%d %H:%M:%S").isna() \
        | pd.to_numeric(bad.total_amount, errors="coerce").isna()
    assert broken.all()


# --- options ----------------------------------------------------------------------------

def test_chinese_headers_gb18030(tmp_path):
    d, _ = _run(tmp_path, "zh", persons=1500, months=2, seed=3, headers="chinese",
                encoding="gb18030")
    raw = (d / "claims.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["结算ID", "就诊ID", "人员编号"] and "医疗类别" in header
    c = pd.read_csv(d / "claims.csv", dtype=str, encoding="gb18030", keep_default_na=False)
    assert {"门诊", "住院", "药店购药"} <= set(c["医疗类别"])
    assert c["结算时间"].str.contains("年").any() and c["结算时间"].str.contains("/").any()
    assert c["结算时间"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").mean() > 0.5
    p = pd.read_csv(d / "persons.csv", dtype=str, encoding="gb18030")
    assert "证件号码" in p.columns and set(p["性别"]) == {"男", "女"}


def test_platform_headers_and_utf8_sig(tmp_path):
    d, _ = _run(tmp_path, "pf", persons=1500, months=1, seed=4, headers="platform",
                encoding="utf-8-sig", items=False, persons_table=False)
    raw = (d / "claims.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfsetl_id,mdtrt_id,psn_no,mdtrt_cert_no,fixmedins_code")
    assert not (d / "items.csv").exists() and not (d / "persons.csv").exists()


def test_parquet_and_xlsx(tmp_path):
    d, s = _run(tmp_path, "pq", persons=1200, months=1, seed=8, fmt="parquet")
    t = pq.read_table(d / "claims.parquet")
    assert t.num_rows == s["claims"] and str(t.schema.field("total_amount").type) == "decimal128(18, 2)"
    d, s = _run(tmp_path, "gz", persons=1200, months=1, seed=8, fmt="csv.gz")
    assert len(pd.read_csv(d / "claims.csv.gz", dtype=str)) == s["claims"]
    openpyxl = pytest.importorskip("openpyxl")
    d, s = _run(tmp_path, "x1", persons=800, months=1, seed=8, fmt="xlsx", items=False)
    d2, _ = _run(tmp_path, "x2", persons=800, months=1, seed=8, fmt="xlsx", items=False)
    assert (d / "claims.xlsx").read_bytes() == (d2 / "claims.xlsx").read_bytes()
    ws = openpyxl.load_workbook(d / "claims.xlsx", read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == s["claims"] + 1 and rows[0][0] == "claim_id"
    assert isinstance(rows[1][14], (int, float))  # total_amount is a number


def test_big_hospital_daily(tmp_path):
    d, _ = _run(tmp_path, "big", persons=3000, months=1, seed=9, big_hospital_daily=500,
                lookalikes=0, noise=False)
    c = _read(d, "claims")
    daily = c.groupby([c.provider_id, c.settled_at.str[:10]]).person_id.nunique()
    assert daily.groupby(level=0).median().max() >= 490


def test_mix_and_validation(tmp_path):
    _, s = _run(tmp_path, "mix", persons=1500, months=1, seed=2,
                mix={"card_burst": 2, "readmission": 1}, lookalikes=0)
    assert s["rings"] == 3
    with pytest.raises(InputError):
        SynthConfig(fmt="json").validate()
    with pytest.raises(InputError):
        SynthConfig(mix={"nonsense": 1}).validate()
    with pytest.raises(InputError):
        SynthConfig(encoding="gb18030", fmt="parquet").validate()


def test_insider_signs_out_of_region(small):
    c, st, pr = small["claims"], small["staff"], small["providers"]
    region = dict(zip(st.staff_id, st.region))
    preg = dict(zip(pr.provider_id, pr.region))
    rings = [r for r in small["truth"]["rings"] if "insider_collusion" in r["patterns"]]
    assert rings, f"seed {SEED}: no insider ring"
    for r in rings:
        staff = [m["id"] for m in r["members"] if m["kind"] == "staff"]
        assert len(staff) == 1 and region[staff[0]] != "331200"
        mine = c[c.claim_id.isin(r["claim_ids"])]
        assert (mine.staff_id == staff[0]).mean() > 0.35
        assert all(preg[p] != region[staff[0]] for p in mine.provider_id[mine.staff_id == staff[0]])
        # the insider also does ordinary work in the own region
        assert (c.staff_id == staff[0]).sum() > len(mine[mine.staff_id == staff[0]])
