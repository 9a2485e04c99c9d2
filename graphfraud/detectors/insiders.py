"""``insider_collusion``: agency staff (经办人) whose approvals concentrate on a ring.

A claim's ``staff_id`` is the agency reviewer who approved it. Reviewers work for an office
that covers a region, so the ordinary reviewer of a region approves a large share of every
provider of that region: that is their assignment, not evidence. A staff member's region is
``staff.region`` when the input has it, else their usual region: where most of their
approvals go (counted in providers, then in claims). Regions are those of
``doctor_pharmacy_collusion`` (``providers.region`` or the digits inside the codes, compared
on the first ``region_digits`` digits; a code ending in ``00`` covers its area, so a city
office covers every district of the city).

Two ways to be evidence, each measured against what the assignment explains, as an odds
ratio (odds ``x : (n - x)`` of approving a claim, half a claim added to each side):

(A) **Outside the region.** A staff member approves at least ``min_claims`` claims of a
    provider outside their region, at least ``min_share`` of the provider's approvals that
    came from outside its region (a superset of "of all its approvals": out-of-region
    approvals are the exception, a colleague helping out, and spread thinly), with odds at
    least ``min_odds_ratio`` times their odds at the typical provider of that region (the
    approval-weighted median of their per-provider shares there: a ring at a few providers
    does not move it). A reviewer re-assigned to cover another region approves every provider
    there alike: the last test clears them.

(B) **Claims that carry other evidence.** For every evidence group of another detector (this
    one runs after all of them): a staff member approved at least ``min_claims`` of the
    group's approved claims, at least ``min_share`` of them, with odds at least
    ``min_odds_ratio`` times what their usual share at those providers predicts. The usual
    share at a provider is their share of its approvals that carry no evidence, shrunk toward
    their share of that region's (2 pseudo-claims). The ordinary reviewer approves a ring's
    claims no more often than the provider's other claims: cleared, even in a one-person
    office (share 1 everywhere), while an in-region insider signing 90% of a ring's claims in
    a three-person office (odds 9 against 0.5) is not.

One group per staff member (``insider:<staff>``): the staff member (role ``insider``), the
providers and the persons of the approvals that convict (weights: their share of those).
"""

from __future__ import annotations

from graphfraud.detectors.base import Context, Requirement, register
from graphfraud.detectors.prescriptions import provider_regions, region_prefix, same_region

#: every pattern whose evidence this detector reads
OTHER_PATTERNS = ("shared_card", "card_burst", "co_visit", "induced_admission", "drug_resale",
                  "deceased_claim", "readmission", "doctor_pharmacy_collusion", "dense_block")


def _staff_regions(ctx: Context, digits: int) -> None:
    """``_in_sreg``: each approving staff member's region prefix (table, else usual region)."""
    # usual region: where they approve the most providers, then the most claims (a ring
    # provider that fills an insider's days does not make its region theirs)
    usual = f"""
        SELECT staff_id, arg_min(region, (-providers, -n, region)) AS region FROM (
            SELECT c.staff_id, {region_prefix("r.region", digits)} AS region, count(*) AS n,
                   count(DISTINCT c.provider_id) AS providers
            FROM claims_eff c JOIN _in_preg r USING (provider_id)
            WHERE c.staff_id IS NOT NULL AND r.region IS NOT NULL GROUP BY ALL)
        GROUP BY staff_id"""
    if ctx.has("staff", "region"):
        sql = (f"SELECT u.staff_id, coalesce({region_prefix('s.region', digits)}, u.region) "
               f"AS region FROM ({usual}) u LEFT JOIN canon_staff s USING (staff_id)")
    else:
        sql = usual
    ctx.engine.execute(f"CREATE OR REPLACE TEMP TABLE _in_sreg AS {sql}")


