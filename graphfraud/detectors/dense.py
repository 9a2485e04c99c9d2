"""``dense_block``: dense blocks found by FRAUDAR's camouflage-resistant peeling.

Two bipartite graphs of outpatient and pharmacy visits are peeled with
:func:`graphfraud.algorithms.fraudar.peel`: person x (provider, day) (who was where on which
day) and person x provider (who uses which places; an edge counts the visit days). An edge
weighs ``1 / log(d + log_c)`` (times its visit days), ``d`` the column's degree in the whole
graph (all persons of that provider-day or provider), so a big hospital's day or a popular
pharmacy adds little, and the edges a ring adds to popular columns to look ordinary
(camouflage) do not dilute the block it forms.

1. **Candidates, cheaply.** Pairs of persons are counted only inside provider-days of at most
   ``max_column_rows`` persons (crowds make no pairs, so the cost stays near-linear). A person
   is a candidate row when some partner shared at least ``min_cols`` provider-days with them,
   improbably by chance (Poisson tail at most ``candidate_pvalue``, as in ``co_visit``: a
   frequent visitor meets everyone and is expected to), and does not live at the same address.
   The graphs hold the candidates' edges to every column (crowds included, at their small
   weight) that holds three candidates or more.
2. **Peeling.** ``blocks`` rounds of greedy peeling per graph; each round's block edges are
   removed before the next round (FRAUDAR section 4). A block may hold two rings joined by a
   person or a column they happen to share: its persons are linked when they share two of its
   columns, and split into groups as ``co_visit`` does (components, chaining hubs cut).
3. **Reported** are groups of ``min_rows`` persons whose block weight is at least ``min_lift``
   times what the graph would put between those rows and columns by chance,
   ``f(S) / (F_rows * F_cols / F)`` with the whole graph's strengths (the graph's own density,
   given these nodes; FRAUDAR's ``f(S) / |S|`` and the whole graph's ``f(V) / |V|`` are in the
   stats), that *met*: ``min_cols`` provider-days where at least ``min_column_share`` of them
   (and three) were together, members attending two or more; and whose meetings are
   improbable (at most ``max_block_pvalue``) if each member visited each provider on random
   open days at their own rate.

What makes a dense block legitimate, and how it is cleared:

* treatment schedules: claims with ``explained_diagnoses`` (dialysis N18/Z49/Z99.2, chemo- and
  radiotherapy Z51) are not edges;
* living together (families, nursing homes): co-residents do not make each other candidates;
* one place's own rhythm (a dialysis unit, nursing-home rounds, a village market day): the
  meetings must spread over ``min_providers`` providers, each holding ``min_provider_share``
  of them (one-place bursts are ``card_burst``'s); a group check-up is one or two days,
  fewer than ``min_cols``;
* a neighbourhood's usual places (its clinic, pharmacy, hospital): popular columns weigh
  little; ordinary neighbours hold about what chance gives (lift near 1), use the same places
  on different days (no meetings), and meet no more often than their visiting rates predict.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from graphfraud.algorithms.fraudar import peel
from graphfraud.detectors.base import Context, register
from graphfraud.detectors.visits import (chance_of_meetings, explained_sql, poisson_tail_sql,
                                         split_groups)
from graphfraud.engine import Engine

__all__ = ["dense_block", "peel_blocks"]


def peel_blocks(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, *, rounds: int,
                min_rows: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks of integer-coded edges: ``rounds`` peels, each block split into cohesive groups.

    A peeled block may hold two rings joined by a few persons or columns they happen to share.
    Its persons are linked when they share two of its columns or more, and split into groups
    as :func:`graphfraud.detectors.visits.split_groups` does (components, chaining hubs cut).

    Parameters
    ----------
    rows, cols, weights : numpy.ndarray
        Distinct edges (row code, column code) and their weights.
    rounds : int
        Peels; after each the block's edges are removed.
    min_rows : int
        Smallest group kept.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        Edge indices (into the inputs) of each group's edges inside its block, and its rows.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.repeat(np.arange(8), 3); c = np.array([0, 1, 2] * 4 + [3, 4, 5] * 4)
    >>> [sorted(set(r[e].tolist())) for e, _ in peel_blocks(r, c, np.ones(24), rounds=1, min_rows=4)]
    [[0, 1, 2, 3], [4, 5, 6, 7]]
    """
    import igraph as ig

    n_r = int(rows.max()) + 1 if len(rows) else 0
    n_c = int(cols.max()) + 1 if len(cols) else 0
    alive = np.ones(len(rows), dtype=bool)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(rounds):
        idx = np.flatnonzero(alive)
        if len(idx) == 0:
            break
        ri, ci, g = peel(n_r, n_c, rows[idx], cols[idx], weights[idx])
        if len(ri) == 0 or g <= 0:
            break
        inside = idx[np.isin(rows[idx], ri) & np.isin(cols[idx], ci)]
        alive[inside] = False
        # persons linked by two shared columns of the block, then grouped
        r_ids, r = np.unique(rows[inside], return_inverse=True)
        c_ids, c = np.unique(cols[inside], return_inverse=True)
        bip = ig.Graph.Bipartite([False] * len(r_ids) + [True] * len(c_ids),
                                 np.column_stack([r, c + len(r_ids)]).tolist())
        proj = bip.bipartite_projection(multiplicity=True, which=0)
        pairs = np.asarray(proj.get_edgelist(), dtype=np.int64).reshape(-1, 2)
        strong = np.asarray(proj.es["weight"] if proj.ecount() else [], dtype=np.int64) >= 2
        for group in split_groups(len(r_ids), pairs[strong, 0], pairs[strong, 1], min_group=min_rows):
            e = inside[np.isin(r, group)]
            out.append((e, r_ids[group]))
    return out


