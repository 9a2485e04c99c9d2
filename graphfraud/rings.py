"""From evidence to rings: the evidence graph, seeded Leiden, scores, roles and amounts.

The evidence graph is bipartite: every entity (person, card, provider, doctor, staff) that a
detector named links to the evidence group that named it, with weight = the group's strength
× the member's share. Seeded Leiden splits it into communities; each community's groups are a
ring's evidence and its entities the ring's members. Giant components are split by Leiden, not
reported whole. An entity that sits in more than ``hub_groups`` groups (a big hospital, a
popular pharmacy, a nursing home's address) is a hub: its edges weigh 1/log2(1 + groups), and
it is a member of a ring only when most of its groups are that ring's, so no ring is held
together by a hub.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from graphfraud.algorithms.community import articulation_points, leiden
from graphfraud.algorithms.idmap import IdMap
from graphfraud.engine import Engine

__all__ = ["Ring", "build_rings", "calibrate", "ring_id", "entity_scores", "ROLE_TEXT"]

ROLE_TEXT = {
    "organizer": ("组织者", "organizer"), "recruiter": ("招募者", "recruiter"),
    "insider": ("内部人员", "insider"), "member": ("成员", "member"),
}
_KIND_ORDER = {"person": 0, "card": 1, "provider": 2, "doctor": 3, "staff": 4}


def ring_id(members: list[tuple[str, str]]) -> str:
    """A ring's stable id: the same members give the same id on every run."""
    text = "\n".join(f"{k}:{i}" for k, i in sorted(set(members)))
    return "R-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


@dataclass
class Ring:
    """One ring before it is written: members with roles, evidence groups, figures."""

    ring_id: str
    score: float
    patterns: list[str]
    members: list[dict[str, Any]]
    groups: list[tuple[str, str]]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    fund_paid: float = 0.0
    claims: int = 0
    first_date: str | None = None
    last_date: str | None = None
    score_raw: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"ring_id": self.ring_id, "score": round(self.score, 4),
                "score_raw": round(self.score_raw, 4), "patterns": self.patterns,
                "fund_paid": round(self.fund_paid, 2), "claims": self.claims,
                "period": [self.first_date, self.last_date], "members": self.members,
                "evidence": self.evidence}


def build_rings(engine: Engine, config: dict[str, Any], *, seed: int = 0) -> list[Ring]:
    """Rings from the evidence tables (``ev_groups``, ``ev_members``, ``ev_claims``)."""
    groups = engine.arrow("SELECT pattern, group_id, strength, summary_zh, summary_en, stats "
                          "FROM ev_groups ORDER BY pattern, group_id").to_pylist()
    if not groups:
        return []
    members = engine.arrow("SELECT pattern, group_id, kind, id, role, weight FROM ev_members "
                           "ORDER BY pattern, group_id, kind, id").to_pylist()
    gindex = {(g["pattern"], g["group_id"]): i for i, g in enumerate(groups)}
    ents = IdMap((m["kind"], m["id"]) for m in members)
    n_ent, n_grp = len(ents), len(groups)
    of_group: dict[int, list[tuple[int, dict]]] = defaultdict(list)
    degree: Counter[int] = Counter()
    for m in members:
        g, e = gindex[(m["pattern"], m["group_id"])], ents.index((m["kind"], m["id"]))
        of_group[g].append((e, m))
        degree[e] += 1
    hub_groups = int(config["hub_groups"])
    hubs = {e for e, d in degree.items() if d > hub_groups}
    place_weight = float(config.get("place_weight", 1.0))

    edges, weights = [], []
    for g, items in sorted(of_group.items()):
        strength = float(groups[g]["strength"] or 0.0)
        for e, m in items:
            w = max(strength, 0.05) * (0.5 + 0.5 * float(m["weight"] if m["weight"] is not None else 1.0))
            if e in hubs:
                w /= math.log2(1 + degree[e])
            if ents.key(e)[0] == "provider":
                w *= place_weight  # rings are people; the places they use are context
            edges.append((e, n_ent + g))
            weights.append(w)
    community = leiden(n_ent + n_grp, edges, weights, resolution=float(config["resolution"]),
                       seed=int(config.get("seed", seed)))

    rings: list[Ring] = []
    by_comm: dict[int, list[int]] = defaultdict(list)
    for g in range(n_grp):
        by_comm[community[n_ent + g]].append(g)
    for comm, gs in sorted(by_comm.items()):
        ring = _ring(gs, comm, community, of_group, groups, ents, hubs, degree,
                     int(config["min_persons"]))
        if ring is not None:
            rings.append(ring)
    _amounts(engine, rings)
    knots = config.get("calibration") or []
    for r in rings:
        r.score_raw, r.score = r.score, calibrate(r.score, knots)
    rings.sort(key=lambda r: (-r.score, -r.score_raw, -r.fund_paid, r.ring_id))
    return rings


