"""``analyze``: the whole analysis of one claims export, written as the contract's §2 folder.

Stages: load (loaders → canonical tables in the engine) → detect (the detector registry,
evidence in the engine) → rings (evidence graph, seeded Leiden, scores, roles, amounts) →
known cases (personalized PageRank from confirmed entities) → outputs. Each stage's wall time
goes into ``manifest.json``, with every parameter in force, the seed, the version and the
input hashes.
"""

from __future__ import annotations

import csv
import json
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

from graphfraud import __version__
from graphfraud.engine import Engine, default_memory_limit, open_engine
from graphfraud.loaders import LoadResult, load
from graphfraud.outdir import atomic_folder, write_json

__all__ = ["analyze", "AnalysisResult"]


@dataclass
class AnalysisResult:
    """Where the analysis folder is and what it holds."""

    out: Path
    load: LoadResult
    rings: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    detectors: dict[str, Any] = field(default_factory=dict)


def analyze(input_path: str | Path, out: str | Path, *, mapping: str | Path | None = None,
            encoding: str | None = None, config: str | Path | None = None,
            known: str | Path | None = None, seed: int = 0,
            force: bool = False, engine: str = "duckdb",
            progress: Callable[[str, int, int], None] | None = None) -> AnalysisResult:
    """Analyze a claims folder or file and write the analysis folder ``out``.

    Parameters
    ----------
    input_path
        Claims folder or single claims file (data contract §1).
    out
        The analysis folder to create (contract §2). Built under a temporary name and renamed
        at the end; an existing folder is replaced only with ``force``.
    mapping, encoding
        See :func:`graphfraud.loaders.load`.
    config
        YAML file overriding detector and ring parameters (defaults: ``detectors.yaml``).
    known
        CSV ``kind,id`` of entities confirmed as fraudulent: entities are ranked by their
        closeness to them.
    seed
        Seed of every randomised step (Leiden), recorded in the manifest.
    engine
        ``duckdb`` (embedded, the default) or ``spark`` (the detectors' SQL on Spark; the
        loaders still read and check the export with DuckDB and hand Spark the canonical
        Parquet). Both give the same evidence and the same ``rings.json``.
    progress
        Called as ``progress(stage, done, total)`` when a stage starts (loading, each
        detector, rings, writing), for progress bars.
    """
    from graphfraud.detectors import available_columns, load_config, run_detectors
    from graphfraud.known import known_proximity, read_known
    from graphfraud.rings import build_rings, entity_scores

    out = Path(out)
    settings = load_config(config)
    settings["rings"]["seed"] = seed
    known_entities = read_known(known) if known else None
    timings: dict[str, float] = {}
    parameters = {
        "input": str(input_path), "mapping": str(mapping) if mapping else None,
        "encoding": encoding, "config": str(config) if config else None,
        "known": str(known) if known else None, "seed": seed, "engine": engine,
        "memory_limit": default_memory_limit(), "detectors": settings,
    }

    def stage(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 3)

    from graphfraud.detectors import describe

    n_detectors = len(describe())
    total, done = n_detectors + 3, [0]

    def step(name: str) -> None:
        if progress is not None:
            progress(name, done[0], total)
        done[0] += 1

    with atomic_folder(out, force=force) as work:
        step("load")
        t0 = time.perf_counter()
        db = open_engine("duckdb", work)  # in memory, spilling to disk
        sql: Engine = db
        try:
            loaded = load(input_path, work, engine=db, encoding=encoding, mapping=mapping)
            if engine != "duckdb":  # the loaders' canonical Parquet is the other engine's input
                db.close()
                sql = open_engine(engine, work)
                for table in loaded.tables:
                    sql.register_parquet(f"canon_{table}", work / "data" / f"{table}.parquet")  # type: ignore[attr-defined]
            stage("load", t0)
            t0 = time.perf_counter()
            available = available_columns(sql, list(loaded.tables))
            report = run_detectors(sql, available, settings, seed=seed,
                                   progress=lambda name: step(f"detect: {name}"))
            done[0] = n_detectors + 1  # skipped detectors count as done
            stage("detect", t0)
            step("rings")
            t0 = time.perf_counter()
            rings = build_rings(sql, settings["rings"], seed=seed)
            entities = entity_scores(sql, rings)
            stage("rings", t0)
            proximity: dict[tuple[str, str], float] = {}
            if known_entities is not None:
                t0 = time.perf_counter()
                proximity = known_proximity(sql, known_entities)
                stage("known", t0)
            totals = _claim_totals(sql)
            _write_evidence(sql, work / "evidence")
        finally:
            db.close()
            if sql is not db:
                sql.close()
        shutil.rmtree(work / ".spill", ignore_errors=True)
        step("write")
        ring_json = [r.to_json() for r in rings]
        if known_entities is not None:
            _attach_proximity(ring_json, entities, proximity)
        write_json(work / "rings.json", {"contract": 1, "rings": ring_json})
        _write_entities(work / "entities.csv", entities, known_entities is not None)
        manifest = {
            "contract": 1,
            "graphfraud_version": __version__,
            "python": platform.python_version(),
            "parameters": parameters,
            **loaded.to_dict(),
            "claims_totals": totals,
            "detectors": report,
            "rings": {"count": len(rings), "method": "seeded Leiden (leidenalg, RB configuration "
                      "/ modularity) on the entity-evidence graph", "seed": seed},
            "timings": timings,
        }
        write_json(work / "manifest.json", manifest)
    return AnalysisResult(out, loaded, ring_json, timings, report)


