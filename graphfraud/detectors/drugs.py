"""``drug_resale``: re-sold drug packs (回流药) and professional patients (职业骗保人).

Two kinds of evidence, both from the item lines (``items``) of effective claims:

(a) **A pack dispensed twice.** A traceability code (追溯码) names one physical pack. It is
    counted once per effective dispensing claim (a claim reversed to nothing does not count,
    see ``claims_eff``), minus every return that is not already a recorded reversal: a
    negative-quantity line of the code on a claim that is neither a matched reversal nor
    reversed itself (a partial refund, a correction line). A code whose net count exceeds
    ``max_dispensings`` has been sold, bought back and sold again. The latest dispensings
    (as many as the excess) are the re-sales; the pack's holder before each re-sale is its
    seller; the provider of the re-sale is where the packs reappear: the organizer's place.

(b) **Professional patients.** A person who buys the same high-value drug (one catalogue
    code; unit price, or line amount / quantity, at least ``high_value_unit_price``) at
    ``min_places`` or more distinct providers within some span of ``period_days`` days:
    collecting a resaleable drug everywhere, faster than any treatment uses it. Only drug
    lines (catalogue codes starting with ``X``/``Z``, or lines with a traceability code) of
    non-inpatient claims count (drugs given on a ward are not taken home), and designated
    dual-channel pharmacies (双通道) are not counted as places: they are where such drugs are
    meant to be bought.

Groups: one per provider where packs reappear (``drug_resale:<provider>``), holding that
provider (organizer), the sellers and the takers of its re-sold packs, the providers where
those packs were dispensed before (weight: their share of the packs), and the professional
patients among its sellers and takers with their purchases. A professional patient tied to no
re-sold pack is a group of their own (``drug_resale:buyer:<person>``) with the places.

Look-alikes cleared: a return (冲正/退费) followed by a sale to someone else nets to one
dispensing; a chronic patient buying an expensive drug every month at one or two places never
reaches ``min_places`` in a window, nor does a patient who sees several doctors for
different drugs; dual-channel pharmacies are not counted as places.
"""

from __future__ import annotations

from graphfraud.detectors.base import Context, Requirement, register


