"""``analyze``: the whole analysis of one claims export, written as the contract's §2 folder.

Stages: load (loaders → canonical tables in the engine) → detect (the detector registry) →
rings → outputs. Each stage's wall time goes into ``manifest.json``.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphfraud import __version__
from graphfraud.engine import DuckDBEngine, default_memory_limit
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


def analyze(input_path: str | Path, out: str | Path, *, mapping: str | Path | None = None,
            encoding: str | None = None, seed: int = 0, force: bool = False) -> AnalysisResult:
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
    seed
        Seed of every randomised step, recorded in the manifest.

    Returns
    -------
    AnalysisResult
    """
    out = Path(out)
    timings: dict[str, float] = {}
    parameters = {
        "input": str(input_path), "mapping": str(mapping) if mapping else None,
        "encoding": encoding, "seed": seed, "engine": "duckdb",
        "memory_limit": default_memory_limit(),
    }
    with atomic_folder(out, force=force) as work:
        engine = DuckDBEngine(temp_dir=work / ".spill")  # in memory, spilling to disk
        try:
            t0 = time.perf_counter()
            loaded = load(input_path, work, engine=engine, encoding=encoding, mapping=mapping)
            timings["load"] = round(time.perf_counter() - t0, 3)
            rings: list[dict[str, Any]] = []
            totals = _claim_totals(engine)
        finally:
            engine.close()
        shutil.rmtree(work / ".spill", ignore_errors=True)
        write_json(work / "rings.json", {"contract": 1, "rings": rings})
        (work / "entities.csv").write_text("kind,id,score\n", encoding="utf-8")
        manifest = {
            "contract": 1,
            "graphfraud_version": __version__,
            "python": platform.python_version(),
            "parameters": parameters,
            **loaded.to_dict(),
            "claims_totals": totals,
            "detectors": {"run": [], "skipped": [],
                          "note": "no detector is registered in this version"},
            "timings": timings,
        }
        write_json(work / "manifest.json", manifest)
    return AnalysisResult(out, loaded, rings, timings)


def _claim_totals(engine: DuckDBEngine) -> dict[str, Any]:
    """Fund totals of the accepted claims: gross, reversals, net (they must add up)."""
    row = engine.arrow(
        "SELECT count(*) AS claims, count(*) FILTER (WHERE total_amount < 0) AS reversals, "
        "CAST(coalesce(sum(fund_paid) FILTER (WHERE fund_paid >= 0), 0) AS VARCHAR) AS fund_paid_gross, "
        "CAST(coalesce(sum(fund_paid) FILTER (WHERE fund_paid < 0), 0) AS VARCHAR) AS fund_paid_reversed, "
        "CAST(coalesce(sum(fund_paid), 0) AS VARCHAR) AS fund_paid_net, "
        "CAST(min(settled_at) AS VARCHAR) AS first_settlement, "
        "CAST(max(settled_at) AS VARCHAR) AS last_settlement FROM canon_claims").to_pylist()[0]
    return json.loads(json.dumps(row))
