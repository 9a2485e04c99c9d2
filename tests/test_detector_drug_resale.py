"""drug_resale: packs dispensed twice and professional patients are caught; returns, chronic
patients, patients of several doctors and dual-channel buyers are not."""

from __future__ import annotations

from detectorkit import claim, on_synth, run_detector, score_synth

DRUG = "XB01ACA001A003757299574"      # 替格瑞洛片, 86 yuan a pack
TARGETED = "XL01EBA052A001010100483"  # 甲磺酸奥希替尼片, 4830 yuan a pack
OTHERS = ["XL01EXA011A001010100111", "XL01EXA012A001010100222", "XL02BXA013A001010100333",
          "XL01EBA014A001010100444", "XL01XEA015A001010100555"]
ORGANIZER = "P33120200099"


def _sale(cid: str, person: str, provider: str, when: str, code: str, trace: str | None = None,
          qty: int = 1, price: float = 86.0, **kw) -> tuple[dict, dict]:
    """One claim of one drug line (negative ``qty``: a return)."""
    total = qty * price
    c = claim(person, provider, when, claim_id=cid, total=total, **kw)
    line = {"claim_id": cid, "item_code": code, "item_name": "药品", "quantity": str(qty),
            "unit_price": f"{price:.2f}", "amount": f"{total:.2f}"}
    if trace:
        line["trace_code"] = trace
    return c, line


def _resale_fixture() -> tuple[list[dict], list[dict]]:
    rows = [
        # the ring: two persons collect packs at hospitals and pharmacies ...
        _sale("R1", "SELL1", "H33120200001", "2024-03-01 09:00", DRUG, "81234560000000000001"),
        _sale("R2", "SELL1", "H33120300002", "2024-03-02 09:00", DRUG, "81234560000000000002"),
        _sale("R3", "SELL2", "P33120200003", "2024-03-03 10:00", DRUG, "81234560000000000003"),
        # ... and the same packs are settled again at the organizer's pharmacy, no reversal
        _sale("R4", "TAKE1", ORGANIZER, "2024-03-10 19:00", DRUG, "81234560000000000001"),
        _sale("R5", "TAKE1", ORGANIZER, "2024-03-11 19:00", DRUG, "81234560000000000002"),
        _sale("R6", "TAKE2", ORGANIZER, "2024-03-12 20:00", DRUG, "81234560000000000003"),
        # look-alike 1: a pack sold, reversed in full (冲正, negative line), sold to another
        _sale("L1", "RET1", "P33120200050", "2024-04-01 10:00", DRUG, "81234560000000000009"),
        _sale("L2", "RET1", "P33120200050", "2024-04-01 10:20", DRUG, "81234560000000000009",
              qty=-1, orig_claim_id="L1"),
        _sale("L3", "RET2", "P33120200050", "2024-04-03 15:00", DRUG, "81234560000000000009"),
    ]
    # look-alike 2: two packs sold, one returned by a partial refund (a negative claim that
    # matches no earlier settlement), then sold again to someone else
    c, a = _sale("L4", "RET3", "P33120200051", "2024-05-01 10:00", DRUG, "81234560000000000010")
    b = dict(a, trace_code="81234560000000000011", line_no="2")
    c["total_amount"], a["line_no"] = "172.00", "1"
    rows += [(c, a), (c, b),
             _sale("L5", "RET3", "P33120200051", "2024-05-02 10:00", DRUG, "81234560000000000010",
                   qty=-1),
             _sale("L6", "RET4", "P33120200051", "2024-05-06 11:00", DRUG,
                   "81234560000000000010")]
    claims = list({r[0]["claim_id"]: r[0] for r in rows}.values())
    return claims, [r[1] for r in rows]


