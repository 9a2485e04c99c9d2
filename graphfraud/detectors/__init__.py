"""The detector library (``graphfraud.detectors``): a registry, not an if/elif chain.

Each detector module registers itself with :func:`graphfraud.detectors.base.register`; the
CLI, the docs and the manifest list what is registered. :func:`run_detectors` runs those whose
tables and columns the input has, in dependency order, and says which were skipped and why.
"""

from __future__ import annotations

import copy
import time
from importlib import import_module, resources
from pathlib import Path
from typing import Any, Callable

import yaml

from graphfraud.detectors.base import REGISTRY, Context, DetectorSpec, Requirement, create_views
from graphfraud.engine import Engine
from graphfraud.errors import InputError
from graphfraud.files import read_yaml

__all__ = ["REGISTRY", "load_config", "run_detectors", "default_config", "available_columns",
           "describe"]

# the modules that register detectors; import order does not matter
_MODULES = ("cards", "visits", "admissions", "drugs", "deceased", "prescriptions", "insiders",
            "dense")


def _load_modules() -> None:
    for name in _MODULES:
        import_module(f"graphfraud.detectors.{name}")


def describe() -> list[dict[str, Any]]:
    """The registry as rows: pattern, required tables/columns, descriptions (zh, en)."""
    _load_modules()
    return [{"pattern": s.name, "requires": [str(r) for r in s.requires], "zh": s.description_zh,
             "en": s.description_en, "after": list(s.after)}
            for s in sorted(REGISTRY.values(), key=lambda s: s.name)]


def default_config() -> dict[str, dict[str, Any]]:
    """The defaults of ``graphfraud/detectors.yaml``."""
    text = resources.files("graphfraud").joinpath("detectors.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_config(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """Defaults overridden by a ``--config`` YAML file; unknown names are an error."""
    config = default_config()
    if path is None:
        return config
    path = Path(path)
    user = read_yaml(path, "--config") or {}
    problems = []
    if not isinstance(user, dict):
        raise InputError(f"--config {path}: expected 'detector: {{parameter: value}}'")
    merged = copy.deepcopy(config)
    for section, values in user.items():
        if section not in config:
            problems.append(f"--config {path}: unknown section '{section}' "
                            f"(sections: {', '.join(config)})")
            continue
        if not isinstance(values, dict):
            problems.append(f"--config {path}: '{section}' must map parameters to values")
            continue
        for key, value in values.items():
            if key not in config[section]:
                problems.append(f"--config {path}: '{section}.{key}' is not a parameter "
                                f"(parameters: {', '.join(config[section])})")
            elif type(value) is not type(config[section][key]) and not (
                    isinstance(value, (int, float)) and isinstance(config[section][key], (int, float))):
                problems.append(f"--config {path}: '{section}.{key}' must be like "
                                f"{config[section][key]!r}")
            else:
                merged[section][key] = value
    if problems:
        raise InputError("; ".join(problems), problems)
    return merged


def available_columns(engine: Engine, tables: list[str]) -> dict[str, set[str]]:
    """For each loaded table, the canonical columns holding at least one value."""
    out: dict[str, set[str]] = {}
    for table in tables:
        columns = engine.columns(f"canon_{table}")
        if not columns:
            continue
        counts = engine.arrow("SELECT " + ", ".join(
            f'count("{c}") AS "{c}"' for c in columns) + f" FROM canon_{table}").to_pylist()[0]
        out[table] = {c for c, n in counts.items() if n}
    return out


def _order(specs: list[DetectorSpec]) -> list[DetectorSpec]:
    done: list[DetectorSpec] = []
    names = {s.name for s in specs}
    pending = sorted(specs, key=lambda s: s.name)
    while pending:
        ready = [s for s in pending if all(a not in names or a in {d.name for d in done} for a in s.after)]
        if not ready:
            raise RuntimeError("detector dependencies form a cycle")
        done.extend(ready)
        pending = [s for s in pending if s not in ready]
    return done


def _missing(spec: DetectorSpec, available: dict[str, set[str]]) -> list[str]:
    missing = []
    for req in spec.requires:
        if req.table not in available:
            missing.append(f"no {req.table} table")
        else:
            missing += [f"{req.table}.{c} is empty or absent" for c in req.columns
                        if c not in available[req.table]]
    return missing


def run_detectors(engine: Engine, available: dict[str, set[str]], config: dict[str, Any], *,
                  seed: int = 0, only: list[str] | None = None,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every applicable detector; evidence lands in ``ev_groups/ev_members/ev_claims``.

    Returns a report: ``run`` (name, groups, seconds) and ``skipped`` (name, reason).
    ``progress(name)`` is called as each detector starts.
    """
    _load_modules()
    create_views(engine, available)
    specs = [s for s in REGISTRY.values() if only is None or s.name in only]
    report: dict[str, Any] = {"run": [], "skipped": []}
    for spec in _order(specs):
        missing = _missing(spec, available)
        if missing:
            report["skipped"].append({"detector": spec.name, "reason": "; ".join(missing)})
            continue
        if progress is not None:
            progress(spec.name)
        ctx = Context(engine, spec.name, dict(config.get(spec.name, {})), available, seed)
        t0 = time.perf_counter()
        spec.run(ctx)
        report["run"].append({"detector": spec.name, "groups": ctx.counts.get("groups", 0),
                              "seconds": round(time.perf_counter() - t0, 3)})
    return report


__all__ += ["Requirement", "Context", "DetectorSpec"]