@register("dense_block", zh="FRAUDAR 稠密块（多人同步就医，抗伪装）",
          en="dense blocks found by camouflage-resistant peeling (FRAUDAR)")
def dense_block(ctx: Context) -> None:
    e = ctx.engine
    c, rounds = float(ctx.p("log_c")), int(ctx.p("blocks"))
    min_rows, min_cols, min_lift = int(ctx.p("min_rows")), int(ctx.p("min_cols")), float(ctx.p("min_lift"))
    max_n, alpha = int(ctx.p("max_column_rows")), float(ctx.p("candidate_pvalue"))
    expl = explained_sql(list(ctx.p("explained_diagnoses"))) if ctx.has("claims", "diagnosis_code") \
        else "false"
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_c AS
        SELECT claim_id, person_id, provider_id, service_date AS day, fund_paid
        FROM claims_eff WHERE visit_type <> 'inpatient' AND NOT {expl}""")
    e.execute("CREATE OR REPLACE TEMP TABLE _db_pmap AS SELECT person_id, "
              "CAST(row_number() OVER (ORDER BY person_id) AS INTEGER) AS pid "
              "FROM (SELECT DISTINCT person_id FROM _db_c)")
    # columns of both graphs, with their degree n in the whole graph and their strength s (the
    # weight of their edges: 1 / log(n + c) each, times the visit days in the provider graph)
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_col AS
        WITH d AS (SELECT provider_id, day, count(DISTINCT person_id) AS n FROM _db_c GROUP BY ALL),
             p AS (SELECT provider_id, count(DISTINCT person_id) AS n FROM _db_c GROUP BY ALL)
        SELECT *, CAST(row_number() OVER (ORDER BY graph, provider_id, day) AS INTEGER) AS cid,
               person_days / ln(n + {c}) AS s
        FROM (SELECT 'day' AS graph, provider_id, day, n, n AS person_days FROM d
              UNION ALL
              SELECT 'provider', p.provider_id, NULL, any_value(p.n), sum(d.n) FROM p JOIN d USING (provider_id)
              GROUP BY p.provider_id)""")
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_e AS
        SELECT DISTINCT m.pid, k.cid, k.n, 1 / ln(k.n + {c}) AS w
        FROM _db_c x JOIN _db_pmap m USING (person_id)
        JOIN _db_col k ON k.provider_id = x.provider_id AND k.graph = 'day' AND k.day = x.day""")
    _candidates(ctx, e, min_cols=min_cols, max_n=max_n, alpha=alpha)
    # the candidates' edges (provider graph: visit days), to columns holding three of them or more
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_ce AS
        SELECT 'day' AS graph, pid, cid, w FROM _db_e SEMI JOIN _db_cand USING (pid)
        UNION ALL
        SELECT 'provider', m.pid, k.cid, count(DISTINCT x.day) / ln(any_value(k.n) + {c})
        FROM _db_c x JOIN _db_pmap m USING (person_id) SEMI JOIN _db_cand USING (pid)
        JOIN _db_col k ON k.graph = 'provider' AND k.provider_id = x.provider_id
        GROUP BY m.pid, k.cid""")
    tab = e.arrow("""
        SELECT graph, pid, cid, w FROM _db_ce
        SEMI JOIN (SELECT cid FROM _db_ce GROUP BY cid HAVING count(*) >= 3) USING (cid)
        ORDER BY graph, pid, cid""")
    blocks: list[dict[str, object]] = []
    n_blocks = 0
    for graph in ("day", "provider"):
        sel = np.asarray(tab.column("graph").to_pylist()) == graph if tab.num_rows else np.zeros(0, bool)
        pid = tab.column("pid").to_numpy()[sel]
        cid = tab.column("cid").to_numpy()[sel]
        w = tab.column("w").to_numpy()[sel]
        if len(pid) == 0:
            continue
        r_ids, r = np.unique(pid, return_inverse=True)
        c_ids, k = np.unique(cid, return_inverse=True)
        for edges, rows in peel_blocks(r, k, w, rounds=rounds, min_rows=min_rows):
            cols = np.unique(k[edges])
            if len(rows) >= min_rows and len(cols) >= min_cols:
                f = float(w[edges].sum())
                blocks += [{"b": n_blocks, "graph": graph, "kind": kind, "node": int(x), "f": f}
                           for kind, ids in (("row", r_ids[rows]), ("col", c_ids[cols])) for x in ids]
                n_blocks += 1
    e.load_arrow("_db_blk", pa.Table.from_pylist(
        blocks,
        schema=pa.schema([("b", pa.int32()), ("graph", pa.string()), ("kind", pa.string()),
                          ("node", pa.int32()), ("f", pa.float64())])).to_reader())
    _emit(ctx, e, c=c, min_lift=min_lift, min_rows=min_rows, min_cols=min_cols)
    for t in ("_db_c", "_db_pmap", "_db_col", "_db_e", "_db_ce", "_db_pairs", "_db_pv", "_db_chance",
              "_db_cand", "_db_blk", "_db_cell", "_db_bc", "_db_stat", "_db_sig", "_db_ok"):
        e.execute(f"DROP TABLE IF EXISTS {t}")


