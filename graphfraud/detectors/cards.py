"""Card detectors: ``shared_card`` (借卡/冒名) and ``card_burst`` (集中刷卡).

``shared_card``
    One card read under several person ids, or one person id seen on many cards. The
    legitimate look-alike is family mutual aid (家庭共济): a parent's card pays for a child or
    an elder of the same household. Persons are grouped into *households*: persons sharing an
    address (``persons.address``, white space ignored); a household of at most ``family_max``
    persons on the card counts as one unit, a bigger "household" (a nursing home's address)
    counts each person, and a person without an address is a unit alone.

    * A card is evidence when its persons form at least ``min_persons_per_card`` units: a
      parent's card used for a child and a grandparent at home is one unit; seven strangers
      are seven.
    * A person is evidence when, not counting *family cards* (cards whose other users all
      live at the person's address, in a household of at most ``family_max``), they use at
      least ``min_cards_per_person`` cards. An ordinary person holds up to three credentials
      (社保卡, 医保电子凭证, the id number); a child paid for on a parent's card adds a family
      card, which is not counted. The person is named the organizer; the other users of their
      cards (the cards' owners) are members.

    Without addresses (no persons table, or no address in it) the rule falls back to a small
    group: a card shared by at most ``family_max`` persons, or a person sharing cards with at
    most ``family_max - 1`` others, is presumed a family; the summary says so.

``card_burst``
    Many distinct cards read at one place (a terminal when ``terminal_id`` holds values, else
    the provider) within ``window_minutes``, again and again, with the same cards.

    1. **Sliding counts, linear.** Reads are first counted per (place, bucket of W/6); a place
       and time whose buckets cannot add up to a burst is dropped (an upper bound, so nothing
       is lost). On the rest, a read of a card at ``t`` whose previous read at the place was
       at ``t'`` adds one distinct card to the windows ending in ``[max(t, t' + W), t + W)``:
       a +1 and a -1 event per read, and a running sum gives the exact count of distinct cards
       in every sliding window. No pair of claims is ever formed: a hospital with 5,000
       patients a day costs what its claims cost.
    2. **Bursts.** A window is a burst when it holds at least ``min_cards`` cards and at least
       ``min_ratio`` times the place's typical count for such a window: the median number of
       distinct cards on its active days, spread over its usual opening span (5th to 95th
       percentile of its reading times). A level-3 hospital's thousands a day give it a
       baseline of hundreds per window: its queues are not bursts. Claims of treatment
       schedules (``explained_diagnoses``: a dialysis shift) do not count.
    3. **Recurrence against the place's ordinary recurrence.** Crowds are bursts too (a
       village clinic on market day, a group check-up); recruited cards are the *same* cards
       swiped burst after burst. ``O`` = pairs of burst days sharing a card (sum over cards of
       C(burst days, 2)). Under the null, a burst day of ``k`` cards draws them from the
       place's clientele on its ordinary days (days without a burst), card ``c`` with share
       ``pi_c`` of those card-days, and holds ``c`` with probability
       ``q_c = 1 - (1 - pi_c) ** k``: ``E = sum_{d<d'} k_d k_d' * sum_c (q_c / k) ** 2``. The
       lift ``O / E`` (roughly the clientele's size over the size of the pool the bursts
       draw from) must be at least ``min_recurrence_lift``. Market-day villagers are drawn
       from their own clinic's clientele (lift near 1); a pharmacy swiping forty recruited
       cards out of a clientele of a thousand has a lift of ten or more. An honest patient
       who alternates social card, e-credential and id number lowers the burst and the
       ordinary recurrence alike; a ring's cards are the same cards every time.
    4. **The ring:** the place and the cards read in bursts on at least ``min_burst_days`` days
       (at least ``min_ring_cards`` of them), with their persons. A group check-up (one or two
       days, different persons each day) yields no such cards. Residents of one institution
       visited together (a nursing home's round: at least ``institution_persons`` of the
       recurring persons share one address) are left out; without addresses they cannot be.
"""

from __future__ import annotations

from graphfraud.detectors.base import Context, Requirement, register
from graphfraud.engine import quote_literal as ql

__all__ = ["shared_card", "card_burst"]

_WS = r"'\s+'"