def _attach_proximity(rings: list[dict[str, Any]], entities: list[dict[str, Any]],
                      proximity: dict[tuple[str, str], float], *, top: int = 2000) -> None:
    """Add closeness to known cases: on every entity and ring, and the closest entities that
    no detector named join ``entities.csv``. The score combines both:
    1 - (1 - evidence score) * (1 - 0.8 * proximity)."""
    listed = {(e["kind"], e["id"]) for e in entities}
    closest = sorted(((v, k) for k, v in proximity.items() if k not in listed and v > 0),
                     key=lambda x: (-x[0], x[1]))[:top]
    entities.extend({"kind": k[0], "id": k[1], "score": 0.0, "ring_id": "", "role": ""}
                    for _, k in closest)
    for e in entities:
        p = proximity.get((e["kind"], e["id"]), 0.0)
        e["known_proximity"] = round(p, 6)
        e["score"] = round(1 - (1 - e["score"]) * (1 - 0.8 * p), 4)
    entities.sort(key=lambda e: (-e["score"], -e["known_proximity"], e["kind"], e["id"]))
    for r in rings:
        values = [proximity.get((m["kind"], m["id"]), 0.0) for m in r["members"]]
        r["known_proximity"] = round(max(values, default=0.0), 6)


def _write_entities(path: Path, entities: list[dict[str, Any]], with_known: bool) -> None:
    columns = ["kind", "id", "score", "ring_id", "role"] + (["known_proximity"] if with_known else [])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(entities)


#: the columns of ``evidence/<name>.parquet``
EVIDENCE_SCHEMAS = {
    "groups": pa.schema([("pattern", pa.string()), ("group_id", pa.string()),
                         ("strength", pa.float64()), ("summary_zh", pa.string()),
                         ("summary_en", pa.string()), ("stats", pa.string())]),
    "members": pa.schema([("pattern", pa.string()), ("group_id", pa.string()),
                          ("kind", pa.string()), ("id", pa.string()), ("role", pa.string()),
                          ("weight", pa.float64())]),
    "claims": pa.schema([("pattern", pa.string()), ("group_id", pa.string()),
                         ("claim_id", pa.string())]),
}


def _write_evidence(engine: Engine, folder: Path) -> None:
    """The detectors' evidence (the motif tables) as Parquet, in a fixed order: one row per
    group, per group member and per claim behind a group."""
    folder.mkdir()
    for name, columns in EVIDENCE_SCHEMAS.items():
        table = engine.arrow(f"SELECT * FROM ev_{name} ORDER BY {', '.join(columns.names)}")
        table = table.rename_columns(columns.names).cast(columns)
        if name == "groups":  # the same facts in the same JSON text, whichever engine wrote it
            stats = [json.dumps(json.loads(s), ensure_ascii=False) if s else s
                     for s in table.column("stats").to_pylist()]
            table = table.set_column(5, "stats", pa.array(stats, pa.string()))
        pq.write_table(table, folder / f"{name}.parquet", compression="zstd")


def _claim_totals(engine: Engine) -> dict[str, Any]:
    """Fund totals of the accepted claims: gross, reversals, net (they must add up)."""
    row = engine.arrow(
        "SELECT count(*) AS claims, count(*) FILTER (WHERE total_amount < 0) AS reversals, "
        "CAST(coalesce(sum(fund_paid) FILTER (WHERE fund_paid >= 0), 0) AS VARCHAR) AS fund_paid_gross, "
        "CAST(coalesce(sum(fund_paid) FILTER (WHERE fund_paid < 0), 0) AS VARCHAR) AS fund_paid_reversed, "
        "CAST(coalesce(sum(fund_paid), 0) AS VARCHAR) AS fund_paid_net, "
        "CAST(min(settled_at) AS VARCHAR) AS first_settlement, "
        "CAST(max(settled_at) AS VARCHAR) AS last_settlement FROM canon_claims").to_pylist()[0]
    return row
