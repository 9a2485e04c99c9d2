"""Reading an analysis folder back: rings, one ring, its claims and its entities' details.

Everything after ``analyze`` (the ``rings`` and ``show`` commands, views, packets, the case
register, exports) reads the folder through :func:`open_analysis`, never by its own paths.

Examples
--------
>>> a = open_analysis("graphfraud-demo/analysis")          # doctest: +SKIP
>>> ring = a.ring("1")            # by rank (1 = riskiest) or by ring id   # doctest: +SKIP
>>> a.claims(ring)                # its evidence claims, a pyarrow Table   # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa

from graphfraud.errors import InputError

__all__ = ["Analysis", "open_analysis", "ring_claim_ids", "ring_detail", "select_rings"]

#: entity kind -> (table, id column) holding its details in ``data/``
_DETAIL_TABLES = {"person": ("persons", "person_id"), "provider": ("providers", "provider_id"),
                  "doctor": ("doctors", "doctor_id"), "staff": ("staff", "staff_id")}


def ring_claim_ids(ring: dict[str, Any]) -> list[str]:
    """The ring's evidence claim ids, each once, sorted."""
    return sorted({c for ev in ring.get("evidence", []) for c in ev.get("claim_ids", [])})


@dataclass
class Analysis:
    """An analysis folder written by ``graphfraud analyze`` (data contract §2)."""

    path: Path
    manifest: dict[str, Any]
    rings: list[dict[str, Any]]

    def ring(self, ref: str | int) -> dict[str, Any]:
        """A ring by id (``R-3f9a1c2e``) or by rank (``1`` = the riskiest)."""
        text = str(ref).strip()
        if text.isdigit():
            k = int(text)
            if not 1 <= k <= len(self.rings):
                raise InputError(f"{self.path}: there are {len(self.rings)} rings; rank {k} is out "
                                 f"of range (see: graphfraud rings {self.path})")
            return self.rings[k - 1]
        for r in self.rings:
            if r["ring_id"] == text:
                return r
        raise InputError(f"{self.path}: no ring {text!r} (list them with: graphfraud rings "
                         f"{self.path})")

    def rank(self, ring: dict[str, Any]) -> int:
        """1-based rank of a ring (riskiest first)."""
        return next(i for i, r in enumerate(self.rings, 1) if r["ring_id"] == ring["ring_id"])

    def table(self, name: str, columns: list[str] | None = None,
              filter_ids: tuple[str, list[str]] | None = None) -> pa.Table | None:
        """A canonical table from ``data/``, or None when the input did not have it.
        ``filter_ids=(column, ids)`` keeps the rows whose column is among ids."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        path = self.path / "data" / f"{name}.parquet"
        if not path.exists():
            return None
        filters = None
        if filter_ids is not None:
            col, ids = filter_ids
            if not ids:
                return pq.read_table(path, columns=columns).slice(0, 0)
            filters = pc.field(col).isin(pa.array(sorted(set(ids)), pa.string()))
        return pq.read_table(path, columns=columns, filters=filters)

    def claims(self, ring: dict[str, Any]) -> pa.Table:
        """The ring's evidence claims (canonical columns), ordered by settlement time."""
        ids = ring_claim_ids(ring)
        t = self.table("claims", filter_ids=("claim_id", ids))
        if t is None:
            raise InputError(f"{self.path}: data/claims.parquet is missing; re-run graphfraud analyze")
        return t.sort_by([("settled_at", "ascending"), ("claim_id", "ascending")])

    def details(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Rows of the entity's table (persons, providers, doctors, staff) by id; empty when the
        input had no such table."""
        if kind not in _DETAIL_TABLES:
            return {}
        table, col = _DETAIL_TABLES[kind]
        t = self.table(table, filter_ids=(col, ids))
        if t is None:
            return {}
        return {row[col]: row for row in t.to_pylist()}

    @cached_property
    def input_hashes(self) -> dict[str, str]:
        """SHA-256 of every input file (by file name), from the manifest."""
        return {f["file"]: f["sha256"] for f in self.manifest.get("inputs", [])
                if "file" in f and "sha256" in f}


def open_analysis(path: str | Path) -> Analysis:
    """Open an analysis folder; a clear error when it is not one."""
    path = Path(path)
    rings_path, manifest_path = path / "rings.json", path / "manifest.json"
    if not rings_path.is_file() or not manifest_path.is_file():
        raise InputError(f"{path}: not an analysis folder (no rings.json / manifest.json); "
                         f"make one with: graphfraud analyze INPUT --out {path}")
    try:
        rings = json.loads(rings_path.read_text(encoding="utf-8"))["rings"]
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, KeyError) as exc:
        raise InputError(f"{path}: rings.json or manifest.json is damaged ({exc}); "
                         f"re-run graphfraud analyze") from exc
    return Analysis(path, manifest, rings)


def select_rings(analysis: Analysis, *, top: int | None = None, pattern: str | None = None,
                 min_score: float = 0.0) -> list[dict[str, Any]]:
    """Rings riskiest first, filtered by pattern and score, at most ``top``; each as a short
    row: rank, ring_id, score, patterns, persons, members, claims, fund_paid, period."""
    out = []
    for rank, r in enumerate(analysis.rings, 1):
        if r["score"] < min_score or (pattern and pattern not in r["patterns"]):
            continue
        out.append({"rank": rank, "ring_id": r["ring_id"], "score": r["score"],
                    "patterns": r["patterns"],
                    "persons": sum(1 for m in r["members"] if m["kind"] == "person"),
                    "members": len(r["members"]), "claims": r["claims"],
                    "fund_paid": r["fund_paid"], "period": r.get("period")})
        if top is not None and len(out) >= top:
            break
    return out


def ring_detail(analysis: Analysis, ring: dict[str, Any]) -> dict[str, Any]:
    """One ring for reading: the ring as in rings.json (claim ids left out of the evidence,
    counted instead), members with names, per-member claims and fund, and a monthly timeline
    of its evidence claims (claims, fund paid)."""
    import pyarrow.compute as pc

    claims = analysis.claims(ring)
    names: dict[tuple[str, str], Any] = {}
    for kind in ("person", "provider", "doctor", "staff"):
        ids = [m["id"] for m in ring["members"] if m["kind"] == kind]
        for k, row in analysis.details(kind, ids).items():
            names[(kind, k)] = row.get("name")
    per: dict[tuple[str, str], list[float]] = {}
    cols = {k: c for k, c in (("person", "person_id"), ("card", "card_id"),
                              ("provider", "provider_id"), ("doctor", "doctor_id"),
                              ("staff", "staff_id")) if c in claims.column_names}
    fund = [float(x) if x is not None else 0.0 for x in claims.column("fund_paid").to_pylist()]
    for kind, col in cols.items():
        for value, f in zip(claims.column(col).to_pylist(), fund):
            if value is not None:
                acc = per.setdefault((kind, value), [0, 0.0])
                acc[0] += 1
                acc[1] += f
    members = []
    for m in ring["members"]:
        n, f = per.get((m["kind"], m["id"]), [0, 0.0])
        members.append({**m, "name": names.get((m["kind"], m["id"])), "claims": int(n),
                        "fund_paid": round(f, 2)})
    months: dict[str, list[float]] = {}
    month = pc.strftime(claims.column("settled_at"), format="%Y-%m").to_pylist()
    for mo, f in zip(month, fund):
        if mo is None:
            continue
        acc = months.setdefault(mo, [0, 0.0])
        acc[0] += 1
        acc[1] += f
    evidence = [{k: v for k, v in ev.items() if k != "claim_ids"} | {"claims": len(ev["claim_ids"])}
                for ev in ring["evidence"]]
    return {**{k: v for k, v in ring.items() if k not in ("members", "evidence")},
            "rank": analysis.rank(ring), "members": members, "evidence": evidence,
            "timeline": [{"month": k, "claims": int(v[0]), "fund_paid": round(v[1], 2)}
                         for k, v in sorted(months.items())]}
