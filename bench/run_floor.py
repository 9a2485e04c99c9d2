"""The floor (variant (b) of bench_scale.py): graphfraud's SQL straight in DuckDB, one Leiden call.

What the detection costs with nothing around it: the input files read by DuckDB's own
``read_csv``/``read_parquet`` straight into ``canon_<table>`` with the canonical names and types
(``TRY_CAST``; no validation, no quarantine, no Parquet copy, duplicates and malformed rows kept),
the same detectors (:func:`graphfraud.detectors.run_detectors`) on a
:class:`graphfraud.engine.DuckDBEngine` with graphfraud's threads and memory limit, then one
igraph ``community_leiden`` call on the entity-evidence graph built from ``ev_members``
(nodes: entities and evidence groups; edges: membership, weighted by the group's strength and
the member's share, as in :mod:`graphfraud.rings`, without the hub weighting). No scores, no
roles, no outputs. Stages: load, detect, leiden.

The input is the synthetic data's (canonical headers and values). Of the columns the loader
adds, no detector needs ``source_row`` or ``visit_type_raw``; ``emergency`` and ``transfer``
(optional, used by the admission detectors) are supplied from the visit type, as the loader
derives them.

    python bench/run_floor.py SRC WORK --marks FILE --result FILE
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scalekit import StageMarks, child_parser, write_result  # noqa: E402

if TYPE_CHECKING:
    from graphfraud.loaders.schema import TableSpec


def main() -> None:
    parser = child_parser(__doc__)
    parser.add_argument("src", type=Path)
    parser.add_argument("work", type=Path, help="folder for DuckDB's spill files")
    args = parser.parse_args()

    import igraph as ig

    from graphfraud.detectors import available_columns, load_config, run_detectors
    from graphfraud.engine import DuckDBEngine, quote_literal
    from graphfraud.loaders.schema import TABLES

    marks = StageMarks(args.marks)
    marks.stage("load")
    spill = args.work / ".spill"
    engine = DuckDBEngine(temp_dir=spill)  # graphfraud's threads and memory limit
    loaded = []
    for name, spec in TABLES.items():
        path = next((f for f in (args.src / f"{name}.csv", args.src / f"{name}.parquet")
                     if f.exists()), None)
        if path is None:
            continue
        source = (f"read_parquet({quote_literal(str(path))})" if path.suffix == ".parquet" else
                  f"read_csv({quote_literal(str(path))}, header = true, all_varchar = true, "
                  "ignore_errors = true)")
        described = engine.arrow(f"DESCRIBE SELECT * FROM {source}").to_pylist()
        present = {r["column_name"] for r in described}
        engine.execute(f"CREATE TABLE canon_{name} AS SELECT {_columns(spec, present)} FROM {source}")
        loaded.append(name)

    marks.stage("detect")
    available = available_columns(engine, loaded)
    report = run_detectors(engine, available, load_config(None), seed=0)

    marks.stage("leiden")
    edges = engine.arrow("""
        WITH m AS (
          SELECT m.kind, m.id, m.pattern, m.group_id,
                 greatest(coalesce(g.strength, 0), 0.05) * (0.5 + 0.5 * coalesce(m.weight, 1)) AS w
          FROM ev_members m JOIN ev_groups g USING (pattern, group_id)),
        ents AS (SELECT kind, id, row_number() OVER (ORDER BY kind, id) - 1 AS node
                 FROM (SELECT DISTINCT kind, id FROM m)),
        grps AS (SELECT pattern, group_id, (SELECT count(*) FROM ents)
                        + row_number() OVER (ORDER BY pattern, group_id) - 1 AS node
                 FROM (SELECT DISTINCT pattern, group_id FROM m))
        SELECT e.node AS a, g.node AS b, m.w FROM m JOIN ents e USING (kind, id)
        JOIN grps g USING (pattern, group_id)""")
    a, b = edges.column("a").to_pylist(), edges.column("b").to_pylist()
    n = max(a + b, default=-1) + 1
    graph = ig.Graph(n=n, edges=list(zip(a, b)), directed=False)
    random.seed(0)  # igraph draws from Python's random
    communities = graph.community_leiden(objective_function="modularity",
                                         weights=edges.column("w").to_pylist(), n_iterations=-1)
    marks.end()

    engine.close()
    shutil.rmtree(spill, ignore_errors=True)
    write_result(args.result, {
        "tables": loaded,
        "evidence_groups": sum(d["groups"] for d in report["run"]),
        "detectors": {d["detector"]: d["seconds"] for d in report["run"]},
        "graph_nodes": n, "graph_edges": len(a), "communities": len(communities),
    })


def _columns(spec: TableSpec, present: set[str]) -> str:
    """The canonical columns of a table, cast from the file's (NULL where it has none)."""
    from graphfraud.engine import quote_ident as qi
    from graphfraud.loaders.validate import CANONICAL_TYPES

    # the loader's derived claims columns, from the visit type as it derives them
    emergency = "regexp_matches(coalesce(visit_type, ''), '急诊|emergency')"
    transfer = "regexp_matches(coalesce(visit_type, ''), '转院|转外|转诊|transfer')"
    out = []
    for c in spec.columns:
        sql_type = CANONICAL_TYPES[c.type]
        if c.name not in present:
            out.append(f"CAST(NULL AS {sql_type}) AS {qi(c.name)}")
        elif spec.name == "claims" and c.name == "visit_type":
            out.append(f"CASE WHEN {emergency} THEN 'outpatient' ELSE visit_type END AS visit_type")
        else:
            out.append(f"TRY_CAST({qi(c.name)} AS {sql_type}) AS {qi(c.name)}")
    if spec.name == "claims":
        out += [f"{emergency} AS emergency", f"{transfer} AS transfer"]
    return ", ".join(out)


if __name__ == "__main__":
    main()
