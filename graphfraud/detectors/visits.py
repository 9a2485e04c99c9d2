"""``co_visit``: groups of persons who visit the same places on the same days, again and again.

A broker (医托) takes recruited persons to two to five providers together, month after month.
Each (provider, day) is an *event*; two persons at the same event *meet*. Outpatient and
pharmacy visits only: a joint admission (an outbreak in a nursing home) is a doctor's decision,
not a trip, and stays are ``induced_admission``'s.

1. **Events, crowds skipped.** An event with more than ``max_event_persons`` distinct persons is
   a crowd (a busy hospital, a market day), not a meeting: it yields no pairs, so the cost stays
   near-linear in the claims (pairs are made only inside small events, never every same-day
   pair of a big hospital). With ``split_crowds_by_doctor`` a crowd is looked at once more per
   doctor (a broker's crew queues at one doctor); doctor-days that are crowds too are skipped.
   Popular places weigh less: an event of ``n`` persons weighs ``1 / ln(2 + n)`` in the group's
   score. Claims whose diagnosis starts with one of ``explained_diagnoses`` (dialysis
   N18/Z49/Z99.2, chemo- and radiotherapy Z51: patients who meet on a treatment schedule) take
   no part.
2. **Links.** A pair is linked when it shares at least ``min_shared_events`` events at at least
   ``min_shared_providers`` providers, *and* that many meetings are improbable by chance: with
   visits on random open days the expected meetings are
   ``lambda = sum_p days_a,p * days_b,p / open_days_p`` over the providers both use, and the
   Poisson tail ``P(K >= k | lambda)`` must be at most ``max_pair_pvalue``. A frequent visitor
   (a hub who comes every day meets everyone) has a large ``lambda`` and is not linked by it.
   Persons sharing an address (families of 2-5; nursing-home residents) are not linked:
   living together explains going together.
3. **Groups.** Connected components of the links, with chaining cut: a person whose removal
   splits a component into two or more parts of ``min_group - 1`` persons or more (one person
   linked to unrelated groups) is taken out, the parts become groups, and that person joins
   each part they are linked to.
4. **Group events.** A group event is a (provider, day), crowded or not, where at least
   ``min_event_members`` members and ``min_event_share`` of the group were together; members
   at fewer than two are dropped. A group is kept with ``min_group`` members and
   ``min_shared_events`` group events spread over ``min_shared_providers`` providers, each
   holding ``min_provider_share`` of them. The member present at the most group events is named
   the recruiter (the broker goes every time).

Look-alikes cleared: dialysis cohorts and chemotherapy (explained diagnoses; and one place:
their meetings elsewhere are a sliver of those at the unit); nursing homes and families
(shared address; nursing-home rounds are one clinic, and three residents of thirty at their
pharmacy on a day is not a group event); village market days (crowds, one clinic); group
check-ups (one or two days at one place). Without addresses, a family that goes to two places
together several times looks like a small crew (see the tests).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from graphfraud.detectors.base import Context, register
from graphfraud.engine import Engine
from graphfraud.engine import quote_literal as ql

__all__ = ["co_visit", "split_groups", "explained_sql", "chance_of_meetings", "poisson_tail_sql"]


def explained_sql(codes: list[str], column: str = "diagnosis_code") -> str:
    """SQL condition: the diagnosis starts with one of ``codes`` (ICD-10 prefixes)."""
    if not codes:
        return "false"
    return "coalesce(" + " OR ".join(
        f"starts_with(upper(trim({column})), {ql(str(c).strip().upper())})" for c in codes) + ", false)"


def poisson_tail_sql(src: str, keys: str) -> str:
    """A query giving ``keys, k, lam, log10p`` for the rows of ``src`` with ``k > lam``.

    ``src`` yields ``keys``, a count ``k`` and an expectation ``lam``; ``log10p`` is
    ``log10 P(K >= k)`` for ``K ~ Poisson(lam)``, summed in log space from ``k`` up (exact to
    rounding however small). Rows with ``k <= lam`` are not improbable and are left out.
    """
    return f"""
        WITH terms AS (
            SELECT {keys}, k, lam, -lam + i * ln(lam) - lgamma(i + 1) AS t,
                   -lam + k * ln(lam) - lgamma(k + 1) AS t0
            FROM (SELECT *, unnest(range(CAST(k AS BIGINT),
                                         CAST(k + 50 + ceil(10 * sqrt(lam)) AS BIGINT))) AS i
                  FROM ({src}) WHERE k > lam AND lam > 0))
        SELECT {keys}, any_value(k) AS k, any_value(lam) AS lam,
               (any_value(t0) + ln(sum(exp(t - t0)))) / ln(10) AS log10p
        FROM terms GROUP BY {keys}"""


def chance_of_meetings(e: Engine, *, pairs: str, visits: str, out: str) -> None:
    """How improbable each pair's meetings are if the two visited independently.

    ``pairs`` holds ``a, b, k`` (person numbers, meetings); ``visits`` holds ``pid, prv, days,
    open_days`` (days the person came to the provider, days it was open). With visits on random
    open days, the expected meetings are ``lambda = sum_p days_a,p * days_b,p / open_days_p``
    over the providers both use, and ``K ~ Poisson(lambda)``. ``out`` gets ``a, b, k, lam,
    log10p`` (see :func:`poisson_tail_sql`) for the pairs that met more often than expected.
    """
    lam = f"""
        SELECT p.a, p.b, any_value(p.k) AS k, sum(va.days * vb.days / va.open_days) AS lam
        FROM {pairs} p JOIN {visits} va ON va.pid = p.a
        JOIN {visits} vb ON vb.pid = p.b AND vb.prv = va.prv GROUP BY p.a, p.b"""
    e.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS {poisson_tail_sql(lam, 'a, b')}")


def split_groups(n: int, a: np.ndarray, b: np.ndarray, *, min_group: int) -> list[list[int]]:
    """Groups of a link graph: components, with hubs that chain unrelated groups cut out.

    Parameters
    ----------
    n : int
        Number of vertices (0..n-1).
    a, b : numpy.ndarray
        Edge endpoints.
    min_group : int
        Smallest group; a vertex whose removal leaves two or more parts of at least
        ``min_group - 1`` vertices chains groups: it joins each such part it touches instead.

    Returns
    -------
    list of list of int
        Vertex lists (sorted), one per group of at least ``min_group`` vertices, sorted.

    Examples
    --------
    >>> import numpy as np
    >>> # two triangles joined through vertex 6
    >>> a = np.array([0, 0, 1, 2, 3, 3, 4, 6, 6, 6, 6]); b = np.array([1, 2, 2, 6, 4, 5, 5, 0, 1, 3, 4])
    >>> split_groups(7, a, b, min_group=4)
    [[0, 1, 2, 6], [3, 4, 5, 6]]
    """
    import igraph as ig

    part = max(1, min_group - 1)
    g = ig.Graph(n=n, edges=np.column_stack([a, b]).tolist())
    g.simplify()
    out: list[list[int]] = []
    for comp in g.connected_components():
        if len(comp) < min_group:
            continue
        sub = g.induced_subgraph(comp)
        hubs = _chaining_hubs(sub, part)
        if not hubs:
            out.append(sorted(comp))
            continue
        keep = [v for v in range(sub.vcount()) if v not in set(hubs)]
        rest = sub.induced_subgraph(keep)
        for piece in rest.connected_components():
            members = {keep[i] for i in piece}
            touching = {h for h in hubs if set(sub.neighbors(h)) & members}
            group = members | touching
            if len(members) >= part and len(group) >= min_group:
                out.append(sorted(comp[i] for i in group))
    return sorted(out)


def _chaining_hubs(g: Any, part: int) -> list[int]:
    """Cut vertices of connected ``g`` whose removal leaves two parts of ``part`` vertices or more.

    The parts left by removing a cut vertex are the subtrees hanging off it in the block-cut
    tree, so one walk over the tree sizes them all (linear, not one search per cut vertex).
    """
    cut = set(g.articulation_points())
    if not cut:
        return []
    blocks = [list(b) for b in g.biconnected_components()]
    # tree nodes: blocks 0..B-1, then cut vertices; a block weighs its vertices that are not
    # cut vertices, a cut vertex weighs 1 (each vertex is counted once)
    cuts = sorted(cut)
    node_of = {v: len(blocks) + i for i, v in enumerate(cuts)}
    adj: list[list[int]] = [[] for _ in range(len(blocks) + len(cuts))]
    weight = [sum(v not in cut for v in b) for b in blocks] + [1] * len(cuts)
    for i, b in enumerate(blocks):
        for v in b:
            if v in cut:
                adj[i].append(node_of[v])
                adj[node_of[v]].append(i)
    parent, order, seen = [-1] * len(adj), [], [False] * len(adj)
    stack = [0]
    seen[0] = True
    while stack:
        x = stack.pop()
        order.append(x)
        for y in adj[x]:
            if not seen[y]:
                seen[y], parent[y] = True, x
                stack.append(y)
    below = list(weight)
    for x in reversed(order):
        if parent[x] >= 0:
            below[parent[x]] += below[x]
    total = below[0]
    hubs = []
    for v in cuts:
        x = node_of[v]
        parts = [below[y] for y in adj[x] if parent[y] == x] + [total - below[x]]
        if sum(size >= part for size in parts) >= 2:
            hubs.append(v)
    return hubs


@register("co_visit", zh="同行就医团伙（医托带领多人同日到多家机构就诊）",
          en="groups who visit the same places on the same days, again and again")
def co_visit(ctx: Context) -> None:
    e = ctx.engine
    max_n, min_k = int(ctx.p("max_event_persons")), int(ctx.p("min_shared_events"))
    min_p, min_group = int(ctx.p("min_shared_providers")), int(ctx.p("min_group"))
    alpha, min_m = float(ctx.p("max_pair_pvalue")), int(ctx.p("min_event_members"))
    by_doc = bool(ctx.p("split_crowds_by_doctor")) and ctx.has("claims", "doctor_id")
    expl = explained_sql(list(ctx.p("explained_diagnoses"))) if ctx.has("claims", "diagnosis_code") \
        else "false"
    doctor = "doctor_id" if ctx.has("claims", "doctor_id") else "NULL::VARCHAR"
    # outpatient and pharmacy visits: a joint admission is a doctor's decision, not a trip
    # (induced_admission looks at stays)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cv_c AS
        SELECT claim_id, person_id, provider_id, {doctor} AS doctor_id, fund_paid,
               service_date AS day, {expl} AS explained
        FROM claims_eff WHERE visit_type <> 'inpatient'""")
    e.execute("CREATE OR REPLACE TEMP TABLE _cv_n AS SELECT provider_id, day, "
              "count(DISTINCT person_id) AS n FROM _cv_c GROUP BY ALL")
    e.execute("CREATE OR REPLACE TEMP TABLE _cv_pmap AS SELECT person_id, "
              "CAST(row_number() OVER (ORDER BY person_id) AS INTEGER) AS pid "
              "FROM (SELECT DISTINCT person_id FROM _cv_c WHERE NOT explained)")
    sub = (f"""UNION ALL
        SELECT c.provider_id, c.day, c.doctor_id AS sub, count(DISTINCT c.person_id) AS n
        FROM _cv_c c SEMI JOIN (SELECT * FROM _cv_n WHERE n > {max_n}) big USING (provider_id, day)
        WHERE c.doctor_id IS NOT NULL GROUP BY ALL""" if by_doc else "")
    # events small enough to make pairs: (provider, day), or (provider, day, doctor) in a crowd
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cv_ev AS
        SELECT * FROM (SELECT provider_id, day, NULL::VARCHAR AS sub, n FROM _cv_n {sub})
        WHERE n BETWEEN 2 AND {max_n}""")
    # who is at which small event (two equi-joins: whole provider-days, doctor-days of crowds)
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _cv_pe AS
        SELECT DISTINCT m.pid, hash(c.provider_id) AS prv, hash(c.provider_id, c.day, v.sub) AS ev, v.n
        FROM _cv_c c JOIN (SELECT * FROM _cv_ev WHERE sub IS NULL) v USING (provider_id, day)
        JOIN _cv_pmap m USING (person_id) WHERE NOT c.explained
        UNION
        SELECT DISTINCT m.pid, hash(c.provider_id), hash(c.provider_id, c.day, v.sub), v.n
        FROM _cv_c c JOIN (SELECT * FROM _cv_ev WHERE sub IS NOT NULL) v
             ON v.provider_id = c.provider_id AND v.day = c.day AND v.sub = c.doctor_id
        JOIN _cv_pmap m USING (person_id) WHERE NOT c.explained""")
    # pairs that meet often enough at two providers or more (min <> max: one pass, no DISTINCT)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cv_pairs AS
        SELECT a.pid AS a, b.pid AS b, count(*) AS k, sum(1 / ln(2 + a.n)) AS w
        FROM _cv_pe a JOIN _cv_pe b ON a.ev = b.ev AND a.pid < b.pid
        GROUP BY a.pid, b.pid HAVING count(*) >= {min_k} AND min(a.prv) <> max(a.prv)""")
    # chance of that many meetings under independent visiting
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _cv_pv AS
        WITH open AS (SELECT provider_id, count(DISTINCT day) AS open_days FROM _cv_c GROUP BY ALL)
        SELECT m.pid, c.provider_id AS prv, count(DISTINCT c.day) AS days, any_value(o.open_days) AS open_days
        FROM _cv_c c JOIN _cv_pmap m USING (person_id) JOIN open o USING (provider_id)
        WHERE m.pid IN (SELECT a FROM _cv_pairs UNION SELECT b FROM _cv_pairs) AND NOT c.explained
        GROUP BY ALL""")
    chance_of_meetings(e, pairs="_cv_pairs", visits="_cv_pv", out="_cv_chance")
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cv_test AS
        WITH met AS (SELECT p.a, p.b, count(DISTINCT pa.prv) AS providers
                     FROM _cv_pairs p JOIN _cv_pe pa ON pa.pid = p.a
                     JOIN _cv_pe pb ON pb.pid = p.b AND pb.ev = pa.ev GROUP BY ALL)
        SELECT * FROM _cv_chance SEMI JOIN (SELECT * FROM met WHERE providers >= {min_p}) USING (a, b)""")
    # co-residents are not linked (families, nursing homes)
    home = ("trim(pa.address) = trim(pb.address) AND trim(pa.address) <> ''"
            if ctx.has("persons", "address") else "false")
    people = ("JOIN _cv_pmap ma ON ma.pid = t.a JOIN _cv_pmap mb ON mb.pid = t.b "
              "LEFT JOIN canon_persons pa ON pa.person_id = ma.person_id "
              "LEFT JOIN canon_persons pb ON pb.person_id = mb.person_id"
              if ctx.has("persons", "address") else "")
    links = e.arrow(f"""
        SELECT t.a, t.b FROM _cv_test t {people}
        WHERE t.log10p <= {np.log10(alpha)} AND NOT coalesce({home}, false) ORDER BY t.a, t.b""")
    a, b = links.column("a").to_numpy(), links.column("b").to_numpy()
    rows: list[tuple[int, int]] = []
    if len(a):
        verts, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
        for gi, group in enumerate(split_groups(len(verts), inv[: len(a)], inv[len(a):],
                                                min_group=min_group)):
            rows += [(gi, int(verts[v])) for v in group]
    e.load_arrow("_cv_gm", pa.Table.from_pylist(
        [{"g": g, "pid": p} for g, p in rows],
        schema=pa.schema([("g", pa.int32()), ("pid", pa.int32())])).to_reader())
    _emit(ctx, min_k=min_k, min_p=min_p, min_group=min_group, min_m=min_m,
          share=float(ctx.p("min_provider_share")), ev_share=float(ctx.p("min_event_share")))
    for t in ("_cv_c", "_cv_n", "_cv_pmap", "_cv_ev", "_cv_pe", "_cv_pairs", "_cv_pv", "_cv_chance",
              "_cv_test", "_cv_gm", "_cv_gc0", "_cv_gc1", "_cv_gc2", "_cv_gc", "_cv_gev", "_cv_att", "_cv_grp"):
        e.execute(f"DROP TABLE IF EXISTS {t}")


def _emit(ctx: Context, *, min_k: int, min_p: int, min_group: int, min_m: int,
          share: float, ev_share: float) -> int:
    """Group events, the members who attend them, and the evidence."""
    e = ctx.engine
    # the claims of group members, on every (provider, day), crowded or not
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _cv_gc0 AS
        SELECT g.g, c.* FROM _cv_gm g JOIN _cv_pmap m USING (pid) JOIN _cv_c c USING (person_id)
        WHERE NOT c.explained""")
    # a group event: min_event_members, and a fair part of the group (three of thirty
    # neighbours at their pharmacy on one day is chance; a crew turns out in force)
    gev = f"""
        CREATE OR REPLACE TEMP TABLE _cv_gev AS
        WITH size AS (SELECT g, count(DISTINCT person_id) AS n FROM {{0}} GROUP BY g)
        SELECT c.g, c.provider_id, c.day, count(DISTINCT c.person_id) AS present
        FROM {{0}} c JOIN size USING (g) GROUP BY ALL
        HAVING count(DISTINCT c.person_id) >= greatest({min_m}, {ev_share} * any_value(size.n))"""
    e.execute(gev.format("_cv_gc0"))
    # members who attend at least two group events; then the group events among them alone
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _cv_gc1 AS
        SELECT * FROM _cv_gc0 SEMI JOIN (
            SELECT c.g, c.person_id FROM _cv_gc0 c SEMI JOIN _cv_gev v USING (g, provider_id, day)
            GROUP BY c.g, c.person_id HAVING count(DISTINCT (c.provider_id, c.day)) >= 2
        ) USING (g, person_id)""")
    e.execute(gev.format("_cv_gc1"))
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _cv_gc2 AS
        SELECT * FROM _cv_gc1 SEMI JOIN _cv_gev USING (g, provider_id, day)""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _cv_att AS
        SELECT g, person_id, count(DISTINCT (provider_id, day)) AS events FROM _cv_gc2 GROUP BY ALL""")
    # groups that hold up: enough members, and meetings at enough providers, each holding a fair
    # share of them (one chance meeting elsewhere does not make a one-place cohort travel);
    # named by the recruiter and the first day
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cv_grp AS
        WITH ev AS (SELECT v.g, count(*) AS events, min(v.day) AS first_day, max(v.day) AS last_day,
                           sum((v.present - 1) / ln(2 + n.n)) AS score
                    FROM _cv_gev v JOIN _cv_n n USING (provider_id, day) GROUP BY v.g),
             pv AS (SELECT g, provider_id, count(*) AS events FROM _cv_gev GROUP BY ALL),
             pr AS (SELECT pv.g, count(*) FILTER (WHERE pv.events >= {share} * ev.events) AS providers,
                           count(*) AS all_providers, max(pv.events) / any_value(ev.events) AS main_share
                    FROM pv JOIN ev USING (g) GROUP BY pv.g),
             pres AS (SELECT g, count(*) AS persons, min(person_id) AS first_member,
                             arg_min(person_id, (-events, person_id)) AS recruiter,
                             max(events) AS recruiter_events FROM _cv_att GROUP BY g),
             ok AS (SELECT 'co_visit:' || pres.recruiter || ':' || strftime(ev.first_day, '%Y-%m-%d')
                             AS base, ev.*, pr.providers, pr.all_providers, pr.main_share,
                           pres.persons, pres.first_member, pres.recruiter, pres.recruiter_events
                    FROM ev JOIN pr USING (g) JOIN pres USING (g)
                    WHERE ev.events >= {min_k} AND pr.providers >= {min_p}
                      AND pres.persons >= {min_group})
        SELECT base || CASE WHEN count(*) OVER (PARTITION BY base) = 1 THEN ''
                            ELSE ':' || row_number() OVER (PARTITION BY base ORDER BY first_member)
                       END AS group_id, *
        FROM ok""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _cv_gc AS
        SELECT r.group_id, c.* FROM _cv_gc2 c JOIN _cv_grp r USING (g)""")
    return ctx.emit(
        """
        SELECT r.group_id, 1 - exp(-r.score / 10) AS strength,
               r.persons || ' 人在 ' || r.all_providers || ' 家机构同日就诊 ' || r.events || ' 次（' ||
                 strftime(r.first_day, '%Y-%m-%d') || ' 至 ' || strftime(r.last_day, '%Y-%m-%d') ||
                 '），其中 ' || r.recruiter || ' 到场 ' || r.recruiter_events || ' 次（疑似医托）；结算 ' ||
                 c.claims || ' 笔，统筹基金支付 ' || round(c.fund, 2) || ' 元' AS summary_zh,
               r.persons || ' persons visited ' || r.all_providers || ' providers together on ' ||
                 r.events || ' occasions (' || strftime(r.first_day, '%Y-%m-%d') || ' to ' ||
                 strftime(r.last_day, '%Y-%m-%d') || '); ' || r.recruiter || ' was there ' ||
                 r.recruiter_events || ' times (likely recruiter); ' || c.claims ||
                 ' claims, fund paid ' || round(c.fund, 2) || ' yuan' AS summary_en,
               json_object('persons', r.persons, 'events', r.events, 'providers', r.all_providers,
                           'first_day', r.first_day, 'last_day', r.last_day,
                           'claims', c.claims, 'fund_paid', round(c.fund, 2),
                           'main_provider_share', round(r.main_share, 3),
                           'weighted_meetings', round(r.score, 3)) AS stats
        FROM _cv_grp r JOIN (SELECT group_id, count(*) AS claims, sum(fund_paid) AS fund
                             FROM _cv_gc GROUP BY group_id) c USING (group_id)
        """,
        """
        SELECT r.group_id, 'person' AS kind, a.person_id AS id,
               CASE WHEN a.person_id = r.recruiter THEN 'recruiter' ELSE 'member' END AS role,
               a.events / r.events AS weight
        FROM _cv_att a JOIN _cv_grp r USING (g)
        UNION ALL
        SELECT group_id, 'provider', provider_id, NULL,
               count(DISTINCT day) / any_value(r.events) FROM _cv_gc JOIN _cv_grp r USING (group_id)
               GROUP BY group_id, provider_id
        UNION ALL
        SELECT group_id, 'doctor', doctor_id, NULL, count(*) / sum(count(*)) OVER (PARTITION BY group_id)
        FROM _cv_gc WHERE doctor_id IS NOT NULL GROUP BY group_id, doctor_id
        """,
        "SELECT group_id, claim_id FROM _cv_gc",
    )
