"""The network of one or more rings, for pictures and interactive views, with its layout.

Built from the rings' evidence claims (``data/claims.parquet`` of the analysis folder):

* nodes: the rings' members (person, card, provider, doctor, staff), each with its role, the
  fund paid and claims it is in, and whether removing it would split its ring (``critical``);
* edges: person–card (the card was used for the person), person–provider (visits: days,
  claims, fund), doctor–provider (claims the doctor made there), staff–provider (claims the
  staff member approved), and person–person when two persons were at the same provider on the
  same day at least ``min_co_days`` times (同日同院);
* a layout computed here (Fruchterman–Reingold from a fixed start, so the same rings give the
  same picture), so that a view shows at once with physics off.

Labels are masked by the :class:`~graphfraud.redact.Redactor` given; node keys
(``kind:id``) are the real ids and must not be shown in shared outputs: use ``index``.

Examples
--------
>>> from graphfraud.results import open_analysis                  # doctest: +SKIP
>>> a = open_analysis("graphfraud-demo/analysis")                # doctest: +SKIP
>>> g = ring_network(a, [a.ring(1)])                             # doctest: +SKIP
>>> len(g.nodes), g.nodes[0]["label"]                            # doctest: +SKIP
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from graphfraud.redact import Redactor
from graphfraud.results import Analysis, ring_claim_ids

__all__ = ["RingNetwork", "ring_network", "KIND_TEXT", "EDGE_TEXT"]

KIND_TEXT = {"person": ("参保人", "insured person"), "card": ("医保卡/凭证", "card"),
             "provider": ("定点医药机构", "provider"), "doctor": ("医师", "doctor"),
             "staff": ("经办人员", "agency staff")}
EDGE_TEXT = {"uses_card": ("用卡", "card used"), "visits": ("就诊/购药", "visits"),
             "works_at": ("执业", "works at"), "approves": ("审核", "approves"),
             "co_visit": ("同日同院", "same place, same day")}
_KINDS = ("person", "card", "provider", "doctor", "staff")


@dataclass
class RingNetwork:
    """Nodes and edges of a ring view, with positions (x, y in about -1000..1000)."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    truncated: int = 0  # nodes left out to stay under max_nodes


def _money(x: Any) -> float:
    return float(x) if x is not None else 0.0