def _lines(ctx: Context) -> None:
    """``_dr_lines``: item lines with their claim, price and status (one scan of items).

    A claim's status comes from one join to ``reversal_of`` (a reversal, or a reversed original):
    three ``IN (SELECT …)`` tests were 41 of 171 detection seconds at 10M claims.
    """
    price = ("coalesce(i.unit_price, i.amount / nullif(i.quantity, 0))"
             if ctx.has("items", "unit_price") else "i.amount / nullif(i.quantity, 0)")
    trace = "i.trace_code" if ctx.has("items", "trace_code") else "CAST(NULL AS VARCHAR)"
    name = "i.item_name" if ctx.has("items", "item_name") else "i.item_code"
    dual = ("coalesce(pv.dual_channel, false)" if ctx.has("providers", "dual_channel")
            else "false")
    join_pv = ("LEFT JOIN canon_providers pv ON pv.provider_id = c.provider_id"
               if ctx.has("providers", "dual_channel") else "")
    ctx.engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dr_lines AS
        SELECT i.claim_id, {trace} AS trace_code, i.item_code, {name} AS item_name,
               CAST(i.quantity AS DOUBLE) AS qty,
               CAST({price} AS DOUBLE) AS price, CAST(i.amount AS DOUBLE) AS amount,
               c.person_id, c.provider_id, c.visit_type, c.settled_at,
               CAST(c.settled_at AS DATE) AS day, {dual} AS dual,
               coalesce(st.reversed, 0) = 0 AND c.total_amount >= 0 AS effective,
               st.claim_id IS NOT NULL AS cancelled
        FROM canon_items i JOIN canon_claims c ON c.claim_id = i.claim_id {join_pv}
        LEFT JOIN (SELECT claim_id, max(reversed) AS reversed
                   FROM (SELECT reversal_id AS claim_id, 0 AS reversed FROM reversal_of
                         UNION ALL SELECT claim_id, 1 AS reversed FROM reversal_of) r
                   GROUP BY claim_id) st ON st.claim_id = c.claim_id
        WHERE i.quantity <> 0
          AND ({trace} IS NOT NULL OR upper(left(i.item_code, 1)) IN ('X', 'Z'))
    """)


def _resold_packs(ctx: Context) -> None:
    """``_dr_resale``: one row per re-sale of a pack, with the seller and the first place."""
    excess_over = int(ctx.p("max_dispensings"))
    ctx.engine.execute("""
        CREATE OR REPLACE TEMP TABLE _dr_disp AS
        SELECT trace_code, claim_id, any_value(person_id) AS person_id,
               any_value(provider_id) AS provider_id, min(settled_at) AS settled_at
        FROM _dr_lines WHERE trace_code IS NOT NULL AND qty > 0 AND effective
        GROUP BY trace_code, claim_id
    """)
    ctx.engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dr_resale AS
        WITH ret AS (
            SELECT trace_code, count(DISTINCT claim_id) AS returns FROM _dr_lines
            WHERE trace_code IS NOT NULL AND qty < 0 AND NOT cancelled GROUP BY trace_code),
        cnt AS (
            SELECT d.trace_code, count(*) AS dispensed, coalesce(any_value(r.returns), 0) AS returns
            FROM _dr_disp d LEFT JOIN ret r ON r.trace_code = d.trace_code
            GROUP BY d.trace_code
            HAVING count(*) - coalesce(any_value(r.returns), 0) > {excess_over}),
        seq AS (
            SELECT d.*, n.dispensed, n.dispensed - n.returns - {excess_over} AS excess,
                   row_number() OVER w AS rn,
                   lag(d.person_id) OVER w AS seller, lag(d.claim_id) OVER w AS prev_claim,
                   lag(d.provider_id) OVER w AS prev_place
            FROM _dr_disp d JOIN cnt n ON n.trace_code = d.trace_code
            WINDOW w AS (PARTITION BY d.trace_code ORDER BY d.settled_at, d.claim_id))
        SELECT trace_code, claim_id, person_id AS taker, provider_id AS place, settled_at,
               seller, prev_claim, prev_place
        FROM seq WHERE rn > dispensed - excess
    """)