def calibrate(raw: float, knots: list[list[float]]) -> float:
    """The calibrated score of a raw ring score: linear between the knots ``[raw, share of
    rings correct]`` (increasing in both; ``bench/calibrate.py`` fits them), the raw score
    itself when there are none."""
    if not knots:
        return raw
    xs, ys = [float(k[0]) for k in knots], [float(k[1]) for k in knots]
    if raw <= xs[0]:
        return ys[0] * raw / xs[0] if xs[0] > 0 else ys[0]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if raw <= x1:
            return y0 + (y1 - y0) * (raw - x0) / (x1 - x0) if x1 > x0 else y1
    return ys[-1]


def _ring(gs: list[int], comm: int, community: list[int], of_group: dict[int, list[tuple[int, dict]]],
          groups: list[dict], ents: IdMap, hubs: set[int], degree: Counter[int],
          min_persons: int) -> Ring | None:
    in_ring: dict[int, list[tuple[int, dict]]] = defaultdict(list)  # entity -> (group, row)
    for g in gs:
        for e, m in of_group[g]:
            in_ring[e].append((g, m))
    keep = []
    for e, items in in_ring.items():
        if e in hubs:
            if len(items) * 2 <= degree[e]:  # a hub is a member only where most of its groups are
                continue
        elif community[e] != comm and len(items) < 2:
            continue  # pulled into another ring; appears here through one group only
        keep.append(e)
    keys = [ents.key(e) for e in keep]
    if sum(1 for k, _ in keys if k == "person") < min_persons and not any(
            k in ("provider", "doctor", "staff") for k, _ in keys):
        return None
    if not keys:
        return None
    strengths = [float(groups[g]["strength"] or 0) for g in gs]
    patterns = sorted({groups[g]["pattern"] for g in gs})
    score = 1 - math.prod(1 - min(s, 0.999) for s in strengths)
    score = 1 - (1 - score) * (0.85 ** (len(patterns) - 1))  # corroboration across patterns
    ring_members = _roles(keep, in_ring, ents, gs, groups, of_group)
    rid = ring_id(keys)
    evidence = [{"pattern": groups[g]["pattern"], "group_id": groups[g]["group_id"],
                 "strength": round(float(groups[g]["strength"] or 0), 4),
                 "summary": groups[g]["summary_zh"], "summary_en": groups[g]["summary_en"],
                 "stats": json.loads(groups[g]["stats"]) if groups[g]["stats"] else {},
                 "claim_ids": []} for g in sorted(gs, key=lambda g: (groups[g]["pattern"],
                                                                        groups[g]["group_id"]))]
    return Ring(rid, score, patterns, ring_members,
                [(groups[g]["pattern"], groups[g]["group_id"]) for g in gs], evidence)


def _roles(keep: list[int], in_ring: dict[int, list[tuple[int, dict]]], ents: IdMap, gs: list[int],
           groups: list[dict], of_group: dict[int, list[tuple[int, dict]]]) -> list[dict[str, Any]]:
    """Roles with their reasons, and which members hold the ring together."""
    n_groups = len(gs)
    out = []
    hinted = {e: Counter(m["role"] for _, m in in_ring[e] if m["role"]) for e in keep}
    # the centre: in the most groups; on a tie the place (a provider) before a person
    rank = {"provider": 2, "person": 1}
    central = max(keep, key=lambda e: (len(in_ring[e]), rank.get(ents.key(e)[0], 0),
                                       sum(float(groups[g]["strength"] or 0) for g, _ in in_ring[e]),
                                       ents.key(e)[1]))
    for e in keep:
        kind, ident = ents.key(e)
        share = len(in_ring[e])
        patterns = sorted({groups[g]["pattern"] for g, _ in in_ring[e]})
        if kind == "staff":
            role, zh, en = "insider", f"医保经办人员，涉及本团伙 {share} 组证据", \
                f"agency staff in {share} of the ring's evidence groups"
        elif hinted[e]:
            role = hinted[e].most_common(1)[0][0]
            zh = f"检测器（{'、'.join(patterns)}）认定为{ROLE_TEXT.get(role, (role,))[0]}"
            en = f"named {role} by {', '.join(patterns)}"
        elif e == central and kind in ("person", "provider"):
            role, zh, en = "organizer", f"出现在本团伙全部 {n_groups} 组证据中的 {share} 组，居于中心", \
                f"at the centre: in {share} of the ring's {n_groups} evidence groups"
        elif kind == "doctor" and n_groups > 1 and share * 2 >= n_groups:
            role, zh, en = "recruiter", f"医师，涉及本团伙过半证据（{share}/{n_groups}）", \
                f"doctor in most of the ring's evidence ({share}/{n_groups})"
        else:
            role, zh, en = "member", f"涉及 {share} 组证据（{'、'.join(patterns)}）", \
                f"in {share} evidence group(s) ({', '.join(patterns)})"
        out.append({"kind": kind, "id": ident, "role": role, "reason": zh, "reason_en": en,
                    "evidence_groups": share})
    # members whose removal would dissolve the ring: the cut vertices among the members of
    # the ring's member-evidence graph (a member linked to each group that names it)
    local = {e: i for i, e in enumerate(keep)}
    pairs = sorted({(local[e], len(keep) + j) for j, g in enumerate(gs)
                    for e, _ in of_group[g] if e in local})
    cut = articulation_points(len(keep) + len(gs), pairs) if len(keep) > 2 else []
    critical = {v for v in cut if v < len(keep)}
    for i, m in enumerate(out):
        m["critical"] = i in critical
    out.sort(key=lambda m: (_KIND_ORDER[m["kind"]], m["id"]))
    return out


