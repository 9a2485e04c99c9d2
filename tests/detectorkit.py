"""Run one detector on small tables built in code: the side-by-side fixtures of each detector.

    ev = run_detector("card_burst", claims=[{...}, ...], persons=[...], config={"min_cards": 5})
    ev.groups      # [{group_id, strength, summary_zh, summary_en, stats}, ...]
    ev.members     # [{group_id, kind, id, role, weight}, ...]
    ev.persons()   # ids of every person in any group
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphfraud.detectors import available_columns, load_config, run_detectors
from graphfraud.engine import DuckDBEngine
from graphfraud.loaders import load

_ids = itertools.count(1)


def claim(person: str, provider: str, when: str | dt.datetime, *, visit_type: str | None = None,
          total: float = 100.0, fund: float | None = None, **extra: Any) -> dict[str, Any]:
    """One claim row with sensible defaults; ``when`` is 'YYYY-MM-DD[ HH:MM[:SS]]'."""
    when = when if isinstance(when, str) else when.strftime("%Y-%m-%d %H:%M:%S")
    vt = visit_type or ("pharmacy" if provider.startswith("P") else "outpatient")
    row = {"claim_id": extra.pop("claim_id", f"C{next(_ids):08d}"), "person_id": person,
           "provider_id": provider, "visit_type": vt, "settled_at": when,
           "total_amount": f"{total:.2f}", "fund_paid": f"{(fund if fund is not None else total * 0.6):.2f}"}
    row.update({k: v for k, v in extra.items() if v is not None})
    return row


@dataclass
class Evidence:
    groups: list[dict]
    members: list[dict]
    claims: list[dict]
    report: dict

    def ids(self, kind: str) -> set[str]:
        return {m["id"] for m in self.members if m["kind"] == kind}

    def persons(self) -> set[str]:
        return self.ids("person")

    def claim_ids(self) -> set[str]:
        return {c["claim_id"] for c in self.claims}


def _write(path: Path, rows: list[dict]) -> None:
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)


def run_detector(name: str | list[str], *, claims: list[dict], config: dict | None = None,
                 **tables: list[dict]) -> Evidence:
    """Load the tables through the real loaders, run the named detector(s), return evidence."""
    names = [name] if isinstance(name, str) else list(name)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        _write(src / "claims.csv", claims)
        for table, rows in tables.items():
            if rows:
                _write(src / f"{table}.csv", rows)
        engine = DuckDBEngine(temp_dir=Path(tmp) / "spill")
        try:
            result = load(src, Path(tmp) / "out", engine=engine)
            for t, s in result.tables.items():
                assert s.rejected == 0, f"fixture {t} has rejected rows: see the loaders"
            cfg = load_config(None)
            for n in names:
                cfg[n].update((config or {}) if len(names) == 1 else (config or {}).get(n, {}))
            available = available_columns(engine, list(result.tables))
            report = run_detectors(engine, available, cfg, only=names)
            get = lambda q: engine.arrow(q).to_pylist()  # noqa: E731
            return Evidence(
                get("SELECT * EXCLUDE (pattern) FROM ev_groups ORDER BY group_id"),
                get("SELECT * EXCLUDE (pattern) FROM ev_members ORDER BY group_id, kind, id"),
                get("SELECT * EXCLUDE (pattern) FROM ev_claims ORDER BY group_id, claim_id"),
                report)
        finally:
            engine.close()


def on_synth(names: list[str], *, persons: int = 20000, months: int = 6, seed: int = 1,
             workdir: Path | None = None, config: dict | None = None) -> tuple[Evidence, dict]:
    """Generate synthetic claims, load them, run the named detectors; return (evidence, truth).

    For development only: tune on seeds 1-99; seeds from 100 up are kept for the evaluation.
    """
    import json

    from graphfraud.synth import SynthConfig, generate

    tmp = Path(workdir or tempfile.mkdtemp())
    src = tmp / f"synth-{persons}-{months}-{seed}"
    if not (src / "truth.json").exists():
        src.mkdir(parents=True, exist_ok=True)
        generate(src, SynthConfig(persons=persons, months=months, seed=seed))
    engine = DuckDBEngine(temp_dir=tmp / "spill")
    try:
        result = load(src, tmp / f"out-{seed}", engine=engine)
        cfg = load_config(None)
        for n, values in (config or {}).items():
            cfg[n].update(values)
        available = available_columns(engine, list(result.tables))
        report = run_detectors(engine, available, cfg, only=names)
        get = lambda q: engine.arrow(q).to_pylist()  # noqa: E731
        ev = Evidence(get("SELECT * FROM ev_groups ORDER BY pattern, group_id"),
                      get("SELECT * FROM ev_members ORDER BY pattern, group_id, kind, id"),
                      get("SELECT * FROM ev_claims ORDER BY pattern, group_id, claim_id"), report)
        return ev, json.loads((src / "truth.json").read_text(encoding="utf-8"))
    finally:
        engine.close()


def person_groups(ev: Evidence) -> dict[str, set[str]]:
    """The persons of each evidence group."""
    groups: dict[str, set[str]] = {}
    for m in ev.members:
        if m["kind"] == "person":
            groups.setdefault(m["group_id"], set()).add(m["id"])
    return groups


def score_synth(ev: Evidence, truth: dict, pattern: str,
                kinds: tuple[str, ...] | None = None) -> tuple[int, int, int, int]:
    """(found, planted, flagged, look-alike groups) for one pattern, matching by persons: a
    planted ring is found, or a look-alike group (of at least two persons, of ``kinds`` or any
    kind) flagged, when one evidence group holds at least half of its persons."""
    groups = person_groups(ev).values()
    hit = lambda ps: any(2 * len(ps & g) >= len(ps) for g in groups)  # noqa: E731
    found = total = flagged = looks = 0
    for ring in truth["rings"]:
        if pattern in ring["patterns"]:
            total += 1
            found += hit({m["id"] for m in ring["members"] if m["kind"] == "person"})
    for look in truth["lookalikes"]:
        persons = {m["id"] for m in look["members"] if m["kind"] == "person"}
        if len(persons) >= 2 and (kinds is None or look["kind"] in kinds):
            looks += 1
            flagged += hit(persons)
    return found, total, flagged, looks
