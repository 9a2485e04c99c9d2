"""``doctor_pharmacy_collusion``: a doctor's e-prescriptions steered to one distant pharmacy.

An e-prescription is a pharmacy claim that names the prescribing doctor (``claims.doctor_id``
on a pharmacy claim). For each doctor and pharmacy: ``k`` prescriptions filled there out of
the doctor's ``n``, share ``k / n``. Patients fill prescriptions near home or near the
hospital, so a pharmacy in the doctor's own region taking most of them is ordinary (the
pharmacy across the street). Evidence needs all of:

* ``k >= min_prescriptions`` and ``k / n >= min_share``;
* the pharmacy lies outside the doctor's region. Regions come from ``providers.region`` when
  the input has it, else from the 6 region digits inside the codes (``H``/``P`` + 6-digit
  region + 5 digits; ``D`` + 6-digit region + sequence); the doctor's region is that of their
  hospital (``doctors.provider_id``, else the provider where they see most patients), else
  that of their code. Regions are compared on their first ``region_digits`` digits, a code
  ending in ``00`` standing for the whole area above it (``331200`` holds ``331203``);
* the share is at least ``min_peer_ratio`` times the share the doctor's peers send to that
  pharmacy: the other doctors of the same hospital (or, with fewer than
  ``min_prescriptions`` of theirs, the other doctors of the same region). A pharmacy that
  every doctor of the hospital uses is explained by where it is, not by a deal;
* it is not a designated dual-channel pharmacy (双通道, ``providers.dual_channel``) filling an
  oncologist's prescriptions (department 肿瘤/oncology, or most of the prescriptions carry a
  cancer diagnosis C00-D09). Without the dual-channel column, prescriptions that mostly carry
  a cancer diagnosis are cleared: targeted cancer drugs are dispensed at designated places.

When no region can be derived, the peer comparison alone decides (it then needs peers).

One group per (doctor, pharmacy): the doctor (role ``recruiter``: they steer the patients),
the pharmacy (``organizer``) and the persons whose prescriptions were filled there.
"""

from __future__ import annotations

from graphfraud.detectors.base import Context, Requirement, register


def region_prefix(expr: str, digits: int) -> str:
    """SQL: the first ``digits`` significant digits of a 6-digit region code.

    Trailing ``00`` pairs are dropped first, so a city code (``331200``) keeps only ``3312``
    and contains every district code that starts with it. NULL stays NULL.
    """
    return f"left(regexp_replace({expr}, '(00)+$', ''), {int(digits)})"


def same_region(a: str, b: str) -> str:
    """SQL: whether two region prefixes overlap (one contains the other); NULL if unknown."""
    return f"(starts_with({a}, {b}) OR starts_with({b}, {a}))"


def provider_regions(ctx: Context, table: str) -> None:
    """``table``: ``provider_id, region`` for every provider seen in the claims.

    ``providers.region`` when the input has it, else the 6 digits inside an ``H``/``P`` code.
    """
    code = "regexp_extract(c.provider_id, '^[HP]([0-9]{6})[0-9]{5}$', 1)"
    if ctx.has("providers", "region"):
        ctx.engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT c.provider_id, coalesce(any_value(p.region), nullif(any_value({code}), ''))
                     AS region
            FROM (SELECT DISTINCT provider_id FROM canon_claims) c
            LEFT JOIN canon_providers p ON p.provider_id = c.provider_id GROUP BY c.provider_id
        """)
    else:
        ctx.engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT c.provider_id, nullif({code}, '') AS region
            FROM (SELECT DISTINCT provider_id FROM canon_claims) c
        """)


def _doctor_home(ctx: Context) -> str:
    """SQL: ``doctor_id, hospital`` from the doctors table, else the doctor's busiest provider."""
    busiest = ("SELECT doctor_id, arg_min(provider_id, (-n, provider_id)) AS hospital "
               "FROM (SELECT doctor_id, "
               "provider_id, count(*) AS n FROM claims_eff WHERE doctor_id IS NOT NULL AND "
               "visit_type <> 'pharmacy' AND coalesce(provider_type, '') <> 'pharmacy' "
               "GROUP BY ALL) GROUP BY doctor_id")
    if not ctx.has("doctors", "provider_id"):
        return busiest
    return (f"SELECT coalesce(d.doctor_id, b.doctor_id) AS doctor_id, "
            f"coalesce(d.provider_id, b.hospital) AS hospital FROM canon_doctors d "
            f"FULL JOIN ({busiest}) b ON b.doctor_id = d.doctor_id")