def _professional_patients(ctx: Context) -> None:
    """``_dr_pro``: persons buying one high-value drug at many places within a window."""
    price, places, days = (float(ctx.p("high_value_unit_price")), int(ctx.p("min_places")),
                           int(ctx.p("period_days")))
    ctx.engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dr_hv AS
        SELECT person_id, item_code, provider_id, claim_id, day, sum(qty) AS packs,
               sum(amount) AS amount, any_value(item_name) AS item_name
        FROM _dr_lines
        WHERE qty > 0 AND effective AND price >= {price} AND NOT dual
          AND visit_type <> 'inpatient'
        GROUP BY person_id, item_code, provider_id, claim_id, day
    """)
    # a purchase's window: the distinct places where the same person bought the same drug in
    # the next `days` days; each person's busiest window is kept
    ctx.engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dr_pro AS
        WITH buyers AS (
            SELECT person_id, item_code FROM _dr_hv GROUP BY person_id, item_code
            HAVING count(DISTINCT provider_id) >= {places}),
        hv AS (SELECT h.* FROM _dr_hv h SEMI JOIN buyers b USING (person_id, item_code)),
        win AS (
            SELECT a.person_id, a.item_code, a.day, count(DISTINCT b.provider_id) AS places
            FROM (SELECT DISTINCT person_id, item_code, day FROM hv) a
            JOIN hv b ON b.person_id = a.person_id AND b.item_code = a.item_code
                 AND b.day >= a.day AND b.day < a.day + {days}
            GROUP BY a.person_id, a.item_code, a.day),
        best AS (
            SELECT person_id, item_code, day AS window_start, places,
                   row_number() OVER (PARTITION BY person_id
                                      ORDER BY places DESC, day, item_code) AS rk
            FROM win WHERE places >= {places})
        SELECT person_id, item_code, window_start, places FROM best WHERE rk = 1
    """)
    # the evidence: their purchases of that drug in that window
    ctx.engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dr_pro_claims AS
        SELECT h.* FROM _dr_hv h JOIN _dr_pro p USING (person_id, item_code)
        WHERE h.day >= p.window_start AND h.day < p.window_start + {days}
    """)


@register("drug_resale", requires=(Requirement("items"),),
          zh="倒卖药品（回流药、职业骗保人）", en="drug packs dispensed twice; professional patients")
def drug_resale(ctx: Context) -> None:
    e = ctx.engine
    _lines(ctx)
    _resold_packs(ctx)
    _professional_patients(ctx)
    # each person tied to a re-sale place; a professional patient tied to none stands alone
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _dr_gp AS
        SELECT DISTINCT 'drug_resale:' || place AS group_id, place, seller AS person_id,
               'seller' AS how FROM _dr_resale WHERE seller IS NOT NULL
        UNION SELECT DISTINCT 'drug_resale:' || place, place, taker, 'taker' FROM _dr_resale
    """)
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _dr_gpro AS
        SELECT DISTINCT g.group_id, p.person_id FROM _dr_pro p JOIN _dr_gp g USING (person_id)
        UNION ALL
        SELECT 'drug_resale:buyer:' || p.person_id, p.person_id FROM _dr_pro p
        WHERE p.person_id NOT IN (SELECT person_id FROM _dr_gp)
    """)
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _dr_gclaims AS
        SELECT 'drug_resale:' || place AS group_id, claim_id FROM _dr_resale
        UNION SELECT 'drug_resale:' || place, prev_claim FROM _dr_resale
        UNION SELECT g.group_id, h.claim_id FROM _dr_gpro g JOIN _dr_pro_claims h USING (person_id)
    """)
    ctx.emit(_groups_sql(int(ctx.p("min_places")), int(ctx.p("period_days"))), _MEMBERS_SQL,
             "SELECT group_id, claim_id FROM _dr_gclaims")
    for t in ("_dr_lines", "_dr_disp", "_dr_resale", "_dr_hv", "_dr_pro", "_dr_pro_claims",
              "_dr_gp", "_dr_gpro", "_dr_gclaims"):
        e.execute(f"DROP TABLE IF EXISTS {t}")