def _address_key(ctx: Context, person: str) -> tuple[str, str]:
    """SQL join and household key of ``person`` (``'*'`` for everyone without addresses)."""
    if not ctx.has("persons", "address"):
        return "", "'*'"
    join = (f"LEFT JOIN (SELECT person_id AS _pid, min(nullif(regexp_replace(address, {_WS}, "
            f"'', 'g'), '')) AS _addr FROM canon_persons GROUP BY 1) _p ON _p._pid = {person}")
    return join, f"coalesce('A:' || _p._addr, 'P:' || {person})"


@register("shared_card", requires=(Requirement("claims", ("card_id",)),),
          zh="一卡多人或一人多卡（借卡、冒名就医）",
          en="one card used by several persons, or one person on many cards")
def shared_card(ctx: Context) -> None:
    e = ctx.engine
    min_p, fam = int(ctx.p("min_persons_per_card")), int(ctx.p("family_max"))
    min_c = int(ctx.p("min_cards_per_person"))
    join, hh = _address_key(ctx, "u.person_id")
    no_addr = not ctx.has("persons", "address")
    note_zh = (f"；无人员住址信息，按小群体规则判定（不超过 {fam} 人共用视为可能的家庭共济）"
               if no_addr else "")
    note_en = (f"; no addresses: small-group rule (sharing among at most {fam} persons is "
               f"presumed family mutual aid)" if no_addr else "")
    # one row per (card, person): claims, fund, dates and the person's household key
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sc_u AS
        SELECT u.*, {hh} AS hh FROM (
            SELECT coalesce(card_id, person_id) AS card, person_id, count(*) AS n,
                   sum(fund_paid) AS fund, min(service_date) AS first, max(service_date) AS last
            FROM claims_eff WHERE person_id IS NOT NULL GROUP BY 1, 2) u {join}""")
    # cards: households on the card (a household of more than family_max persons counts each)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sc_card AS
        SELECT card, sum(CASE WHEN m <= {fam} THEN 1 ELSE m END) AS units, sum(m) AS persons
        FROM (SELECT card, hh, count(*) AS m FROM _sc_u GROUP BY 1, 2) GROUP BY 1
        HAVING sum(m) >= {min_p} AND sum(CASE WHEN m <= {fam} THEN 1 ELSE m END) >= {min_p}""")
    # persons: their cards, less family cards (all other users in the person's household, a
    # household of at most family_max) and cards already evidence as shared cards
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sc_pc AS
        WITH cand AS (SELECT person_id FROM _sc_u GROUP BY 1 HAVING count(*) >= {min_c}),
        o AS (SELECT u.person_id, u.card, o.person_id AS other, o.hh = u.hh AS same
              FROM _sc_u u SEMI JOIN cand USING (person_id)
              JOIN _sc_u o ON o.card = u.card AND o.person_id <> u.person_id),
        fam_ok AS (SELECT person_id FROM o GROUP BY 1
                   HAVING count(DISTINCT other) FILTER (WHERE same) <= {fam - 1}),
        sh AS (SELECT person_id, card, bool_and(same) AND person_id IN (SELECT person_id FROM fam_ok)
                                       AS family FROM o GROUP BY 1, 2),
        c AS (SELECT u.person_id, u.card, u.n, u.fund, u.first, u.last,
                     coalesce(sh.family, false) AS family, sh.card IS NOT NULL AS shared,
                     u.card IN (SELECT card FROM _sc_card) AS carded
              FROM _sc_u u SEMI JOIN cand USING (person_id)
              LEFT JOIN sh ON sh.person_id = u.person_id AND sh.card = u.card)
        SELECT person_id, card, n, fund, first, last,
               count(*) OVER (PARTITION BY person_id) AS ncards,
               max(nfamily) OVER (PARTITION BY person_id) AS nfamily
        FROM (SELECT *, count(*) FILTER (WHERE family) OVER (PARTITION BY person_id) AS nfamily
              FROM c) WHERE NOT family AND NOT carded
        QUALIFY count(*) OVER (PARTITION BY person_id) >= {min_c}
            AND count(*) FILTER (WHERE shared) OVER (PARTITION BY person_id) >= 1""")
    # the other users of a flagged person's cards (their owners), and one row per person
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _sc_po AS
        SELECT p.person_id, p.card, u.person_id AS other, u.n FROM _sc_pc p
        JOIN _sc_u u ON u.card = p.card AND u.person_id <> p.person_id""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _sc_pg AS
        SELECT p.person_id, any_value(p.ncards) AS ncards, any_value(p.nfamily) AS nfamily,
               sum(p.n) AS n, sum(p.fund) AS fund, min(p.first) AS first, max(p.last) AS last,
               coalesce(any_value(o.cards), 0) AS cards, coalesce(any_value(o.others), 0) AS others,
               coalesce(any_value(o.n), 0) AS other_n
        FROM _sc_pc p LEFT JOIN (SELECT person_id, count(DISTINCT card) AS cards,
                                        count(DISTINCT other) AS others, sum(n) AS n
                                 FROM _sc_po GROUP BY 1) o USING (person_id)
        GROUP BY p.person_id""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _sc_claims AS
        WITH c AS (SELECT claim_id, person_id, provider_id, coalesce(card_id, person_id) AS card
                   FROM claims_eff)
        SELECT 'shared_card:card:' || card AS group_id, claim_id, person_id, provider_id
        FROM c SEMI JOIN _sc_card USING (card)
        UNION ALL
        SELECT 'shared_card:person:' || person_id, claim_id, person_id, provider_id
        FROM c SEMI JOIN _sc_pc USING (person_id, card)""")
    strength = "1 - 1 / (1 + 0.5 * ({x} - {m} + 1) + 0.25 * ln(1 + {n}))"
    addr = str(not no_addr).lower()
    span_zh = "'，统筹基金支付 ' || round(fund, 2) || ' 元（' || first || ' 至 ' || last || '）'"
    span_en = "', fund paid ' || round(fund, 2) || ' yuan (' || first || ' to ' || last || ')'"
    ctx.emit(
        f"""
        SELECT 'shared_card:card:' || card AS group_id,
               {strength.format(x='units', m=min_p, n='n')} AS strength,
               '卡 ' || card || ' 被 ' || persons || ' 个不同人员编号使用（分属 ' || units ||
                 ' 个住户），结算 ' || n || ' 笔' || {span_zh} || {ql(note_zh)} AS summary_zh,
               'card ' || card || ' used under ' || persons || ' person ids (' || units ||
                 ' households), ' || n || ' claims' || {span_en} || {ql(note_en)} AS summary_en,
               json_object('kind', 'card', 'persons', persons, 'households', units, 'claims', n,
                           'fund_paid', round(fund, 2), 'first', first, 'last', last,
                           'addresses_used', {addr}) AS stats
        FROM (SELECT k.card, k.persons, k.units, sum(u.n) AS n, sum(u.fund) AS fund,
                     min(u.first) AS first, max(u.last) AS last
              FROM _sc_card k JOIN _sc_u u USING (card) GROUP BY ALL)
        UNION ALL
        SELECT 'shared_card:person:' || person_id,
               {strength.format(x='ncards', m=min_c, n='n')},
               '人员 ' || person_id || ' 使用 ' || ncards || ' 张不同的卡结算 ' || n || ' 笔（其中 ' ||
                 cards || ' 张亦由其他 ' || others || ' 人使用' ||
                 CASE WHEN nfamily > 0 THEN '；另有同住户家属的卡 ' || nfamily || ' 张，视为家庭共济未计入'
                      ELSE '' END || '）' || {span_zh} || {ql(note_zh)},
               'person ' || person_id || ' used ' || ncards || ' different cards in ' || n ||
                 ' claims (' || cards || ' of them also used by ' || others || ' other persons' ||
                 CASE WHEN nfamily > 0 THEN '; ' || nfamily || ' cards of their household not '
                      || 'counted: family mutual aid' ELSE '' END || ')' || {span_en} || {ql(note_en)},
               json_object('kind', 'person', 'cards', ncards, 'family_cards', nfamily,
                           'cards_of_others', cards, 'other_persons', others, 'claims', n,
                           'fund_paid', round(fund, 2), 'first', first, 'last', last,
                           'addresses_used', {addr})
        FROM _sc_pg
        """,
        """
        SELECT group_id, 'person' AS kind, person_id AS id, NULL AS role,
               count(*) / sum(count(*)) OVER (PARTITION BY group_id) AS weight
        FROM _sc_claims WHERE group_id LIKE 'shared_card:card:%' GROUP BY group_id, person_id
        UNION ALL
        SELECT 'shared_card:person:' || person_id, 'person', person_id, 'organizer',
               n / (n + other_n) FROM _sc_pg
        UNION ALL
        SELECT 'shared_card:person:' || o.person_id, 'person', o.other, 'member',
               sum(o.n) / (any_value(g.n) + any_value(g.other_n))
        FROM _sc_po o JOIN _sc_pg g USING (person_id) GROUP BY o.person_id, o.other
        UNION ALL
        SELECT 'shared_card:card:' || card, 'card', card, NULL, 1.0 FROM _sc_card
        UNION ALL
        SELECT 'shared_card:person:' || person_id, 'card', card, NULL,
               n / sum(n) OVER (PARTITION BY person_id) FROM _sc_pc
        UNION ALL
        SELECT group_id, 'provider', provider_id, NULL,
               count(*) / sum(count(*)) OVER (PARTITION BY group_id) FROM _sc_claims
        GROUP BY group_id, provider_id
        """,
        "SELECT group_id, claim_id FROM _sc_claims",
    )
    for t in ("_sc_u", "_sc_card", "_sc_pc", "_sc_po", "_sc_pg", "_sc_claims"):
        e.execute(f"DROP TABLE IF EXISTS {t}")