@register("doctor_pharmacy_collusion", requires=(Requirement("claims", ("doctor_id",)),),
          zh="医师与药店串通（电子处方集中流向区外药店）",
          en="a doctor's e-prescriptions steered to one distant pharmacy")
def doctor_pharmacy_collusion(ctx: Context) -> None:
    e = ctx.engine
    min_rx, min_share = int(ctx.p("min_prescriptions")), float(ctx.p("min_share"))
    digits, ratio = int(ctx.p("region_digits")), float(ctx.p("min_peer_ratio"))
    dept = ("regexp_matches(lower(coalesce(d.department, '')), '肿瘤|onco')"
            if ctx.has("doctors", "department") else "false")
    dept_join = ("LEFT JOIN canon_doctors d ON d.doctor_id = x.doctor_id"
                 if ctx.has("doctors", "department") else "")
    dual = ("coalesce(pv.dual_channel, false)" if ctx.has("providers", "dual_channel")
            else "NULL")
    dual_join = ("LEFT JOIN canon_providers pv ON pv.provider_id = x.pharmacy"
                 if ctx.has("providers", "dual_channel") else "")
    provider_regions(ctx, "_dp_preg")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _dp_rx AS
        SELECT claim_id, doctor_id, provider_id AS pharmacy, person_id, fund_paid, service_date,
               coalesce(regexp_matches(diagnosis_code, '^(C|D0)'), false) AS cancer
        FROM claims_eff
        WHERE doctor_id IS NOT NULL AND (visit_type = 'pharmacy' OR provider_type = 'pharmacy')
    """)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dp_doc AS
        SELECT r.doctor_id, h.hospital,
               {region_prefix("coalesce(hr.region, nullif(regexp_extract(r.doctor_id, "
                              "'^D([0-9]{6})[0-9]+$', 1), ''))", digits)} AS region
        FROM (SELECT DISTINCT doctor_id FROM _dp_rx) r
        LEFT JOIN ({_doctor_home(ctx)}) h ON h.doctor_id = r.doctor_id
        LEFT JOIN _dp_preg hr ON hr.provider_id = h.hospital
    """)
    # (doctor, pharmacy) counts, with the same counts summed over the hospital and the region
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dp_pair AS
        WITH pair AS (
            SELECT doctor_id, pharmacy, count(*) AS k, avg(cancer::INT) AS cancer_share
            FROM _dp_rx GROUP BY doctor_id, pharmacy),
        tot AS (SELECT doctor_id, sum(k) AS n FROM pair GROUP BY doctor_id),
        x AS (
            SELECT p.*, t.n, d.hospital, d.region,
                   sum(p.k) OVER (PARTITION BY d.hospital, p.pharmacy) AS hosp_k,
                   sum(p.k) OVER (PARTITION BY d.region, p.pharmacy) AS reg_k
            FROM pair p JOIN tot t USING (doctor_id) JOIN _dp_doc d USING (doctor_id)),
        hn AS (SELECT hospital, sum(n) AS hosp_n FROM tot JOIN _dp_doc USING (doctor_id)
               GROUP BY hospital),
        rn AS (SELECT region, sum(n) AS reg_n FROM tot JOIN _dp_doc USING (doctor_id)
               GROUP BY region)
        SELECT x.*, {region_prefix("pr.region", digits)} AS ph_region,
               CASE WHEN x.hospital IS NOT NULL AND hn.hosp_n - x.n >= {min_rx}
                    THEN (x.hosp_k - x.k + 0.5) / (hn.hosp_n - x.n + 1)
                    WHEN x.region IS NOT NULL AND rn.reg_n - x.n >= {min_rx}
                    THEN (x.reg_k - x.k + 0.5) / (rn.reg_n - x.n + 1) END AS peer_share,
               CASE WHEN x.hospital IS NOT NULL AND hn.hosp_n - x.n >= {min_rx} THEN 'hospital'
                    WHEN x.region IS NOT NULL AND rn.reg_n - x.n >= {min_rx} THEN 'region'
               END AS peers,
               {dual} AS dual, {dept} AS oncologist
        FROM x LEFT JOIN hn ON hn.hospital = x.hospital LEFT JOIN rn ON rn.region = x.region
        LEFT JOIN _dp_preg pr ON pr.provider_id = x.pharmacy {dual_join} {dept_join}
        WHERE x.k >= {min_rx} AND x.k >= {min_share} * x.n
    """)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dp_hit AS
        SELECT *, 'doctor_pharmacy:' || doctor_id || ':' || pharmacy AS group_id,
               k / n AS share,
               CASE WHEN peer_share = 0 THEN 'infinity'::DOUBLE ELSE (k / n) / peer_share END AS lift,
               {same_region("region", "ph_region")} AS near
        FROM _dp_pair
        WHERE NOT coalesce({same_region("region", "ph_region")}, false)
          AND (peer_share IS NULL AND region IS NOT NULL AND ph_region IS NOT NULL
               OR (k / n) >= {ratio} * peer_share)
          AND NOT (coalesce(dual, true) AND (oncologist OR cancer_share >= 0.5))
    """)
    ctx.emit(
        """
        SELECT h.group_id,
               sqrt(h.share) * (1 - 1 / (1 + h.k / {min_rx})) *
                 CASE WHEN h.near IS NULL THEN 0.7 ELSE 1.0 END AS strength,
               '医师 ' || h.doctor_id || ' 的 ' || h.n || ' 张电子处方中 ' || h.k || ' 张（' ||
                 round(100 * h.share, 1) || '%）在药店 ' || h.pharmacy || ' 取药' ||
                 CASE WHEN h.near IS NULL THEN '' ELSE '，该药店不在医师所在区划（医师 ' ||
                   h.region || '，药店 ' || h.ph_region || '）' END ||
                 CASE WHEN h.peers IS NULL THEN '' ELSE '；' ||
                   CASE h.peers WHEN 'hospital' THEN '同院' ELSE '同区划' END ||
                   '其他医师流向该药店的比例仅 ' || round(100 * h.peer_share, 1) || '%' END ||
                 '；涉及参保人 ' || s.persons || ' 名（' || s.first_day || ' 至 ' || s.last_day ||
                 '），统筹基金支付 ' || s.fund || ' 元' AS summary_zh,
               h.k || ' of doctor ' || h.doctor_id || '''s ' || h.n || ' e-prescriptions (' ||
                 round(100 * h.share, 1) || '%) filled at pharmacy ' || h.pharmacy ||
                 CASE WHEN h.near IS NULL THEN '' ELSE ', outside the doctor''s region (' ||
                   h.region || ' vs ' || h.ph_region || ')' END ||
                 CASE WHEN h.peers IS NULL THEN '' ELSE '; other doctors of the same ' ||
                   h.peers || ' send it ' || round(100 * h.peer_share, 1) || '%' END ||
                 '; ' || s.persons || ' persons (' || s.first_day || ' to ' || s.last_day ||
                 '), fund paid ' || s.fund || ' yuan' AS summary_en,
               json_object('prescriptions', h.n, 'at_pharmacy', h.k, 'share', round(h.share, 4),
                           'peer_share', round(h.peer_share, 4), 'peers', h.peers,
                           'doctor_region', h.region, 'pharmacy_region', h.ph_region,
                           'hospital', h.hospital, 'persons', s.persons,
                           'fund_paid', s.fund) AS stats
        FROM _dp_hit h JOIN (
            SELECT doctor_id, pharmacy, count(DISTINCT person_id) AS persons,
                   round(sum(fund_paid), 2) AS fund, min(service_date) AS first_day,
                   max(service_date) AS last_day
            FROM _dp_rx GROUP BY doctor_id, pharmacy) s USING (doctor_id, pharmacy)
        """.replace("{min_rx}", str(min_rx)),
        """
        SELECT group_id, 'doctor' AS kind, doctor_id AS id, 'recruiter' AS role, 1.0 AS weight
        FROM _dp_hit
        UNION ALL SELECT group_id, 'provider', pharmacy, 'organizer', 1.0 FROM _dp_hit
        UNION ALL
        SELECT h.group_id, 'person', r.person_id, 'member', count(*) / any_value(h.k)
        FROM _dp_hit h JOIN _dp_rx r USING (doctor_id, pharmacy) GROUP BY h.group_id, r.person_id
        """,
        "SELECT h.group_id, r.claim_id FROM _dp_hit h JOIN _dp_rx r USING (doctor_id, pharmacy)",
    )
    for t in ("_dp_preg", "_dp_rx", "_dp_doc", "_dp_pair", "_dp_hit"):
        e.execute(f"DROP TABLE IF EXISTS {t}")
