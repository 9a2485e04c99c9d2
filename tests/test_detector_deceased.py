"""deceased_claim: billing the dead is caught; a death in hospital settled later is not."""

from __future__ import annotations

from detectorkit import claim, run_detector


def test_claims_after_death_caught_in_hospital_death_cleared():
    persons = [
        {"person_id": "DEAD1", "death_date": "2024-03-01"},
        {"person_id": "DEAD2", "death_date": "2024-03-05"},
        {"person_id": "HOSP", "death_date": "2024-03-10"},   # died in hospital
        {"person_id": "ALIVE"},
    ]
    claims = [
        # a clinic keeps billing two dead persons' cards
        claim("DEAD1", "H33120100001", "2024-03-08 10:00", card_id="K1", doctor_id="D331201000001"),
        claim("DEAD1", "H33120100001", "2024-03-20 10:00", card_id="K1", doctor_id="D331201000001"),
        claim("DEAD2", "H33120100001", "2024-03-21 09:00", card_id="K2", doctor_id="D331201000001"),
        claim("DEAD1", "H33120100009", "2024-02-20 10:00"),  # before death: fine
        # the look-alike: a stay ending on the death day, settled three days later
        claim("HOSP", "H33120100002", "2024-03-13 16:00", visit_type="inpatient",
              admit_date="2024-03-02", discharge_date="2024-03-10", total=9000),
        claim("ALIVE", "H33120100001", "2024-03-20 11:00"),
    ]
    # a reversal after death is a refund, not a claim
    claims.append(claim("DEAD2", "H33120100003", "2024-03-25 09:00", total=-50, fund=-30))
    ev = run_detector("deceased_claim", claims=claims, persons=persons)
    assert [g["group_id"] for g in ev.groups] == ["deceased:H33120100001"]
    assert ev.persons() == {"DEAD1", "DEAD2"}
    assert ev.ids("card") == {"K1", "K2"} and ev.ids("doctor") == {"D331201000001"}
    assert len(ev.claim_ids()) == 3
    assert "2 名已死亡人员" in ev.groups[0]["summary_zh"]


def test_skipped_without_death_dates():
    ev = run_detector("deceased_claim", claims=[claim("A", "H33120100001", "2024-03-01")])
    assert ev.groups == []
    assert ev.report["skipped"] == [{"detector": "deceased_claim", "reason": "no persons table"}]