def _approvals(ctx: Context, digits: int) -> None:
    """``_in_appr`` (approved claims) and the counts per staff, provider and region."""
    e = ctx.engine
    others = ", ".join(f"'{p}'" for p in OTHER_PATTERNS)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _in_appr AS
        SELECT c.claim_id, c.staff_id, c.provider_id, c.person_id, c.fund_paid, c.service_date,
               {region_prefix("r.region", digits)} AS p_region,
               {same_region(region_prefix("r.region", digits), "s.region")} AS inside,
               c.claim_id IN (SELECT claim_id FROM ev_claims WHERE pattern IN ({others})) AS ev
        FROM claims_eff c LEFT JOIN _in_preg r USING (provider_id)
        LEFT JOIN _in_sreg s USING (staff_id)
        WHERE c.staff_id IS NOT NULL
    """)
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _in_sp AS
        SELECT staff_id, provider_id, any_value(p_region) AS p_region,
               any_value(inside) AS inside, count(*) AS a, count(*) FILTER (NOT ev) AS a_clean
        FROM _in_appr GROUP BY staff_id, provider_id
    """)
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _in_p AS
        SELECT provider_id, any_value(p_region) AS p_region, count(*) AS n,
               count(*) FILTER (NOT ev) AS n_clean, count(*) FILTER (inside = false) AS n_outside
        FROM _in_appr GROUP BY provider_id
    """)
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _in_sr AS
        SELECT staff_id, p_region, count(*) AS a, count(*) FILTER (NOT ev) AS a_clean
        FROM _in_appr WHERE p_region IS NOT NULL GROUP BY staff_id, p_region
    """)
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _in_r AS
        SELECT p_region, count(*) AS n, count(*) FILTER (NOT ev) AS n_clean
        FROM _in_appr WHERE p_region IS NOT NULL GROUP BY p_region
    """)


def _odds(x: str, n: str) -> str:
    """SQL: the odds ``x : (n - x)``, with half a claim added to each side."""
    return f"(({x}) + 0.5) / (({n}) - ({x}) + 0.5)"


def _outside(ctx: Context) -> None:
    """``_in_hit_a``: path (A), concentrated approvals of providers outside the region."""
    min_claims, share, ratio = (int(ctx.p("min_claims")), float(ctx.p("min_share")),
                                float(ctx.p("min_odds_ratio")))
    # the baseline: the staff member's share at the typical provider of that region, the
    # median of their per-provider shares weighted by approvals; a ring at a minority of the
    # region's providers does not move it, a reviewer covering the whole region sets it
    ctx.engine.execute(f"""
        CREATE OR REPLACE TEMP TABLE _in_hit_a AS
        WITH cand AS (
            SELECT sp.staff_id, sp.provider_id, sp.a, p.n, p.n_outside, sp.p_region
            FROM _in_sp sp JOIN _in_p p USING (provider_id)
            WHERE sp.inside = false AND sp.a >= {min_claims} AND sp.a >= {share} * p.n_outside),
        dist AS (
            SELECT k.staff_id, k.p_region, coalesce(sp.a, 0) / p.n AS x, p.n,
                   sum(p.n) OVER (PARTITION BY k.staff_id, k.p_region ORDER BY
                                  coalesce(sp.a, 0) / p.n, p.provider_id) AS cum,
                   sum(p.n) OVER (PARTITION BY k.staff_id, k.p_region) AS total
            FROM (SELECT DISTINCT staff_id, p_region FROM cand) k
            JOIN _in_p p ON p.p_region = k.p_region
            LEFT JOIN _in_sp sp ON sp.staff_id = k.staff_id AND sp.provider_id = p.provider_id),
        base AS (
            SELECT staff_id, p_region, any_value(total) AS total,
                   least(greatest(min(x) FILTER (cum >= total / 2), 0.5 / (any_value(total) + 1)),
                         1 - 0.5 / (any_value(total) + 1)) AS q
            FROM dist GROUP BY staff_id, p_region)
        SELECT c.*, s.region AS s_region, b.q AS rest_share,
               {_odds("c.a", "c.n")} / (b.q / (1 - b.q)) AS odds_ratio
        FROM cand c JOIN base b USING (staff_id, p_region) JOIN _in_sreg s USING (staff_id)
        WHERE {_odds("c.a", "c.n")} >= {ratio} * b.q / (1 - b.q)
    """)


def _evidence(ctx: Context) -> None:
    """``_in_hit_b``: path (B), approvals concentrated on other detectors' evidence groups."""
    min_claims, share, ratio = (int(ctx.p("min_claims")), float(ctx.p("min_share")),
                                float(ctx.p("min_odds_ratio")))
    others = ", ".join(f"'{p}'" for p in OTHER_PATTERNS)
    e = ctx.engine
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _in_gc AS
        SELECT g.pattern, g.group_id, a.claim_id, a.staff_id, a.provider_id, a.p_region
        FROM (SELECT DISTINCT pattern, group_id, claim_id FROM ev_claims
              WHERE pattern IN ({others})) g
        JOIN _in_appr a USING (claim_id)
    """)
    # expected approvals: at each provider, the staff member's share of its approvals that
    # carry no evidence, shrunk toward their share of that region's (2 pseudo-claims)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _in_hit_b AS
        WITH tot AS (SELECT pattern, group_id, count(*) AS n FROM _in_gc GROUP BY ALL),
        cand AS (
            SELECT g.pattern, g.group_id, g.staff_id, count(*) AS x, any_value(t.n) AS n
            FROM _in_gc g JOIN tot t USING (pattern, group_id)
            GROUP BY g.pattern, g.group_id, g.staff_id
            HAVING count(*) >= {min_claims} AND count(*) >= {share} * any_value(t.n)),
        per_p AS (
            SELECT pattern, group_id, provider_id, any_value(p_region) AS p_region,
                   count(*) AS n_p
            FROM _in_gc GROUP BY pattern, group_id, provider_id),
        expect AS (
            SELECT c.pattern, c.group_id, c.staff_id,
                   sum(pp.n_p * (coalesce(sp.a_clean, 0) + 2 * coalesce(
                         (sr.a_clean + 0.5) / (r.n_clean + 1), 0.5 / (coalesce(r.n_clean, 0) + 1)))
                       / (p.n_clean + 2)) AS expected
            FROM cand c JOIN per_p pp USING (pattern, group_id)
            JOIN _in_p p ON p.provider_id = pp.provider_id
            LEFT JOIN _in_sp sp ON sp.staff_id = c.staff_id AND sp.provider_id = pp.provider_id
            LEFT JOIN _in_sr sr ON sr.staff_id = c.staff_id AND sr.p_region = pp.p_region
            LEFT JOIN _in_r r ON r.p_region = pp.p_region
            GROUP BY c.pattern, c.group_id, c.staff_id)
        SELECT c.*, x.expected,
               {_odds("c.x", "c.n")} / {_odds("x.expected", "c.n")} AS odds_ratio
        FROM cand c JOIN expect x USING (pattern, group_id, staff_id)
        WHERE {_odds("c.x", "c.n")} >= {ratio} * {_odds("x.expected", "c.n")}
    """)


