"""Inpatient schemes: ``induced_admission`` (诱导住院, 挂床) and ``readmission`` (分解住院).

``induced_admission``
    Waves of recruited persons admitted together at one provider, far above its ordinary
    level, again and again. The day is ``admit_date`` (claims without one are left out);
    without that column, the discharge (or settlement) day: recruits with similar stays also
    leave together (the summary says which).
    Each provider is measured against itself, in windows of ``k = 1..window_days`` days:

    * ``lambda``: its ordinary admissions per day over its active span (first to last claim),
      without days of windows suspect on the raw mean at half the thresholds (waves and their
      ragged edges must not raise it); ``phi``: the variance over the mean of those days (>= 1);
    * ``g``: the city-wide level of the window, admissions at every *other* provider over
      their mean (with a pseudo-count): flu seasons raise every provider's expectation.

    A window with ``x`` admissions and expectation ``mu = k * lambda * g`` is flagged when
    ``x >= min_wave``, ``x >= min_ratio * mu`` and the quasi-Poisson tail
    ``P(X >= x/phi | mu/phi) <= max_tail_p``. Flagged windows that overlap, touch or are one
    quiet day apart make one wave (its days: those themselves ``min_ratio`` times above the
    day's expectation); a provider with ``min_wave_days`` waves is evidence. Supporting
    evidence, in the strength and the summary but never a reason on its own: the same persons
    in several waves, more elderly than among the provider's other inpatients
    (``persons.birth_date``), one doctor admitting most of them, similar lengths of stay.
    Look-alikes cleared: a big hospital's dozens a day (its own level and dispersion), a
    nursing home's two or three residents admitted together (below ``min_wave``), flu seasons
    (``g``), bus crashes (emergency and transfer admissions left out; one event is one wave).
    Members: the provider (``organizer``: the scheme runs where the beds are); the persons of
    the waves (``member``, weight = share of the waves they were in, so an ordinary patient of
    one wave day weighs little); the doctors with at least a tenth of the wave admissions
    (weight = that share), ``insider`` from half: the admitting doctor is the provider's
    inside hand, not a ``recruiter`` (recruiters bring the villagers and rarely bill).

``readmission``
    A stay (the settlements of one person at one provider with one admission day) admitted
    0..``max_gap_days`` days after the discharge of the same person's previous stay there (the
    one that ended last, should stays overlap) is a readmission, unless either stay is a
    planned cycle (main diagnosis starting with one of ``excluded_diagnoses``: chemotherapy
    Z51.1, radiotherapy Z51.0; the neutropenia stay after a cycle goes with it), an emergency
    or a transfer (``claims.emergency``, ``claims.transfer``), or the person died in the
    re-admission or within ``max_gap_days`` of it (``persons.death_date``: the last stays of
    the dying; a death in hospital ends a stay and is never followed by one). A provider's
    rate is readmissions per eligible stay; the reference is the rate pooled over all
    providers, again without those at ``min_ratio`` times the first (a few splitting hospitals
    must not raise the bar). Evidence: at least ``min_persons`` persons re-admitted, a rate
    ``min_ratio`` times the reference, a Poisson tail of the count at it <= ``max_tail_p``.
    Members: the provider (``organizer``), the re-admitted persons (role unknown: patients are
    often unaware of the split), the doctors with at least a tenth of their claims.
"""

from __future__ import annotations

from graphfraud.detectors.base import Context, Requirement, register
from graphfraud.engine import quote_literal as ql

__all__ = ["induced_admission", "readmission"]

# pseudo-count (admissions per day of window) smoothing the city-wide factor g on small data
_CITY_PRIOR = 10.0


def _tail(x: str, mu: str, phi: str) -> str:
    """SQL for ln P(X >= x) of a quasi-Poisson count (mean ``mu``, dispersion ``phi``).

    ``P(X >= k) <= P(X = k) / (1 - mu / (k + 1))`` for ``k + 1 > mu`` (the terms after
    ``P(X = k)`` shrink at least geometrically): tight in the upper tail."""
    k, m = f"(({x}) / ({phi}))", f"(({mu}) / ({phi}))"
    return (f"({k} * ln({m}) - {m} - lgamma({k} + 1) - ln(greatest(1 - {m} / ({k} + 1), 1e-9)))")


