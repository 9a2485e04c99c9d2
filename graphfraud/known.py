"""Known cases (``--known FILE``): rank entities by their closeness to confirmed ones.

The file is a CSV ``kind,id`` of entities already confirmed as fraudulent. Closeness is
personalized PageRank on the claims graph (:mod:`graphfraud.graph`), restarting at the known
entities, with edges weighted by the number of claims and each entity's degree discounted
(a big hospital next to everyone is close to no one in particular): the score of an entity is
its PageRank divided by the PageRank it would have without personalization, squashed to 0..1.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from graphfraud.algorithms.community import personalized_pagerank
from graphfraud.detectors.base import KINDS
from graphfraud.engine import Engine
from graphfraud.errors import InputError

__all__ = ["read_known", "known_proximity"]


def read_known(path: str | Path) -> list[tuple[str, str]]:
    """Read ``kind,id`` rows; every problem names the file and the row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"--known {path}: no such file") from exc
    except UnicodeDecodeError:
        text = path.read_bytes().decode("gb18030", errors="strict")
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["kind", "id"]:
        raise InputError(f"--known {path}: the first row must be the header 'kind,id'")
    out, problems = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        kind = row[0].strip().lower()
        ident = row[1].strip() if len(row) > 1 else ""
        if kind not in KINDS:
            problems.append(f"--known {path}: row {number}: kind '{row[0]}' is not one of "
                            f"{', '.join(KINDS)}")
        elif not ident:
            problems.append(f"--known {path}: row {number}: the id is empty")
        else:
            out.append((kind, ident))
    if problems:
        raise InputError("; ".join(problems), problems)
    return sorted(set(out))


def known_proximity(engine: Engine, known: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """0..1 closeness of every entity of the claims graph to the known entities."""
    from graphfraud.detectors import available_columns
    from graphfraud.graph import claims_graph

    tables = [t for t in ("claims", "persons", "providers") if engine.columns(f"canon_{t}")]
    g = claims_graph(engine, available_columns(engine, tables))
    sources = [g.ids.index(k) for k in known if k in g.ids]
    if not sources:
        return {}
    n = len(g.ids)
    degree = [0.0] * n
    for (a, b), w in zip(g.edges, g.weights):
        degree[a] += w
        degree[b] += w
    weights = [w / math.sqrt(max(degree[a], 1) * max(degree[b], 1))
               for (a, b), w in zip(g.edges, g.weights)]
    ppr = personalized_pagerank(n, g.edges, weights, sources=sources)
    base = 1.0 / n
    out = {}
    for i, value in enumerate(ppr):
        lift = value / base
        out[g.ids.key(i)] = 1 - math.exp(-lift / 50) if i not in sources else 1.0
    return out