@register("insider_collusion", requires=(Requirement("claims", ("staff_id",)),),
          zh="经办人员内外勾结（审核集中于团伙结算）",
          en="agency staff whose approvals concentrate on a ring", after=OTHER_PATTERNS)
def insider_collusion(ctx: Context) -> None:
    e = ctx.engine
    digits = int(ctx.p("region_digits"))
    provider_regions(ctx, "_in_preg")
    _staff_regions(ctx, digits)
    _approvals(ctx, digits)
    _outside(ctx)
    _evidence(ctx)
    # the approvals that convict: all of a staff member's approvals of an out-of-region
    # provider of path (A), and their approvals of a group's claims of path (B)
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _in_flag AS
        SELECT DISTINCT a.claim_id, a.staff_id, a.provider_id, a.person_id, a.fund_paid,
               a.service_date
        FROM _in_appr a JOIN _in_hit_a h USING (staff_id, provider_id)
        UNION
        SELECT DISTINCT a.claim_id, a.staff_id, a.provider_id, a.person_id, a.fund_paid,
               a.service_date
        FROM _in_gc g JOIN _in_hit_b h USING (pattern, group_id, staff_id)
        JOIN _in_appr a ON a.claim_id = g.claim_id
    """)
    ctx.emit(_GROUPS_SQL.replace("{min_claims}", str(int(ctx.p("min_claims")))), _MEMBERS_SQL,
             "SELECT 'insider:' || staff_id AS group_id, claim_id FROM _in_flag")
    for t in ("_in_preg", "_in_sreg", "_in_appr", "_in_sp", "_in_p", "_in_sr", "_in_r",
              "_in_hit_a", "_in_gc", "_in_hit_b", "_in_flag"):
        e.execute(f"DROP TABLE IF EXISTS {t}")


_GROUPS_SQL = """
WITH f AS (
    SELECT staff_id, count(*) AS claims, count(DISTINCT person_id) AS persons,
           count(DISTINCT provider_id) AS providers, round(sum(fund_paid), 2) AS fund,
           min(service_date) AS first_day, max(service_date) AS last_day
    FROM _in_flag GROUP BY staff_id),