@register("induced_admission", zh="诱导住院（挂床）：招揽人员同日集中入院",
          en="waves of same-day admissions of recruited persons at one provider")
def induced_admission(ctx: Context) -> None:
    """Waves of admissions far above the provider's own level, recurring (module docstring)."""
    e = ctx.engine
    w, min_wave = max(1, int(ctx.p("window_days"))), int(ctx.p("min_wave"))
    min_ratio = float(ctx.p("min_ratio"))
    min_waves, ln_alpha = int(ctx.p("min_wave_days")), f"ln({float(ctx.p('max_tail_p'))!r})"
    by_admit = ctx.has("claims", "admit_date")
    day = "c.admit_date" if by_admit else "c.service_date"
    los = ("datediff('day', c.admit_date, c.discharge_date)"
           if ctx.has("claims", "admit_date", "discharge_date") else "NULL")
    doctor = "c.doctor_id" if ctx.has("claims", "doctor_id") else "NULL"
    skip = "".join(f" AND NOT coalesce(c.{f}, FALSE)" for f in ("emergency", "transfer")
                   if ctx.has("claims", f))
    ages = ctx.has("persons", "birth_date")
    # completed years, spelled out (engines disagree on date_sub's month-end rules)
    age = ("year(c.day) - year(p.birth_date) - CASE WHEN month(c.day) * 100 + day(c.day) < "
           "month(p.birth_date) * 100 + day(p.birth_date) THEN 1 ELSE 0 END") if ages else "NULL"
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ia_adm AS
        SELECT c.*, {age} >= {int(ctx.p("elderly_age"))} AS elderly FROM (
          SELECT c.claim_id, c.person_id, c.provider_id, {doctor} AS doctor_id, {day} AS day,
                 datediff('day', DATE '1970-01-01', {day}) AS di, {los} AS los, c.fund_paid
          FROM claims_eff c WHERE c.visit_type = 'inpatient' AND {day} IS NOT NULL{skip}) c
        {"LEFT JOIN canon_persons p USING (person_id)" if ages else ""}""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _ia_day AS
        SELECT provider_id, di, count(DISTINCT person_id) AS n FROM _ia_adm GROUP BY ALL""")
    # each provider's active span (first to last claim of any kind) and its own admissions;
    # the mean daily admissions at every other provider, for the city-wide factor g
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _ia_prov AS
        WITH s AS (SELECT provider_id, datediff('day', DATE '1970-01-01', settled_at::DATE) AS di
                   FROM canon_claims SEMI JOIN _ia_day USING (provider_id)
                   UNION ALL SELECT provider_id, di FROM _ia_day),
             own AS (SELECT provider_id, sum(n) AS n_own FROM _ia_day GROUP BY ALL),
             city AS (SELECT sum(n) AS total, max(di) - min(di) + 1 AS days FROM _ia_day)
        SELECT s.provider_id, min(s.di) AS d0, max(s.di) - min(s.di) + 1 AS span,
               any_value(o.n_own) AS n_own,
               (any_value(city.total) - any_value(o.n_own)) / any_value(city.days) AS other_mean
        FROM s JOIN own o USING (provider_id) CROSS JOIN city GROUP BY s.provider_id""")
    # windows of k = 1..w days ending on each admission day: the provider's admissions x and
    # the city-wide factor g (other providers' admissions in the window over their mean)
    frame = "RANGE BETWEEN {} PRECEDING AND CURRENT ROW"
    e.execute("CREATE OR REPLACE TEMP TABLE _ia_city AS " + " UNION ALL ".join(
        f"SELECT {k} AS k, di, sum(n) AS t, sum(sum(n)) OVER (ORDER BY di {frame.format(k - 1)})"
        " AS tw FROM _ia_day GROUP BY di" for k in range(1, w + 1)))
    e.execute(
        f"CREATE OR REPLACE TEMP TABLE _ia_win AS SELECT o.*, (c.tw - o.x + o.k * {_CITY_PRIOR}) "
        f"/ (o.k * (p.other_mean + {_CITY_PRIOR})) AS g FROM (" + " UNION ALL ".join(
            f"SELECT {k} AS k, provider_id, di, sum(n) OVER (PARTITION BY provider_id ORDER BY di "
            f"{frame.format(k - 1)}) AS x FROM _ia_day" for k in range(1, w + 1))
        + ") o JOIN _ia_city c USING (k, di) JOIN _ia_prov p USING (provider_id)")
    # pass 1: windows suspect on the raw mean (waves included) at half the thresholds leave
    # the baseline, so that neither a wave nor its ragged edges inflate level or dispersion
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ia_base AS
        WITH n1 AS (SELECT v.provider_id, v.di, v.k FROM _ia_win v
                    JOIN _ia_prov p USING (provider_id) WHERE v.x >= {min_wave / 2}
                      AND v.x >= {min_ratio / 2} * v.k * v.g * p.n_own / p.span),
             out AS (SELECT DISTINCT o.provider_id, o.di FROM
                       (SELECT provider_id, unnest(range(di - k + 1, di + 1)) AS di FROM n1) o
                     JOIN _ia_prov p ON p.provider_id = o.provider_id
                      AND o.di BETWEEN p.d0 AND p.d0 + p.span - 1),
             rest AS (SELECT d.provider_id, sum(d.n) AS n, sum(d.n * d.n) AS n2
                      FROM _ia_day d ANTI JOIN out o USING (provider_id, di) GROUP BY ALL),
             b AS (SELECT p.provider_id, greatest(p.span - coalesce(k.days, 0), 1) AS days,
                          coalesce(r.n, 0) AS n, coalesce(r.n2, 0) AS n2
                   FROM _ia_prov p LEFT JOIN rest r USING (provider_id)
                   LEFT JOIN (SELECT provider_id, count(*) AS days FROM out GROUP BY ALL) k
                   USING (provider_id))
        SELECT provider_id, (n + 1) / (days + 1) AS lam,
               CASE WHEN n = 0 THEN 1.0
                    ELSE greatest(1.0, (n2 / days - power(n / days, 2)) / (n / days)) END AS phi
        FROM b""")
    # pass 2: windows against the clean baseline; flagged windows that overlap, touch or are
    # one quiet day apart are one wave
    mu = "(v.k * b.lam * v.g)"
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ia_wave AS
        WITH f AS (SELECT v.provider_id, v.di - v.k + 1 AS first_di, v.di AS last_di, v.x,
                          {mu} AS mu, b.lam, b.phi, {_tail('v.x', mu, 'b.phi')} AS ln_tail
                   FROM _ia_win v JOIN _ia_base b USING (provider_id)
                   WHERE v.x >= {min_wave} AND v.x >= {min_ratio} * {mu}
                     AND {_tail('v.x', mu, 'b.phi')} <= {ln_alpha}),
             o AS (SELECT *, max(last_di) OVER (PARTITION BY provider_id ORDER BY first_di, last_di
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev FROM f),
             s AS (SELECT *, sum((coalesce(first_di - prev, 9) > 2)::INT) OVER (PARTITION BY
                          provider_id ORDER BY first_di, last_di ROWS UNBOUNDED PRECEDING) AS wave
                   FROM o)
        SELECT provider_id, wave, min(first_di) AS first_di, max(last_di) AS last_di,
               max(x / mu) AS ratio, min(ln_tail) AS ln_tail, any_value(lam) AS lam,
               any_value(phi) AS phi FROM s GROUP BY ALL""")
    # the days of a wave: those of its windows that are themselves above the provider's level
    # (the quiet day before a wave is not part of it); then waves are counted
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ia_in AS
        WITH d AS (SELECT v.provider_id, v.wave, d.di, d.n FROM _ia_wave v
                   JOIN _ia_day d ON d.provider_id = v.provider_id
                    AND d.di BETWEEN v.first_di AND v.last_di
                   JOIN _ia_city c ON c.di = d.di AND c.k = 1
                   JOIN _ia_prov p ON p.provider_id = v.provider_id
                   WHERE d.n >= greatest(2, {min_ratio} * v.lam * (c.t - d.n + {_CITY_PRIOR})
                                            / (p.other_mean + {_CITY_PRIOR}))),
             k AS (SELECT provider_id FROM d GROUP BY ALL
                   HAVING count(DISTINCT wave) >= {min_waves})
        SELECT a.*, d.wave, d.n AS day_n FROM _ia_adm a JOIN d USING (provider_id, di)
        SEMI JOIN k USING (provider_id)""")
    _induced_emit(ctx, by_admit)
    for t in ("adm", "day", "prov", "city", "win", "base", "wave", "in", "sum"):
        e.execute(f"DROP TABLE IF EXISTS _ia_{t}")


def _pct(x: str) -> str:
    return f"CAST(round(100 * {x}) AS INTEGER) || '%'"


def _induced_emit(ctx: Context, by_admit: bool) -> None:
    """Per provider: the figures that convict, the strength, then the evidence."""
    ctx.engine.execute("""
        CREATE OR REPLACE TEMP TABLE _ia_sum AS
        WITH per AS (SELECT provider_id, person_id, count(DISTINCT wave) AS waves FROM _ia_in
                     GROUP BY ALL),
             doc AS (SELECT provider_id, doctor_id, count(*) / sum(count(*)) OVER (PARTITION BY
                            provider_id) AS share FROM _ia_in WHERE doctor_id IS NOT NULL
                     GROUP BY provider_id, doctor_id),
             los AS (SELECT provider_id, avg(sd) AS wave_sd FROM (SELECT provider_id, wave,
                            stddev_pop(los) AS sd FROM _ia_in GROUP BY ALL) GROUP BY ALL),
             base AS (SELECT provider_id, avg(elderly::INT) AS base_elder, stddev_pop(los)
                             AS base_sd FROM _ia_adm SEMI JOIN _ia_in USING (provider_id)
                      ANTI JOIN _ia_in USING (claim_id) GROUP BY ALL),
             wv AS (SELECT i.provider_id, i.wave, min(i.di) AS d0, max(i.di) AS d1,
                           max(i.day_n) AS peak, any_value(v.ratio) AS ratio,
                           any_value(v.ln_tail) AS ln_tail, any_value(v.lam) AS lam,
                           any_value(v.phi) AS phi
                    FROM _ia_in i JOIN _ia_wave v USING (provider_id, wave) GROUP BY ALL),
             v AS (SELECT provider_id, count(*) AS waves, max(peak) AS peak, max(ratio) AS ratio,
                          min(ln_tail) AS ln_tail, any_value(lam) AS lam, any_value(phi) AS phi,
                          string_agg(strftime(DATE '1970-01-01' + CAST(d0 AS INTEGER), '%Y-%m-%d')
                                     || CASE WHEN d1 > d0 THEN '~' || strftime(DATE '1970-01-01'
                                        + CAST(d1 AS INTEGER), '%m-%d') ELSE '' END, ', '
                                     ORDER BY d0) AS dates
                   FROM wv GROUP BY ALL),
             a AS (SELECT provider_id, count(DISTINCT (person_id, wave)) AS admissions,
                          count(DISTINCT person_id) AS persons, avg(elderly::INT) AS elder,
                          avg(los) AS mean_los, sum(fund_paid) AS fund FROM _ia_in GROUP BY ALL)
        SELECT v.*, a.admissions, a.persons, a.elder, a.mean_los, a.fund,
               (SELECT count(*) FROM per WHERE per.provider_id = v.provider_id AND per.waves >= 2)
                 AS returners,
               d.doctor_id AS top_doctor, coalesce(d.share, 0) AS top_share, los.wave_sd,
               base.base_elder, base.base_sd
        FROM v JOIN a USING (provider_id) LEFT JOIN los USING (provider_id)
        LEFT JOIN base USING (provider_id)
        LEFT JOIN (SELECT * FROM doc QUALIFY row_number() OVER (PARTITION BY provider_id
                   ORDER BY share DESC, doctor_id) = 1) d USING (provider_id)""")
    zh, en = ("入院", "admissions") if by_admit else ("出院结算", "discharges")
    gid = "'induced_admission:' || provider_id"
    ctx.emit(
        f"""
        SELECT {gid} AS group_id,
               1 - 1 / (1 + (waves - 1) + 2 * returners / persons
                        + CASE WHEN elder >= 0.6 AND elder > 1.2 * base_elder THEN 0.5 ELSE 0 END
                        + CASE WHEN top_share >= 0.5 THEN 0.5 ELSE 0 END
                        + CASE WHEN wave_sd < 0.5 * base_sd THEN 0.5 ELSE 0 END) AS strength,
               '共 ' || waves || ' 次集中{zh}（' || dates || '），计 ' || admissions || ' 人次、'
                 || persons || ' 人，最多单日 ' || peak || ' 人，为本机构日常水平（日均 '
                 || round(lam, 2) || ' 人）的 ' || round(ratio, 1) || ' 倍；' || returners
                 || ' 人在多次集中{zh}中重复出现'
                 || coalesce('；' || {_pct('elder')} || ' 为老年人（本机构其他住院 '
                             || {_pct('base_elder')} || '）', '')
                 || coalesce('；医师 ' || top_doctor || ' 经手 ' || {_pct('top_share')}, '')
                 || coalesce('；平均住院 ' || round(mean_los, 1) || ' 天，波内标准差 '
                             || round(wave_sd, 1) || ' 天', '')
                 || '；统筹基金支付 ' || round(fund, 2) || ' 元' AS summary_zh,
               waves || ' waves of same-day {en} (' || dates || '): ' || admissions
                 || ' {en} of ' || persons || ' persons, up to ' || peak
                 || ' a day, ' || round(ratio, 1) || 'x the provider''s ordinary level ('
                 || round(lam, 2) || ' a day); ' || returners || ' persons in several waves'
                 || coalesce('; ' || {_pct('elder')} || ' elderly (other inpatients here '
                             || {_pct('base_elder')} || ')', '')
                 || coalesce('; doctor ' || top_doctor || ' on ' || {_pct('top_share')}, '')
                 || coalesce('; mean stay ' || round(mean_los, 1) || ' days, s.d. within a wave '
                             || round(wave_sd, 1), '')
                 || '; fund paid ' || round(fund, 2) || ' yuan' AS summary_en,
               json_object('waves', waves, 'wave_dates', dates, 'admissions', admissions,
                           'persons', persons, 'returners', returners, 'peak', peak,
                           'baseline_per_day', round(lam, 3), 'dispersion', round(phi, 2),
                           'max_ratio', round(ratio, 1),
                           'log10_tail_p', round(ln_tail / ln(10), 1),
                           'elderly_share', round(elder, 3),
                           'baseline_elderly_share', round(base_elder, 3),
                           'top_doctor', top_doctor, 'top_doctor_share', round(top_share, 3),
                           'mean_los', round(mean_los, 1), 'wave_los_sd', round(wave_sd, 2),
                           'baseline_los_sd', round(base_sd, 2), 'fund_paid', round(fund, 2),
                           'day', '{'admit_date' if by_admit else 'discharge'}') AS stats
        FROM _ia_sum""",
        f"""
        SELECT {gid} AS group_id, 'provider' AS kind, provider_id AS id, 'organizer' AS role,
               1.0 AS weight FROM _ia_sum
        UNION ALL SELECT {gid}, 'person', person_id, 'member', count(DISTINCT wave)
               / any_value(v.waves) FROM _ia_in JOIN _ia_sum v USING (provider_id)
               GROUP BY provider_id, person_id
        UNION ALL SELECT {gid}, 'doctor', doctor_id, CASE WHEN share >= 0.5 THEN 'insider' END,
               share FROM (SELECT provider_id, doctor_id, count(*) / sum(count(*)) OVER
                           (PARTITION BY provider_id) AS share FROM _ia_in
                           WHERE doctor_id IS NOT NULL GROUP BY provider_id, doctor_id)
               WHERE share >= 0.1""",
        f"SELECT {gid} AS group_id, claim_id FROM _ia_in",
    )


def _prefix_sql(column: str, prefixes: list[str]) -> str:
    """SQL: ``column`` starts with one of ``prefixes`` (case and dots ignored: Z51.1 = Z511)."""
    norm = f"replace(upper(coalesce({column}, '')), '.', '')"
    tests = [f"starts_with({norm}, {ql(str(x).upper().replace('.', '').strip())})"
             for x in prefixes if str(x).strip()]
    return "(" + " OR ".join(tests) + ")" if tests else "FALSE"


@register("readmission", requires=(Requirement("claims", ("admit_date",)),),
          zh="分解住院：出院后短期内同院再入院",
          en="re-admission at the same provider soon after discharge")
def readmission(ctx: Context) -> None:
    """Providers re-admitting their patients soon after discharge (module docstring)."""
    e = ctx.engine
    gap, min_persons = int(ctx.p("max_gap_days")), int(ctx.p("min_persons"))
    min_ratio, ln_alpha = float(ctx.p("min_ratio")), f"ln({float(ctx.p('max_tail_p'))!r})"
    planned = (_prefix_sql("c.diagnosis_code", list(ctx.p("excluded_diagnoses")))
               if ctx.has("claims", "diagnosis_code") else "FALSE")
    flag = {f: f"coalesce(c.{f}, FALSE)" if ctx.has("claims", f) else "FALSE"
            for f in ("emergency", "transfer")}
    dead = ctx.has("persons", "death_date")
    # a stay: the settlements of one person at one provider with one admission day
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ra_stay AS
        SELECT s.*, {"d.death_date" if dead else "CAST(NULL AS DATE) AS death_date"} FROM (
          SELECT c.person_id, c.provider_id, c.admit_date, max(c.service_date) AS discharge,
                 bool_or({planned}) OR bool_or({flag['emergency']}) OR bool_or({flag['transfer']})
                   AS excl, sum(c.fund_paid) AS fund
          FROM claims_eff c WHERE c.visit_type = 'inpatient' AND c.admit_date IS NOT NULL
          GROUP BY c.person_id, c.provider_id, c.admit_date) s
        {"LEFT JOIN canon_persons d USING (person_id)" if dead else ""}""")
    # each stay and the stay before it of the same person at the same provider (the one that
    # ended last, should stays overlap); a short gap is no readmission after or before a
    # planned cycle, an emergency or a transfer, nor when the person died soon after
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ra_pair AS
        WITH n AS (SELECT s.*, max(discharge) OVER w AS prev_discharge,
                          arg_max(admit_date, (discharge, admit_date)) OVER w AS prev_admit,
                          arg_max(excl, (discharge, admit_date)) OVER w AS prev_excl
                   FROM _ra_stay s WINDOW w AS (PARTITION BY person_id, provider_id
                        ORDER BY admit_date, discharge
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
             g AS (SELECT n.*, datediff('day', prev_discharge, admit_date) AS gap FROM n)
        SELECT g.*, gap BETWEEN 0 AND {gap} AS short_gap,
               gap BETWEEN 0 AND {gap} AND NOT excl AND NOT prev_excl
                 AND coalesce(death_date > discharge + {gap}, TRUE) AS readmit
        FROM g""")
    # the reference rate: pooled over all providers, then again without those whose rate is
    # min_ratio times the first (a few splitting hospitals must not raise the bar for all)
    test = (f"persons >= {min_persons} AND readmits >= {min_ratio} * stays * {{r}} AND "
            f"{_tail('readmits', 'stays * {r}', '1')} <= {ln_alpha}")
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ra_prov AS
        WITH p AS (SELECT provider_id, count(*) FILTER (WHERE NOT excl) AS stays,
                          count(*) FILTER (WHERE readmit) AS readmits,
                          count(*) FILTER (WHERE short_gap AND NOT readmit) AS excluded,
                          count(DISTINCT person_id) FILTER (WHERE readmit) AS persons,
                          avg(gap) FILTER (WHERE readmit) AS mean_gap,
                          sum(fund) FILTER (WHERE readmit) AS fund
                   FROM _ra_pair GROUP BY provider_id),
             r1 AS (SELECT sum(readmits) / greatest(sum(stays), 1) AS r FROM p),
             r2 AS (SELECT sum(readmits) / greatest(sum(stays), 1) AS rate FROM p, r1
                    WHERE readmits < {min_ratio} * stays * r1.r)
        SELECT p.*, r2.rate AS city_rate, p.readmits / p.stays AS own_rate,
               p.readmits / p.stays / r2.rate AS ratio,
               {_tail('p.readmits', 'p.stays * r2.rate', '1')} AS ln_tail
        FROM p CROSS JOIN r2
        WHERE p.readmits > 0 AND r2.rate > 0 AND {test.format(r='r2.rate')}""")
    # the two stays of each readmission, and their claims
    doctor = "c.doctor_id" if ctx.has("claims", "doctor_id") else "NULL"
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ra_claim AS
        WITH k AS (SELECT DISTINCT person_id, provider_id,
                          unnest([admit_date, prev_admit]) AS admit_date
                   FROM _ra_pair SEMI JOIN _ra_prov USING (provider_id) WHERE readmit)
        SELECT c.claim_id, c.person_id, c.provider_id, {doctor} AS doctor_id
        FROM claims_eff c JOIN k USING (person_id, provider_id, admit_date)
        WHERE c.visit_type = 'inpatient'""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _ra_doc AS
        SELECT provider_id, doctor_id, count(*) / sum(count(*)) OVER (PARTITION BY provider_id)
               AS share FROM _ra_claim WHERE doctor_id IS NOT NULL
        GROUP BY provider_id, doctor_id""")
    gid = "'readmission:' || provider_id"
    ctx.emit(
        f"""
        SELECT {gid} AS group_id, (1 - 1 / ratio) * (1 - 1 / (1 + persons / 3)) AS strength,
               persons || ' 名患者出院后 {gap} 天内在本机构再次入院共 ' || readmits || ' 次（平均间隔 '
                 || round(mean_gap, 1) || ' 天）；本机构再入院率 ' || round(100 * own_rate, 1)
                 || '%，为全部机构（' || round(100 * city_rate, 1) || '%）的 ' || round(ratio, 1)
                 || ' 倍；已排除放化疗等计划性周期、急诊、转院及临终住院 ' || excluded || ' 次'
                 || coalesce('；医师 ' || d.doctor_id || ' 经手 ' || {_pct('d.share')}, '')
                 || '；再入院统筹基金支付 ' || round(fund, 2) || ' 元' AS summary_zh,
               persons || ' patients re-admitted here within {gap} days of discharge, ' || readmits
                 || ' times (mean gap ' || round(mean_gap, 1) || ' days); readmission rate '
                 || round(100 * own_rate, 1) || '%, ' || round(ratio, 1)
                 || 'x the rate over all providers (' || round(100 * city_rate, 1) || '%); '
                 || excluded
                 || ' planned cycles, emergencies, transfers and end-of-life stays left out'
                 || coalesce('; doctor ' || d.doctor_id || ' on ' || {_pct('d.share')}, '')
                 || '; fund paid for the re-admissions ' || round(fund, 2) || ' yuan'
                 AS summary_en,
               json_object('persons', persons, 'readmissions', readmits, 'stays', stays,
                           'rate', round(own_rate, 4), 'rate_all_providers', round(city_rate, 4),
                           'ratio', round(ratio, 2), 'log10_tail_p', round(ln_tail / ln(10), 1),
                           'mean_gap_days', round(mean_gap, 1), 'excluded_short_gaps', excluded,
                           'top_doctor', d.doctor_id, 'top_doctor_share', round(d.share, 3),
                           'fund_paid_readmissions', round(fund, 2)) AS stats
        FROM _ra_prov LEFT JOIN (SELECT * FROM _ra_doc QUALIFY row_number() OVER (PARTITION BY
             provider_id ORDER BY share DESC, doctor_id) = 1) d USING (provider_id)""",
        f"""
        SELECT {gid} AS group_id, 'provider' AS kind, provider_id AS id, 'organizer' AS role,
               1.0 AS weight FROM _ra_prov
        UNION ALL SELECT {gid}, 'person', person_id, NULL, 1.0 FROM _ra_pair
               SEMI JOIN _ra_prov USING (provider_id) WHERE readmit
        UNION ALL SELECT {gid}, 'doctor', doctor_id, NULL, share FROM _ra_doc WHERE share >= 0.1""",
        f"SELECT {gid} AS group_id, claim_id FROM _ra_claim",
    )
    for t in ("stay", "pair", "prov", "claim", "doc"):
        e.execute(f"DROP TABLE IF EXISTS _ra_{t}")