def _amounts(engine: Engine, rings: list[Ring]) -> None:
    """Claims, fund paid (net of reversals), period and claim ids of every ring, in SQL."""
    if not rings:
        return
    rows = [(i, p, g) for i, r in enumerate(rings) for p, g in r.groups]
    engine.execute("CREATE OR REPLACE TEMP TABLE _ring_groups (ring INTEGER, pattern VARCHAR, "
                   "group_id VARCHAR)")
    table = pa.table({"ring": [r[0] for r in rows], "pattern": [r[1] for r in rows],
                      "group_id": [r[2] for r in rows]})
    engine.load_arrow("_ring_groups_in", pa.RecordBatchReader.from_batches(table.schema,
                                                                           table.to_batches()))
    engine.execute("INSERT INTO _ring_groups SELECT * FROM _ring_groups_in")
    engine.execute("DROP TABLE _ring_groups_in")
    figures = engine.arrow("""
        WITH rc AS (SELECT DISTINCT g.ring, c.claim_id FROM _ring_groups g
                    JOIN ev_claims c ON c.pattern = g.pattern AND c.group_id = g.group_id),
             withrev AS (SELECT ring, claim_id FROM rc
                         UNION ALL SELECT rc.ring, r.reversal_id FROM rc
                         JOIN reversal_of r ON r.claim_id = rc.claim_id)
        SELECT w.ring, count(*) FILTER (WHERE k.total_amount >= 0) AS claims,
               CAST(coalesce(sum(k.fund_paid), 0) AS DOUBLE) AS fund,
               CAST(min(CAST(k.settled_at AS DATE)) AS VARCHAR) AS first_date,
               CAST(max(CAST(k.settled_at AS DATE)) AS VARCHAR) AS last_date
        FROM withrev w JOIN canon_claims k ON k.claim_id = w.claim_id GROUP BY w.ring
    """).to_pylist()
    for f in figures:
        r = rings[f["ring"]]
        r.claims, r.fund_paid = int(f["claims"]), float(f["fund"])
        r.first_date, r.last_date = f["first_date"], f["last_date"]
    claim_rows = engine.arrow("""
        SELECT g.ring, g.pattern, g.group_id, list_sort(list(c.claim_id)) AS ids
        FROM _ring_groups g JOIN ev_claims c ON c.pattern = g.pattern AND c.group_id = g.group_id
        GROUP BY ALL
    """).to_pylist()
    by_key = {(c["ring"], c["pattern"], c["group_id"]): c["ids"] for c in claim_rows}
    for i, r in enumerate(rings):
        for ev in r.evidence:
            ev["claim_ids"] = by_key.get((i, ev["pattern"], ev["group_id"]), [])
    engine.execute("DROP TABLE _ring_groups")


def entity_scores(engine: Engine, rings: list[Ring]) -> list[dict[str, Any]]:
    """A 0..1 score for every entity named in evidence, riskiest first.

    A ring member takes its ring's score, scaled by how much of the ring's evidence it is in
    (organizers, recruiters, insiders and members that hold the ring together take it whole);
    an entity in evidence but in no ring takes half the noisy-or of its groups' strengths.
    """
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rings:
        n = max(len(r.groups), 1)
        for m in r.members:
            share = m["evidence_groups"] / n
            whole = m["role"] in ("organizer", "recruiter", "insider") or m.get("critical")
            score = r.score if whole else r.score * (0.6 + 0.4 * min(share, 1.0))
            key = (m["kind"], m["id"])
            if key not in best or score > best[key]["score"]:
                best[key] = {"kind": m["kind"], "id": m["id"], "score": score,
                             "ring_id": r.ring_id, "role": m["role"]}
    rows = engine.arrow("""
        SELECT m.kind, m.id, 1 - exp(sum(ln(1 - least(g.strength, 0.999)))) AS s
        FROM (SELECT DISTINCT pattern, group_id, kind, id FROM ev_members) m
        JOIN ev_groups g ON g.pattern = m.pattern AND g.group_id = m.group_id
        GROUP BY m.kind, m.id
    """).to_pylist()
    for row in rows:
        key = (row["kind"], row["id"])
        if key not in best:
            best[key] = {"kind": row["kind"], "id": row["id"], "score": 0.5 * float(row["s"]),
                         "ring_id": "", "role": ""}
    out = sorted(best.values(), key=lambda x: (-x["score"], _KIND_ORDER[x["kind"]], x["id"]))
    for x in out:
        x["score"] = round(x["score"], 4)
    return out