def _groups_sql(min_places: int, period: int) -> str:
    """The evidence groups: re-sale places and lone professional patients."""
    return f"""
WITH packs AS (
    SELECT 'drug_resale:' || place AS group_id, any_value(place) AS place,
           count(DISTINCT trace_code) AS packs, count(*) AS resales,
           count(DISTINCT seller) AS sellers, count(DISTINCT taker) AS takers,
           count(DISTINCT prev_place) AS first_places,
           CAST(min(settled_at) AS DATE) AS first_day, CAST(max(settled_at) AS DATE) AS last_day
    FROM _dr_resale GROUP BY place),
pros AS (
    SELECT g.group_id, count(DISTINCT g.person_id) AS pros, max(p.places) AS max_places,
           min(p.window_start) AS window_start, min(p.item_code) AS item_code
    FROM _dr_gpro g JOIN _dr_pro p USING (person_id) GROUP BY g.group_id),
drug AS (
    SELECT person_id, any_value(item_name) AS item_name,
           regexp_replace(CAST(round(sum(packs), 2) AS VARCHAR), '[.]0$', '') AS packs
    FROM _dr_pro_claims GROUP BY person_id),
money AS (
    SELECT g.group_id, round(sum(c.fund_paid), 2) AS fund, round(sum(c.total_amount), 2) AS total
    FROM _dr_gclaims g JOIN canon_claims c USING (claim_id) GROUP BY g.group_id),
allg AS (
    SELECT group_id FROM packs UNION SELECT group_id FROM pros)
SELECT a.group_id,
       CASE WHEN k.packs IS NULL THEN least(0.8, 0.35 + 0.1 * (p.max_places - {min_places}))
            ELSE 1 - 1 / (1 + 0.4 * k.packs + 0.3 * k.sellers + 0.3 * coalesce(p.pros, 0)) END
         AS strength,
       CASE WHEN k.packs IS NULL THEN
            '职业骗保人：' || {period} || ' 天内（自 ' || p.window_start || ' 起）在 ' ||
            p.max_places || ' 家机构购买同一高值药品 ' || d.item_name || ' 共 ' || d.packs ||
            ' 盒，相关结算统筹基金支付 ' || m.fund || ' 元'
       ELSE
            k.packs || ' 盒药品（同一追溯码）在扣除退费后被重复销售 ' || k.resales || ' 次，于 ' ||
            k.first_day || ' 至 ' || k.last_day || ' 在本机构再次结算；涉及原购药人 ' ||
            k.sellers || ' 名、再次购药人 ' || k.takers || ' 名、原售药机构 ' || k.first_places ||
            ' 家' || CASE WHEN p.pros > 0 THEN '；其中职业骗保人 ' || p.pros || ' 名' ELSE '' END ||
            '；相关结算统筹基金支付 ' || m.fund || ' 元'
       END AS summary_zh,
       CASE WHEN k.packs IS NULL THEN
            'professional patient: ' || d.packs || ' packs of the same high-value drug ' ||
            d.item_name || ' bought at ' || p.max_places || ' providers within ' || {period} ||
            ' days (from ' || p.window_start || '), fund paid ' || m.fund || ' yuan'
       ELSE
            k.packs || ' drug packs (same traceability code) re-sold ' || k.resales ||
            ' times net of returns, settled again here from ' || k.first_day || ' to ' ||
            k.last_day || '; ' || k.sellers || ' earlier buyers, ' || k.takers ||
            ' later buyers, ' || k.first_places || ' places of the earlier sale' ||
            CASE WHEN p.pros > 0 THEN '; ' || p.pros || ' professional patients' ELSE '' END ||
            '; fund paid ' || m.fund || ' yuan'
       END AS summary_en,
       json_object('packs', k.packs, 'resales', k.resales, 'sellers', k.sellers,
                   'takers', k.takers, 'first_places', k.first_places,
                   'professional_patients', coalesce(p.pros, 0), 'max_places', p.max_places,
                   'fund_paid', m.fund, 'total_amount', m.total) AS stats
FROM allg a LEFT JOIN packs k USING (group_id) LEFT JOIN pros p USING (group_id)
LEFT JOIN money m USING (group_id)
LEFT JOIN drug d ON a.group_id = 'drug_resale:buyer:' || d.person_id
"""


_MEMBERS_SQL = """
SELECT group_id, 'provider' AS kind, place AS id, 'organizer' AS role, 1.0 AS weight
FROM _dr_gp
UNION ALL
SELECT 'drug_resale:' || place, 'provider', prev_place, NULL,
       count(*) / sum(count(*)) OVER (PARTITION BY place)
FROM _dr_resale WHERE prev_place <> place GROUP BY place, prev_place
UNION ALL
SELECT group_id, 'person', person_id, 'member',
       count(*) / sum(count(*)) OVER (PARTITION BY group_id)
FROM (SELECT 'drug_resale:' || place AS group_id, seller AS person_id FROM _dr_resale
      UNION ALL SELECT 'drug_resale:' || place, taker FROM _dr_resale
      UNION ALL SELECT group_id, person_id FROM _dr_gpro)
GROUP BY group_id, person_id
UNION ALL
SELECT g.group_id, 'provider', h.provider_id, NULL,
       count(*) / sum(count(*)) OVER (PARTITION BY g.group_id)
FROM _dr_gpro g JOIN _dr_pro_claims h USING (person_id)
WHERE g.group_id LIKE 'drug_resale:buyer:%'
GROUP BY g.group_id, h.provider_id
"""