def _candidates(ctx: Context, e: Engine, *, min_cols: int, max_n: int, alpha: float) -> None:
    """Rows worth peeling: a partner shared ``min_cols`` small provider-days, improbably."""
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_pairs AS
        WITH s AS (SELECT pid, cid FROM _db_e WHERE n BETWEEN 2 AND {max_n})
        SELECT a.pid AS a, b.pid AS b, count(*) AS k FROM s a JOIN s b ON a.cid = b.cid AND a.pid < b.pid
        GROUP BY a.pid, b.pid HAVING count(*) >= {min_cols}""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _db_pv AS
        WITH open AS (SELECT provider_id, count(*) AS open_days FROM _db_col WHERE graph = 'day'
                      GROUP BY ALL)
        SELECT m.pid, x.provider_id AS prv, count(DISTINCT x.day) AS days,
               any_value(o.open_days) AS open_days
        FROM _db_c x JOIN _db_pmap m USING (person_id) JOIN open o USING (provider_id)
        WHERE m.pid IN (SELECT a FROM _db_pairs UNION SELECT b FROM _db_pairs)
        GROUP BY ALL""")
    chance_of_meetings(e, pairs="_db_pairs", visits="_db_pv", out="_db_chance")
    home, people = "false", ""
    if ctx.has("persons", "address"):
        home = "trim(pa.address) = trim(pb.address) AND trim(pa.address) <> ''"
        people = ("JOIN _db_pmap ma ON ma.pid = t.a JOIN _db_pmap mb ON mb.pid = t.b "
                  "LEFT JOIN canon_persons pa ON pa.person_id = ma.person_id "
                  "LEFT JOIN canon_persons pb ON pb.person_id = mb.person_id")
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_cand AS
        WITH ok AS (SELECT t.a, t.b FROM _db_chance t {people}
                    WHERE t.log10p <= {np.log10(alpha)} AND NOT coalesce({home}, false))
        SELECT a AS pid FROM ok UNION SELECT b FROM ok""")