@register("card_burst", requires=(Requirement("claims", ("card_id",)),),
          zh="短时间内在同一机构（终端）集中刷大量不同的卡，且同一批卡反复出现",
          en="many distinct cards read at one place in a short span, the same cards again and again")
def card_burst(ctx: Context) -> None:
    e = ctx.engine
    w = max(60, int(round(float(ctx.p("window_minutes")) * 60)))
    min_cards, ratio = int(ctx.p("min_cards")), float(ctx.p("min_ratio"))
    min_days, min_ring = int(ctx.p("min_burst_days")), int(ctx.p("min_ring_cards"))
    min_lift, inst = float(ctx.p("min_recurrence_lift")), int(ctx.p("institution_persons"))
    local_days = int(ctx.p("local_days"))
    term = "c.terminal_id" if ctx.has("claims", "terminal_id") else "NULL"
    doctor = "c.doctor_id" if ctx.has("claims", "doctor_id") else "NULL"
    codes = [str(x).strip().upper() for x in ctx.p("explained_diagnoses") if str(x).strip()]
    explained = ("coalesce(" + " OR ".join(f"starts_with(upper(trim(c.diagnosis_code)), {ql(x)})"
                                           for x in codes) + ", false)"
                 if codes and ctx.has("claims", "diagnosis_code") else "false")
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_r AS
        SELECT c.claim_id, c.person_id, coalesce(c.card_id, c.person_id) AS card, c.provider_id,
               {term} AS terminal_id, {doctor} AS doctor_id,
               c.provider_id || coalesce('#' || {term}, '') AS place,
               CAST(epoch(c.settled_at) AS BIGINT) AS t, CAST(c.settled_at AS DATE) AS day,
               c.fund_paid
        FROM claims_eff c
        WHERE c.settled_at IS NOT NULL AND c.person_id IS NOT NULL AND NOT {explained}""")
    # cheap upper bound first: reads per (place, bucket of w/6) summed over the buckets any
    # window can touch; only places and buckets where that bound reaches a burst go on
    # (a hash collision of two places only loosens the bound, it never hides a burst)
    bucket = max(1, w // 6)
    span_b = -(-w // bucket) + 1
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_c AS
        SELECT h, b, s FROM (
            SELECT h, b, sum(n) OVER (PARTITION BY h ORDER BY b
                                      RANGE BETWEEN {span_b - 1} PRECEDING AND CURRENT ROW) AS s
            FROM (SELECT hash(place) AS h, t // {bucket} AS b, count(*) AS n FROM _cb_r GROUP BY 1, 2))
        WHERE s >= {min_cards}""")
    # the place's typical count for a window: median distinct cards a day over its opening span
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_base AS
        WITH r AS (SELECT * FROM _cb_r WHERE hash(place) IN (SELECT h FROM _cb_c))
        SELECT d.place, d.daily, s.span, d.daily * {w} / greatest(s.span, {w}) AS lam
        FROM (SELECT place, median(n) AS daily FROM (
                  SELECT place, day, count(DISTINCT card) AS n FROM r GROUP BY 1, 2)
              GROUP BY 1) d
        JOIN (SELECT place, quantile_cont(t % 86400, 0.95) - quantile_cont(t % 86400, 0.05) AS span
              FROM r GROUP BY 1) s USING (place)""")
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_s AS
        SELECT r.* FROM _cb_r r SEMI JOIN (
            SELECT DISTINCT c.h, unnest(range(c.b - {span_b - 1}, c.b + 1)) AS b
            FROM _cb_c c JOIN _cb_base x ON hash(x.place) = c.h WHERE c.s >= {ratio} * x.lam) c
          ON c.h = hash(r.place) AND c.b = r.t // {bucket}""")
    # exact distinct cards in every sliding window (t - w, t] over those reads: +1/-1 events
    # and a running sum (a window that reaches a burst has all its reads among them)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_ep AS
        WITH s AS (SELECT place, t, lag(t) OVER (PARTITION BY place, card ORDER BY t) AS tp
                   FROM (SELECT DISTINCT place, card, t FROM _cb_s)),
        ev AS (SELECT place, ts, sum(d) AS d FROM (
                   SELECT place, greatest(t, coalesce(tp + {w}, t)) AS ts, 1 AS d FROM s
                   UNION ALL SELECT place, t + {w}, -1 FROM s) GROUP BY 1, 2),
        n AS (SELECT place, ts, sum(d) OVER (PARTITION BY place ORDER BY ts) AS n,
                     lead(ts) OVER (PARTITION BY place ORDER BY ts) AS te FROM ev),
        q AS (SELECT n.place, n.ts - {w} + 1 AS lo, n.te - 1 AS hi, n.n FROM n JOIN _cb_base b USING (place)
              WHERE n.te IS NOT NULL AND n.n >= {min_cards} AND n.n >= {ratio} * b.lam),
        g AS (SELECT *, sum(CASE WHEN lo <= prev THEN 0 ELSE 1 END)
                          OVER (PARTITION BY place ORDER BY lo) AS k
              FROM (SELECT *, lag(hi) OVER (PARTITION BY place ORDER BY lo) AS prev FROM q))
        SELECT place, k, min(lo) AS lo, max(hi) AS hi, max(n) AS peak FROM g GROUP BY place, k""")
    # a burst is a spike against the place's own neighbouring days at the same hours: the
    # distinct cards read in the burst's hours on the local_days active days before it, and on
    # those after it (a side with fewer than 3 such days is not used); a treatment course that
    # fills a department's mornings for weeks is a level, not a spike (step 2)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_loc AS
        WITH ep AS (SELECT place, k, peak, lo // 86400 AS day, lo % 86400 AS a,
                           CASE WHEN hi // 86400 > lo // 86400 THEN 86399 ELSE hi % 86400 END AS z
                    FROM _cb_ep),
        act AS (SELECT place, day, row_number() OVER (PARTITION BY place ORDER BY day) AS i
                FROM (SELECT DISTINCT r.place, CAST(r.t // 86400 AS BIGINT) AS day FROM _cb_r r
                      SEMI JOIN ep USING (place))),
        nb AS (SELECT ep.place, ep.k, ep.peak, ep.a, ep.z, n.day, n.i < a0.i AS before
               FROM ep JOIN act a0 ON a0.place = ep.place AND a0.day = ep.day
               JOIN act n ON n.place = ep.place AND n.i <> a0.i
                         AND n.i BETWEEN a0.i - {local_days} AND a0.i + {local_days}),
        cnt AS (SELECT nb.place, nb.k, nb.before, nb.day,
                       count(DISTINCT r.card) FILTER (WHERE r.t % 86400 BETWEEN nb.a AND nb.z) AS n
                FROM nb JOIN _cb_r r ON r.place = nb.place AND r.t // 86400 = nb.day
                GROUP BY ALL),
        side AS (SELECT place, k, before, median(n) AS level FROM cnt GROUP BY ALL
                 HAVING count(*) >= 3)
        SELECT place, k, max(level) AS level FROM side GROUP BY ALL""")
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_ep AS
        SELECT x.place, x.k, x.lo, x.hi, x.peak FROM _cb_ep x LEFT JOIN _cb_loc l USING (place, k)
        WHERE NOT coalesce(x.peak < {ratio} * l.level, false)""")
    # reads inside bursts, at places with bursts on at least min_days days
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_b AS
        WITH b AS (SELECT r.*, x.peak FROM _cb_s r JOIN _cb_ep x
                   ON r.place = x.place AND r.t BETWEEN x.lo AND x.hi)  -- episodes do not overlap
        SELECT * FROM b SEMI JOIN (SELECT place FROM b GROUP BY 1
                                   HAVING count(DISTINCT day) >= {min_days}) USING (place)""")
    join, hh = _address_key(ctx, "b.person_id")
    addr = ctx.has("persons", "address")
    # recurrence of cards across burst days against the place's ordinary days (step 3)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_place AS
        WITH bp AS (SELECT place, card, count(DISTINCT day) AS dp FROM _cb_b GROUP BY 1, 2),
        kd AS (SELECT place, day, count(DISTINCT card) AS k FROM _cb_b GROUP BY 1, 2),
        ks AS (SELECT place, count(*) AS days, avg(k) AS kbar,
                      (sum(k) * sum(k) - sum(k * k)) / 2 AS kk FROM kd GROUP BY 1),
        om AS (SELECT r.place, r.card, count(DISTINCT r.day) AS m FROM _cb_r r
               SEMI JOIN ks USING (place) ANTI JOIN kd USING (place, day) GROUP BY 1, 2),
        hq AS (SELECT om.place, sum(power((1 - power(1 - om.m / t.tot, ks.kbar)) / ks.kbar, 2)) AS h
               FROM om JOIN (SELECT place, sum(m) AS tot FROM om GROUP BY 1) t USING (place)
               JOIN ks USING (place) GROUP BY 1)
        SELECT ks.place, ks.days, ks.kbar, o.obs, ks.kk * hq.h AS expected,
               o.obs / nullif(ks.kk * hq.h, 0) AS lift
        FROM ks JOIN (SELECT place, sum(dp * (dp - 1) / 2) AS obs FROM bp GROUP BY 1) o USING (place)
        LEFT JOIN hq USING (place)
        WHERE coalesce(o.obs / nullif(ks.kk * hq.h, 0), 'infinity'::DOUBLE) >= {min_lift}
          AND o.obs > 0""")
    # ring reads: cards in bursts on >= min_days days, less residents of one institution
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cb_ring AS
        WITH b AS (SELECT b.* FROM _cb_b b SEMI JOIN _cb_place USING (place)),
        res AS (SELECT place, person_id FROM (
                    SELECT b.place, b.person_id, {hh} AS hh FROM (
                        SELECT place, person_id FROM b GROUP BY 1, 2
                        HAVING count(DISTINCT day) >= {min_days}) b {join})
                WHERE {'true' if addr else 'false'}
                QUALIFY count(*) OVER (PARTITION BY place, hh) >= {inst}),
        k AS (SELECT * FROM b ANTI JOIN res USING (place, person_id)
              QUALIFY count(DISTINCT day) OVER (PARTITION BY place, card) >= {min_days})
        SELECT * FROM k QUALIFY count(DISTINCT card) OVER (PARTITION BY place) >= {min_ring}""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _cb_g AS
        SELECT 'card_burst:' || r.place AS group_id, r.place, any_value(r.provider_id) AS provider_id,
               any_value(r.terminal_id) AS terminal_id, count(DISTINCT r.card) AS cards,
               count(DISTINCT r.person_id) AS persons, count(*) AS claims,
               round(sum(r.fund_paid), 2) AS fund, count(DISTINCT r.day) AS ring_days,
               min(r.day) AS first, max(r.day) AS last, max(r.peak) AS peak,
               array_to_string(list_slice(list_sort(list_distinct(list(strftime(r.day, '%Y-%m-%d')))), 1, 6),
                               ', ') AS dates,
               any_value(p.days) AS burst_days, any_value(p.lift) AS lift,
               any_value(p.kbar) AS kbar, any_value(b.lam) AS lam
        FROM _cb_ring r JOIN _cb_place p USING (place) JOIN _cb_base b USING (place)
        GROUP BY r.place""")
    lift = "coalesce(round(lift, 1) || '', '∞')"
    where_zh = "provider_id || coalesce('（终端 ' || terminal_id || '）', '')"
    where_en = "provider_id || coalesce(' (terminal ' || terminal_id || ')', '')"
    ctx.emit(
        f"""
        SELECT group_id,
               (1 - 1 / coalesce(lift, 1e9)) * (1 - exp(-cards / {min_cards})) AS strength,
               '定点机构 ' || {where_zh} || '在 ' || burst_days || ' 天出现集中刷卡：' || {w // 60} ||
                 ' 分钟内最多读取 ' || peak || ' 张不同的卡，为该处同等时段通常数量（约 ' ||
                 round(lam, 2) || ' 张）的 ' || round(peak / greatest(lam, 0.01), 1) || ' 倍；其中 ' ||
                 cards || ' 张卡（' || persons || ' 人）在至少 {min_days} 天的高峰中反复出现（共 ' ||
                 ring_days || ' 天：' || dates || CASE WHEN ring_days > 6 THEN ' 等' ELSE '' END ||
                 '），反复程度为该处平日刷卡的 ' || {lift} || ' 倍；高峰内结算 ' || claims ||
                 ' 笔，统筹基金支付 ' || fund || ' 元（' || first || ' 至 ' || last || '）' AS summary_zh,
               'at ' || {where_en} || ', bursts of card reads on ' || burst_days || ' days: up to ' ||
                 peak || ' distinct cards within {w // 60} minutes, ' ||
                 round(peak / greatest(lam, 0.01), 1) || ' times the usual ' || round(lam, 2) ||
                 ' for such a window; ' || cards || ' cards (' || persons ||
                 ' persons) recur in bursts on at least {min_days} days (' || ring_days || ' days: ' ||
                 dates || CASE WHEN ring_days > 6 THEN ', ...' ELSE '' END || '), ' || {lift} ||
                 ' times the recurrence of the place''s ordinary cards; ' || claims ||
                 ' claims in bursts, fund paid ' || fund || ' yuan (' || first || ' to ' || last || ')'
                 AS summary_en,
               json_object('provider', provider_id, 'terminal', terminal_id, 'window_minutes', {w // 60},
                           'burst_days', burst_days, 'ring_days', ring_days, 'peak_cards', peak,
                           'usual_cards_per_window', round(lam, 3), 'cards', cards, 'persons', persons,
                           'mean_cards_per_burst_day', round(kbar, 1),
                           'recurrence_lift', round(lift, 2), 'claims', claims, 'fund_paid', fund,
                           'first', first, 'last', last) AS stats
        FROM _cb_g
        """,
        """
        SELECT g.group_id, 'provider' AS kind, g.provider_id AS id, 'organizer' AS role, 1.0 AS weight
        FROM _cb_g g
        UNION ALL
        SELECT 'card_burst:' || place, 'card', card, 'member',
               count(*) / sum(count(*)) OVER (PARTITION BY place) FROM _cb_ring GROUP BY place, card
        UNION ALL
        SELECT 'card_burst:' || place, 'person', person_id, 'member',
               count(*) / sum(count(*)) OVER (PARTITION BY place) FROM _cb_ring
        GROUP BY place, person_id
        UNION ALL
        SELECT 'card_burst:' || place, 'doctor', doctor_id, NULL,
               count(*) / sum(count(*)) OVER (PARTITION BY place) FROM _cb_ring
        WHERE doctor_id IS NOT NULL GROUP BY place, doctor_id
        """,
        "SELECT 'card_burst:' || place AS group_id, claim_id FROM _cb_ring",
    )
    for t in ("_cb_r", "_cb_c", "_cb_s", "_cb_base", "_cb_ep", "_cb_loc", "_cb_b", "_cb_place", "_cb_ring", "_cb_g"):
        e.execute(f"DROP TABLE IF EXISTS {t}")