def test_packs_dispensed_twice_caught_returns_cleared():
    claims, items = _resale_fixture()
    ev = run_detector("drug_resale", claims=claims, items=items)
    assert [g["group_id"] for g in ev.groups] == [f"drug_resale:{ORGANIZER}"]
    assert ev.persons() == {"SELL1", "SELL2", "TAKE1", "TAKE2"}
    roles = {(m["kind"], m["id"]): m["role"] for m in ev.members}
    assert roles[("provider", ORGANIZER)] == "organizer"
    assert {"H33120200001", "H33120300002", "P33120200003"} <= ev.ids("provider")
    assert ev.claim_ids() == {"R1", "R2", "R3", "R4", "R5", "R6"}
    assert ev.groups[0]["summary_zh"].startswith("3 盒药品")


def test_professional_patient_caught_look_alikes_cleared():
    hv = {"price": 4830.0}
    rows = []
    # a professional patient: the same targeted drug at five places within three weeks
    for i, (prov, day) in enumerate([("H33120200001", 1), ("H33120300002", 5), ("P33120200011", 9),
                                     ("P33122100012", 14), ("H33128100013", 20)]):
        rows.append(_sale(f"PRO{i}", "PRO", prov, f"2024-03-{day:02d} 10:00", TARGETED, **hv))
    # a chronic patient: the same drug every month, at two places
    for m in range(1, 7):
        rows.append(_sale(f"CHR{m}", "CHRONIC", ("H33120200001", "P33120200011")[m % 2],
                          f"2024-{m:02d}-10 10:00", TARGETED, **hv))
    # a patient of several doctors: five different expensive drugs at five places
    for i, code in enumerate(OTHERS):
        rows.append(_sale(f"MAN{i}", "MANY", f"H3312020010{i}", f"2024-03-{i + 2:02d} 10:00",
                          code, **hv))
    # a cancer patient at four places and a dual-channel pharmacy (双通道): four places
    for i, prov in enumerate(["H33120200001", "H33120300002", "P33120200011", "P33120200020",
                              "P33120299999", "P33120299999"]):
        rows.append(_sale(f"DUA{i}", "DUAL", prov, f"2024-04-{2 * i + 1:02d} 10:00", TARGETED,
                          **hv))
    # drugs given on wards are not taken home
    for i in range(5):
        rows.append(_sale(f"INP{i}", "INPAT", f"H3312020020{i}", f"2024-05-{i + 3:02d} 10:00",
                          TARGETED, visit_type="inpatient", **hv))
    providers = [{"provider_id": "P33120299999", "dual_channel": "true"},
                 {"provider_id": "P33120200011", "dual_channel": "false"}]
    ev = run_detector("drug_resale", claims=[r[0] for r in rows], items=[r[1] for r in rows],
                      providers=providers)
    assert [g["group_id"] for g in ev.groups] == ["drug_resale:buyer:PRO"]
    assert ev.persons() == {"PRO"}
    assert len(ev.ids("provider")) == 5
    assert ev.claim_ids() == {f"PRO{i}" for i in range(5)}
    assert "5 家机构购买同一高值药品" in ev.groups[0]["summary_zh"]


def test_skipped_without_items():
    ev = run_detector("drug_resale", claims=[claim("A", "P33120200001", "2024-03-01")])
    assert ev.groups == []
    assert ev.report["skipped"] == [{"detector": "drug_resale", "reason": "no items table"}]


def test_on_synthetic_data(tmp_path):
    """Seeds 17 and 29, 20,000 persons, 6 months: the planted drug rings are found."""
    found, total, flagged, looks = 0, 0, 0, 0
    for seed in (17, 29):
        ev, truth = on_synth(["drug_resale"], persons=20000, months=6, seed=seed,
                             workdir=tmp_path)
        f, t, fl, lk = score_synth(ev, truth, "drug_resale", kinds=("returns", "dual_channel"))
        found, total, flagged, looks = found + f, total + t, flagged + fl, looks + lk
    assert total >= 2 and found == total, f"seeds 17, 29: found {found} of {total} rings"
    assert looks >= 2 and flagged == 0, f"seeds 17, 29: {flagged} of {looks} look-alikes"
