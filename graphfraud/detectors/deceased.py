"""``deceased_claim``: claims for services after the insured person's death (冒名就医).

The service date of an inpatient stay is its discharge date, so a death in hospital whose stay
ends on the death day, settled days later, is not evidence; an outpatient or pharmacy claim
dated after the death is. Reversals are not claims (see ``claims_eff``). One evidence group per
provider that billed the dead: the provider, the deceased persons and their cards, and the
doctors on those claims.
"""

from __future__ import annotations

from graphfraud.detectors.base import Context, Requirement, register


@register("deceased_claim", requires=(Requirement("persons", ("death_date",)),),
          zh="死亡人员就医结算（冒名就医）", en="claims after the person's death")
def deceased_claim(ctx: Context) -> None:
    grace = int(ctx.p("grace_days"))
    card = "c.card_id" if ctx.has("claims", "card_id") else "NULL"
    doctor = "c.doctor_id" if ctx.has("claims", "doctor_id") else "NULL"
    ctx.engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dead AS
        SELECT c.claim_id, c.person_id, {card} AS card_id, c.provider_id, {doctor} AS doctor_id,
               c.service_date, p.death_date, c.fund_paid,
               datediff('day', p.death_date, c.service_date) AS days_after
        FROM claims_eff c JOIN canon_persons p ON p.person_id = c.person_id
        WHERE p.death_date IS NOT NULL AND c.service_date > p.death_date + {grace}
    """)
    ctx.emit(
        """
        SELECT 'deceased:' || provider_id AS group_id,
               1 - 1 / (1 + count(DISTINCT person_id) + 0.5 * ln(1 + count(*))) AS strength,
               '为 ' || count(DISTINCT person_id) || ' 名已死亡人员结算 ' || count(*) ||
                 ' 笔（死亡后最长 ' || max(days_after) || ' 天），统筹基金支付 ' ||
                 round(sum(fund_paid), 2) || ' 元' AS summary_zh,
               count(*) || ' claims for ' || count(DISTINCT person_id) ||
                 ' persons after their death (up to ' || max(days_after) ||
                 ' days after), fund paid ' || round(sum(fund_paid), 2) || ' yuan' AS summary_en,
               json_object('persons', count(DISTINCT person_id), 'claims', count(*),
                           'max_days_after', max(days_after)) AS stats
        FROM _dead GROUP BY provider_id
        """,
        """
        SELECT 'deceased:' || provider_id AS group_id, 'provider' AS kind, provider_id AS id,
               NULL AS role, 1.0 AS weight FROM _dead
        UNION ALL SELECT 'deceased:' || provider_id, 'person', person_id, NULL, 1.0 FROM _dead
        UNION ALL SELECT 'deceased:' || provider_id, 'card', card_id, NULL, 1.0 FROM _dead
        UNION ALL SELECT 'deceased:' || provider_id, 'doctor', doctor_id, NULL,
               count(*) / sum(count(*)) OVER (PARTITION BY provider_id) FROM _dead
               GROUP BY provider_id, doctor_id
        """,
        "SELECT 'deceased:' || provider_id AS group_id, claim_id FROM _dead",
    )
    ctx.engine.execute("DROP TABLE _dead")