def ring_network(analysis: Analysis, rings: list[dict[str, Any]], *,
                 redactor: Redactor | None = None, lang: str = "zh", min_co_days: int = 2,
                 max_nodes: int = 2000, max_co_persons: int = 400) -> RingNetwork:
    """The network of ``rings`` (members, and the links their evidence claims show).

    Parameters
    ----------
    analysis
        The analysis folder (:func:`graphfraud.results.open_analysis`).
    rings
        Ring dicts from ``analysis.rings``; riskiest first keeps the riskiest when truncating.
    redactor
        Masks person and card ids and natural persons' names in labels (default: masked).
    lang
        ``zh`` or ``en`` for labels and titles.
    min_co_days
        Two persons are linked when seen at one provider on the same day at least this often.
    max_nodes
        At most this many nodes (whole rings, riskiest first; the rest is counted in
        ``truncated``).
    max_co_persons
        Person–person links are looked for in rings of at most this many persons.
    """
    red = redactor or Redactor("masked")
    en = lang == "en"
    net = RingNetwork()
    member_of: dict[str, dict[str, Any]] = {}  # key -> node
    chosen: list[dict[str, Any]] = []
    for ring in rings:
        keys = {f"{m['kind']}:{m['id']}" for m in ring["members"]}
        new = keys - set(member_of)
        if len(member_of) + len(new) > max_nodes and chosen:
            net.truncated += len(new)
            continue
        chosen.append(ring)
        for m in ring["members"]:
            key = f"{m['kind']}:{m['id']}"
            node = member_of.get(key)
            if node is None:
                node = {"key": key, "kind": m["kind"], "id": m["id"], "rings": [],
                        "role": m.get("role"), "critical": bool(m.get("critical")),
                        "claims": 0, "fund_paid": 0.0, "patterns": set()}
                member_of[key] = node
            node["rings"].append(ring["ring_id"])
            node["patterns"].update(ring["patterns"])
            node["critical"] = node["critical"] or bool(m.get("critical"))
    if not chosen:
        return net

    claims = analysis.claims({"evidence": [{"claim_ids": ring_claim_ids(r)} for r in chosen]})
    rows = claims.select([c for c in ("claim_id", "person_id", "card_id", "provider_id", "doctor_id",
                                      "staff_id", "settled_at", "fund_paid")
                          if c in claims.column_names]).to_pylist()
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}

    def link(a: str, b: str, kind: str, fund: float, day: Any) -> None:
        if a not in member_of or b not in member_of or a == b:
            return
        k = (a, b, kind) if a < b else (b, a, kind)
        e = edges.setdefault(k, {"claims": 0, "fund_paid": 0.0, "days": set()})
        e["claims"] += 1
        e["fund_paid"] += fund
        if day is not None:
            e["days"].add(day)

    visits: dict[tuple[str, Any], set[str]] = defaultdict(set)  # (provider, day) -> persons
    for r in rows:
        fund = _money(r.get("fund_paid"))
        day = r["settled_at"].date() if r.get("settled_at") is not None else None
        ends = {k: f"{k}:{r.get(c)}" for k, c in (("person", "person_id"), ("card", "card_id"),
                                                   ("provider", "provider_id"),
                                                   ("doctor", "doctor_id"), ("staff", "staff_id"))
                if r.get(c) is not None}
        for key in ends.values():
            if key in member_of:
                member_of[key]["claims"] += 1
                member_of[key]["fund_paid"] += fund
        p, c, v = ends.get("person"), ends.get("card"), ends.get("provider")
        d, s = ends.get("doctor"), ends.get("staff")
        if p and c:
            link(p, c, "uses_card", fund, day)
        if p and v:
            link(p, v, "visits", fund, day)
            if p in member_of and v is not None and day is not None:
                visits[(v, day)].add(p)
        if d and v:
            link(d, v, "works_at", fund, day)
        if s and v:
            link(s, v, "approves", fund, day)
    # person-person: same provider, same day, again and again (only in rings of modest size)
    small = {f"person:{m['id']}" for r in chosen
             if sum(m["kind"] == "person" for m in r["members"]) <= max_co_persons
             for m in r["members"] if m["kind"] == "person"}
    together: dict[tuple[str, str], set[Any]] = defaultdict(set)
    for (v, day), persons in visits.items():
        ps = sorted(persons & small)
        if 2 <= len(ps) <= 60:
            for a, b in combinations(ps, 2):
                together[(a, b)].add((v, day))
    for (a, b), events in together.items():
        if len({d for _, d in events}) >= min_co_days:
            edges[(a, b, "co_visit")] = {"claims": 0, "fund_paid": 0.0,
                                         "days": {d for _, d in events}}

    # nodes: ordered by kind then id, so indexes are stable
    order = sorted(member_of.values(), key=lambda n: (_KINDS.index(n["kind"]), n["id"]))
    index = {n["key"]: i for i, n in enumerate(order)}
    names: dict[str, dict[str, Any]] = {}
    for kind in ("person", "provider", "doctor", "staff"):
        ids = [n["id"] for n in order if n["kind"] == kind]
        for k, row in analysis.details(kind, ids).items():
            names[f"{kind}:{k}"] = row
    for i, n in enumerate(order):
        row = names.get(n["key"], {})
        name = row.get("name")
        shown_id = red.entity(n["kind"], n["id"])
        if n["kind"] == "provider":
            label = str(name) if name else shown_id
        elif n["kind"] in ("person", "doctor", "staff") and name:
            label = f"{red.name(name)} {shown_id}"
        else:
            label = shown_id
        net.nodes.append({
            "index": i, "key": n["key"], "kind": n["kind"], "id": n["id"], "shown_id": shown_id,
            "label": label, "kind_text": KIND_TEXT[n["kind"]][1 if en else 0],
            "role": n["role"], "critical": n["critical"], "rings": sorted(set(n["rings"])),
            "patterns": sorted(n["patterns"]), "claims": n["claims"],
            "fund_paid": round(n["fund_paid"], 2),
            "provider_type": row.get("provider_type") if n["kind"] == "provider" else None,
        })
    for (a, b, kind), e in sorted(edges.items()):
        days = len(e["days"])
        text = EDGE_TEXT[kind][1 if en else 0]
        if kind == "co_visit":
            label = f"{days} days" if en else f"{days} 天"
        elif kind == "uses_card":
            label = f"{e['claims']}"
        else:
            label = f"{days} days" if en else f"{days} 天"
        net.edges.append({"source": index[a], "target": index[b], "kind": kind, "kind_text": text,
                          "claims": e["claims"], "days": days,
                          "fund_paid": round(e["fund_paid"], 2), "label": label})
    _layout(net)
    return net


def _layout(net: RingNetwork) -> None:
    """Deterministic positions: Fruchterman–Reingold from a fixed circular start."""
    import igraph as ig

    n = len(net.nodes)
    if n == 0:
        return
    g = ig.Graph(n=n, edges=[(e["source"], e["target"]) for e in net.edges])
    start = [[math.cos(2 * math.pi * i / n) * 50, math.sin(2 * math.pi * i / n) * 50]
             for i in range(n)]
    weights = [1.0 + math.log1p(e["claims"] + e["days"]) for e in net.edges] or None
    ig.set_random_number_generator(random.Random(0))  # igraph's layouts draw from it
    try:
        coords = g.layout_fruchterman_reingold(seed=start, niter=300 if n <= 2000 else 100,
                                               weights=weights, grid="nogrid").coords
    finally:
        ig.set_random_number_generator(random)
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    scale = (200 + 40 * math.sqrt(n)) / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    for node, (x, y) in zip(net.nodes, coords):
        node["x"], node["y"] = round((x - cx) * scale, 1), round((y - cy) * scale, 1)
