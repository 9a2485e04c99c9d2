"""doctor_pharmacy_collusion: a doctor steering e-prescriptions to a distant pharmacy is caught;
the pharmacy next to the hospital, a border hospital whose doctors all use the pharmacy across
the border, and a dual-channel pharmacy filling oncologists' prescriptions are not."""

from __future__ import annotations

from detectorkit import claim, on_synth, person_groups, run_detector, score_synth

HOSP = "H33120200001"          # district 331202
NEAR = "P33120200010"          # next to it
FAR = "P33122100020"           # another county, 331221
BORDER_HOSP = "H33122200001"   # county 331222, at the border with 331221
ACROSS = "P33122100030"        # across the border, 331221
CANCER_HOSP = "H33120300001"   # level 3, district 331203
DUAL = "P33121100040"          # designated dual-channel pharmacy, district 331211


def _rx(doctor: str, pharmacy: str, n: int, tag: str, diagnosis: str = "I10.x00") -> list[dict]:
    """``n`` e-prescriptions of ``doctor`` filled at ``pharmacy`` by persons ``<tag>0..``."""
    return [claim(f"{tag}{i % 12}", pharmacy, f"2024-{1 + i % 6:02d}-{1 + i % 27:02d} 15:00",
                  claim_id=f"{tag}-{doctor}-{pharmacy}-{i}", doctor_id=doctor,
                  diagnosis_code=diagnosis) for i in range(n)]


def _visits(doctor: str, hospital: str, n: int = 5) -> list[dict]:
    return [claim(f"V{doctor}{i}", hospital, f"2024-02-{i + 1:02d} 09:00", doctor_id=doctor)
            for i in range(n)]


def _fixture() -> list[dict]:
    rows = []
    # the colluding doctor: 24 of 30 prescriptions to a pharmacy in another county
    rows += _rx("D331202000001", FAR, 24, "RING") + _rx("D331202000001", NEAR, 6, "PAT")
    # colleagues of the same hospital: the pharmacy next door (same region)
    for d in ("D331202000002", "D331202000003"):
        rows += _rx(d, NEAR, 27, "PAT") + _rx(d, FAR, 1, "PAT")
    # a border hospital: every doctor sends most patients across the border
    for d in ("D331222000001", "D331222000002", "D331222000003"):
        rows += _rx(d, ACROSS, 24, "BOR") + _rx(d, "P33122200031", 6, "BOR")
    # oncologists: targeted drugs at the designated dual-channel pharmacy
    for d in ("D331203000001", "D331203000002"):
        rows += _rx(d, DUAL, 25, "ONC", "C34.900") + _rx(d, "P33120300041", 5, "ONC", "C34.900")
    for d, h in [("D331202000001", HOSP), ("D331202000002", HOSP), ("D331202000003", HOSP),
                 ("D331222000001", BORDER_HOSP), ("D331222000002", BORDER_HOSP),
                 ("D331222000003", BORDER_HOSP), ("D331203000001", CANCER_HOSP),
                 ("D331203000002", CANCER_HOSP)]:
        rows += _visits(d, h)
    return rows


PROVIDERS = [{"provider_id": p, "region": p[1:7], "dual_channel": str(p == DUAL).lower()}
             for p in (HOSP, NEAR, FAR, BORDER_HOSP, ACROSS, CANCER_HOSP, DUAL)]
DOCTORS = ([{"doctor_id": f"D33120200000{i}", "provider_id": HOSP, "department": "内科"}
            for i in (1, 2, 3)]
           + [{"doctor_id": f"D33122200000{i}", "provider_id": BORDER_HOSP, "department": "全科"}
              for i in (1, 2, 3)]
           + [{"doctor_id": f"D33120300000{i}", "provider_id": CANCER_HOSP, "department": "肿瘤科"}
              for i in (1, 2)])


def _check_ring(ev) -> None:
    assert [g["group_id"] for g in ev.groups] == [f"doctor_pharmacy:D331202000001:{FAR}"]
    roles = {(m["kind"], m["id"]): m["role"] for m in ev.members}
    assert roles[("doctor", "D331202000001")] == "recruiter"
    assert roles[("provider", FAR)] == "organizer"
    assert ev.persons() == {f"RING{i}" for i in range(12)}
    assert ev.claim_ids() == {f"RING-D331202000001-{FAR}-{i}" for i in range(24)}


def test_distant_pharmacy_caught_proximity_peers_and_dual_channel_cleared():
    ev = run_detector("doctor_pharmacy_collusion", claims=_fixture(), providers=PROVIDERS,
                      doctors=DOCTORS)
    _check_ring(ev)
    assert "24 张（80.0%）" in ev.groups[0]["summary_zh"]
    assert "331221" in ev.groups[0]["summary_zh"]


def test_regions_from_codes_without_reference_tables():
    """No providers or doctors table: regions from the codes, hospitals from the visits, and
    prescriptions that mostly carry a cancer diagnosis count as designated (双通道)."""
    _check_ring(run_detector("doctor_pharmacy_collusion", claims=_fixture()))


def test_skipped_without_doctor_ids():
    ev = run_detector("doctor_pharmacy_collusion", claims=[claim("A", NEAR, "2024-03-01")])
    assert ev.groups == []
    assert ev.report["skipped"] == [{"detector": "doctor_pharmacy_collusion",
                                     "reason": "claims.doctor_id is empty or absent"}]


def test_on_synthetic_data(tmp_path):
    """Seeds 13 and 31, 20,000 persons, 6 months: the planted doctors are found, the
    dual-channel oncologists are not."""
    found, total, flagged, looks = 0, 0, 0, 0
    for seed in (13, 31):
        ev, truth = on_synth(["doctor_pharmacy_collusion"], persons=20000, months=6, seed=seed,
                             workdir=tmp_path)
        groups = person_groups(ev)
        f, t, fl, lk = score_synth(ev, truth, "doctor_pharmacy_collusion")
        found, total, flagged, looks = found + f, total + t, flagged + fl, looks + lk
        assert len(groups) <= 3, f"seed {seed}: {sorted(groups)}"
    assert total >= 2 and found == total, f"seeds 13, 31: found {found} of {total}"
    assert flagged == 0, f"seeds 13, 31: {flagged} of {looks} look-alike groups flagged"