a AS (
    SELECT staff_id, count(*) AS n_a,
           string_agg(provider_id || '（区划 ' || p_region || '，经办人区划 ' || s_region ||
                      '；审核该机构 ' || a || '/' || n || ' 笔，占区划外审核的 ' ||
                      CAST(round(100 * a / n_outside) AS INTEGER) || '%，在该区划典型机构的份额 ' ||
                      round(100 * rest_share, 2) || '%）', '、' ORDER BY a DESC, provider_id) AS zh,
           string_agg(provider_id || ' (region ' || p_region || ', staff region ' || s_region ||
                      '; ' || a || ' of its ' || n || ' approvals, ' ||
                      CAST(round(100 * a / n_outside) AS INTEGER) ||
                      '% of those from outside its region, vs ' || round(100 * rest_share, 2) ||
                      '% at the typical provider of that region)', ', '
                      ORDER BY a DESC, provider_id) AS en,
           max(odds_ratio) AS lift
    FROM _in_hit_a GROUP BY staff_id),
b AS (
    SELECT staff_id, count(*) AS n_b,
           string_agg(group_id || '（' || x || '/' || n || ' 笔，常规预期 ' ||
                      round(expected, 1) || '）', '、' ORDER BY x DESC, group_id) AS zh,
           string_agg(group_id || ' (' || x || ' of ' || n || ', ' || round(expected, 1) ||
                      ' expected)', ', ' ORDER BY x DESC, group_id) AS en,
           max(odds_ratio) AS lift
    FROM _in_hit_b GROUP BY staff_id)
SELECT 'insider:' || f.staff_id AS group_id,
       least(1.0, 0.35 + 0.15 * ln(1 + f.claims / {min_claims}) + 0.1 * ln(1 + f.providers)
             + CASE WHEN b.n_b > 0 THEN 0.2 ELSE 0 END) AS strength,
       '经办人 ' || f.staff_id || ' 审核通过的 ' || f.claims || ' 笔结算集中于可疑对象（' ||
         f.first_day || ' 至 ' || f.last_day || '，参保人 ' || f.persons || ' 名，统筹基金支付 ' ||
         f.fund || ' 元）' ||
         CASE WHEN a.n_a > 0 THEN '；审核区划外机构：' || a.zh ELSE '' END ||
         CASE WHEN b.n_b > 0 THEN '；审核其他线索团伙的结算：' || b.zh ELSE '' END AS summary_zh,
       'staff ' || f.staff_id || ' approved ' || f.claims || ' claims concentrated on suspects (' ||
         f.first_day || ' to ' || f.last_day || ', ' || f.persons || ' persons, fund paid ' ||
         f.fund || ' yuan)' ||
         CASE WHEN a.n_a > 0 THEN '; providers outside their region: ' || a.en ELSE '' END ||
         CASE WHEN b.n_b > 0 THEN '; claims of other evidence groups: ' || b.en ELSE '' END
         AS summary_en,
       json_object('claims', f.claims, 'persons', f.persons, 'providers', f.providers,
                   'fund_paid', f.fund, 'outside_providers', coalesce(a.n_a, 0),
                   'evidence_groups', coalesce(b.n_b, 0),
                   'max_odds_ratio', round(greatest(coalesce(a.lift, 0), coalesce(b.lift, 0)), 1))
         AS stats
FROM f LEFT JOIN a USING (staff_id) LEFT JOIN b USING (staff_id)
"""

_MEMBERS_SQL = """
SELECT 'insider:' || staff_id AS group_id, 'staff' AS kind, staff_id AS id, 'insider' AS role,
       1.0 AS weight FROM _in_flag
UNION ALL
SELECT 'insider:' || staff_id, 'provider', provider_id, NULL,
       count(*) / sum(count(*)) OVER (PARTITION BY staff_id)
FROM _in_flag GROUP BY staff_id, provider_id
UNION ALL
SELECT 'insider:' || staff_id, 'person', person_id, 'member',
       count(*) / sum(count(*)) OVER (PARTITION BY staff_id)
FROM _in_flag GROUP BY staff_id, person_id
"""