def _emit(ctx: Context, e: Engine, *, c: float, min_lift: float, min_rows: int, min_cols: int
          ) -> int:
    """Lift, meetings, legitimacy checks and evidence of the peeled blocks."""
    share, min_prov = float(ctx.p("min_provider_share")), int(ctx.p("min_providers"))
    col_share = float(ctx.p("min_column_share"))
    # whole-graph strengths: F (total), F_rows, F_cols; the graph's density f(V) / |V|
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_stat AS
        WITH blk AS (SELECT b, any_value(graph) AS graph, max(f) AS f,
                            count(*) FILTER (WHERE kind = 'row') AS n_rows,
                            count(*) FILTER (WHERE kind = 'col') AS n_cols FROM _db_blk GROUP BY b),
             rows AS (SELECT DISTINCT graph, node AS pid FROM _db_blk WHERE kind = 'row'),
             rs AS (SELECT 'day' AS graph, pid, sum(w) AS s FROM _db_e
                    WHERE pid IN (SELECT pid FROM rows WHERE graph = 'day') GROUP BY pid
                    UNION ALL
                    SELECT 'provider', x.pid, sum(x.days / ln(k.n + {c}))
                    FROM (SELECT m.pid, x.provider_id, count(DISTINCT x.day) AS days FROM _db_c x
                          JOIN _db_pmap m USING (person_id)
                          WHERE m.pid IN (SELECT pid FROM rows WHERE graph = 'provider') GROUP BY ALL) x
                    JOIN _db_col k ON k.graph = 'provider' AND k.provider_id = x.provider_id
                    GROUP BY x.pid),
             tot AS (SELECT graph, sum(s) AS f, count(*) AS cols FROM _db_col GROUP BY graph),
             persons AS (SELECT count(*) AS n FROM _db_pmap),
             fr AS (SELECT k.b, sum(rs.s) AS s FROM _db_blk k JOIN rs ON rs.graph = k.graph
                    AND rs.pid = k.node WHERE k.kind = 'row' GROUP BY k.b),
             fc AS (SELECT k.b, sum(c.s) AS s FROM _db_blk k JOIN _db_col c ON c.cid = k.node
                    WHERE k.kind = 'col' GROUP BY k.b)
        SELECT blk.*, blk.f / (fr.s * fc.s / tot.f) AS lift, blk.f / (blk.n_rows + blk.n_cols) AS density,
               tot.f / (persons.n + tot.cols) AS graph_density
        FROM blk JOIN fr USING (b) JOIN fc USING (b) JOIN tot USING (graph), persons
        WHERE blk.f / (fr.s * fc.s / tot.f) >= {min_lift}""")
    # meetings: provider-days where a fair part of the block's persons were together (the
    # block's own columns, or its providers' days); members: persons at two meetings or more
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_cell AS
        WITH r AS (SELECT b, node AS pid FROM _db_blk WHERE kind = 'row'),
             k AS (SELECT b, node AS cid FROM _db_blk WHERE kind = 'col' AND graph = 'day'
                   UNION ALL
                   SELECT k.b, d.cid FROM _db_blk k JOIN _db_col p ON p.cid = k.node
                   JOIN _db_col d ON d.graph = 'day' AND d.provider_id = p.provider_id
                   WHERE k.kind = 'col' AND k.graph = 'provider'),
             cell AS (SELECT r.b, r.pid, k.cid FROM r JOIN k USING (b) JOIN _db_e e
                      ON e.pid = r.pid AND e.cid = k.cid),
             meet AS (SELECT cell.b, cell.cid FROM cell JOIN _db_stat s USING (b) GROUP BY ALL
                      HAVING count(*) >= greatest(3, {col_share} * any_value(s.n_rows)))
        SELECT * FROM cell SEMI JOIN meet USING (b, cid)
        SEMI JOIN (SELECT b, pid FROM cell SEMI JOIN meet USING (b, cid) GROUP BY ALL
                   HAVING count(*) >= 2) USING (b, pid)""")
    e.execute("""
        CREATE OR REPLACE TEMP TABLE _db_bc AS
        WITH cl AS (SELECT DISTINCT x.b, m.person_id, c.provider_id, c.day
                    FROM _db_cell x JOIN _db_pmap m USING (pid) JOIN _db_col c USING (cid))
        SELECT cl.b, x.* FROM cl JOIN _db_c x USING (person_id, provider_id, day)""")
    # how improbable the meetings are if each member visited each provider on random open days
    # at their own rate (the peel chose the densest of very many blocks: the bar is low)
    cells = """
        WITH mem AS (SELECT DISTINCT b, pid FROM _db_cell),
             mc AS (SELECT x.b, c.provider_id, count(DISTINCT x.cid) AS cols FROM _db_cell x
                    JOIN _db_col c USING (cid) GROUP BY ALL),
             pv AS (SELECT m.pid, x.provider_id, count(DISTINCT x.day) AS days FROM _db_c x
                    JOIN _db_pmap m USING (person_id)
                    WHERE m.pid IN (SELECT pid FROM mem) GROUP BY ALL),
             op AS (SELECT provider_id, count(*) AS open_days FROM _db_col WHERE graph = 'day'
                    GROUP BY ALL),
             lam AS (SELECT mc.b, sum(mc.cols * pv.days / op.open_days) AS lam
                     FROM mc JOIN mem USING (b) JOIN pv ON pv.pid = mem.pid
                     AND pv.provider_id = mc.provider_id JOIN op ON op.provider_id = mc.provider_id
                     GROUP BY mc.b)
        SELECT b, k, lam FROM (SELECT b, count(*) AS k FROM _db_cell GROUP BY b) JOIN lam USING (b)"""
    e.execute(f"CREATE OR REPLACE TEMP TABLE _db_sig AS {poisson_tail_sql(cells, 'b')}")
    e.execute(f"""
        CREATE OR REPLACE TEMP TABLE _db_ok AS
        WITH pv AS (SELECT x.b, c.provider_id, count(DISTINCT x.cid) AS cols FROM _db_cell x
                    JOIN _db_col c USING (cid) GROUP BY ALL),
             spread AS (SELECT b, sum(cols) AS meetings, count(*) AS all_providers,
                               count(*) FILTER (WHERE cols >= {share} * tc) AS providers
                        FROM (SELECT *, sum(cols) OVER (PARTITION BY b) AS tc FROM pv) GROUP BY b),
             cl AS (SELECT b, count(*) AS claims, sum(fund_paid) AS fund, min(day) AS first_day,
                           max(day) AS last_day, min(person_id) AS first_person,
                           count(DISTINCT person_id) AS persons FROM _db_bc GROUP BY b)
        SELECT base || CASE WHEN count(*) OVER (PARTITION BY base) = 1 THEN ''
                            ELSE ':' || row_number() OVER (PARTITION BY base ORDER BY claims DESC, f DESC, b)
                       END AS group_id, *
        FROM (SELECT 'dense_block:' || s.graph || ':' || cl.first_person || ':' ||
                       strftime(cl.first_day, '%Y-%m-%d') AS base, s.*, spread.meetings,
                     spread.all_providers, cl.persons, cl.claims, cl.fund, cl.first_day, cl.last_day,
                     sig.k AS cells, sig.lam AS expected_cells, sig.log10p
              FROM _db_stat s JOIN spread USING (b) JOIN cl USING (b) JOIN _db_sig sig USING (b)
              WHERE cl.persons >= {min_rows} AND spread.meetings >= {min_cols}
                AND sig.log10p <= {np.log10(float(ctx.p("max_block_pvalue")))}
                AND spread.providers >= {min_prov})""")
    return ctx.emit(
        """
        SELECT group_id, (1 - exp(-f / 10)) * least(1, ln(lift) / ln(100)) AS strength,
               persons || ' 人' || CASE graph WHEN 'day' THEN '' ELSE '共同使用 ' || n_cols || ' 家机构，' END ||
                 '在 ' || meetings || ' 个机构就诊日同时就诊' ||
                 '，构成稠密块（FRAUDAR），权重为随机期望的 ' || round(lift, 1) || ' 倍，涉及 ' ||
                 all_providers || ' 家机构（' || strftime(first_day, '%Y-%m-%d') || ' 至 ' ||
                 strftime(last_day, '%Y-%m-%d') || '）；结算 ' || claims || ' 笔，统筹基金支付 ' ||
                 round(fund, 2) || ' 元' AS summary_zh,
               persons || ' persons ' || CASE graph WHEN 'day' THEN ''
                                         ELSE 'share ' || n_cols || ' providers and ' END ||
                 'met on ' || meetings || ' provider-days' ||
                 ', a dense block (FRAUDAR) holding ' || round(lift, 1) ||
                 ' times the weight expected by chance, at ' || all_providers || ' providers (' ||
                 strftime(first_day, '%Y-%m-%d') || ' to ' || strftime(last_day, '%Y-%m-%d') ||
                 '); ' || claims || ' claims, fund paid ' || round(fund, 2) || ' yuan' AS summary_en,
               json_object('graph', graph, 'persons', persons, 'columns', n_cols, 'meetings', meetings,
                           'providers', all_providers, 'weight', round(f, 3),
                           'density', round(density, 3), 'graph_density', round(graph_density, 3),
                           'lift', round(lift, 2), 'claims', claims, 'fund_paid', round(fund, 2),
                           'together', cells, 'together_by_chance', round(expected_cells, 2),
                           'log10_chance', round(log10p, 1),
                           'first_day', first_day, 'last_day', last_day) AS stats
        FROM _db_ok
        """,
        """
        SELECT o.group_id, 'person' AS kind, m.person_id AS id, NULL AS role,
               count(*) / any_value(o.meetings) AS weight
        FROM _db_cell x JOIN _db_ok o USING (b) JOIN _db_pmap m USING (pid) GROUP BY o.group_id, m.person_id
        UNION ALL
        SELECT o.group_id, 'provider', x.provider_id, NULL,
               count(*) / sum(count(*)) OVER (PARTITION BY o.group_id)
        FROM _db_bc x JOIN _db_ok o USING (b) GROUP BY o.group_id, x.provider_id
        """,
        "SELECT o.group_id, x.claim_id FROM _db_bc x JOIN _db_ok o USING (b)",
    )
