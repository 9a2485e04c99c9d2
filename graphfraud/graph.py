"""The claims graph: persons, cards, providers, doctors and staff, and what links them.

Edges, aggregated in SQL over ``claims_eff`` (reversed claims do not link anyone):

* person–card: the person's claims on the card (only cards other than the person's own id);
* person–provider (visits): claims, distinct days, fund paid;
* doctor–provider: claims the doctor signed at the provider (e-prescriptions excluded);
* doctor–pharmacy (e-prescriptions): pharmacy claims that name a prescribing doctor;
* staff–provider (approvals): claims the staff member approved.

Entities get dense ids through one explicit :class:`~graphfraud.algorithms.idmap.IdMap`; a
missing id never becomes a node (the SQL drops nulls, and the map refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphfraud.algorithms.idmap import IdMap
from graphfraud.engine import Engine

__all__ = ["ClaimsGraph", "claims_graph", "EDGE_KINDS"]

EDGE_KINDS = ("holds_card", "visits", "works_at", "prescribes_to", "approves")


@dataclass
class ClaimsGraph:
    """Nodes as an id map; edges as index pairs with a weight, a kind and figures."""

    ids: IdMap
    edges: list[tuple[int, int]]
    weights: list[float]
    kinds: list[str]
    claims: list[int]
    days: list[int]
    fund: list[float]

    def to_networkx(self):  # small-graph interop only
        import networkx as nx

        g = nx.Graph()
        for i, (kind, ident) in enumerate(self.ids.keys):
            g.add_node(i, kind=kind, id=ident)
        for (a, b), w, k, c, d, f in zip(self.edges, self.weights, self.kinds, self.claims,
                                          self.days, self.fund):
            g.add_edge(a, b, weight=w, kind=k, claims=c, days=d, fund=f)
        return g


def claims_graph(engine: Engine, available: dict[str, set[str]]) -> ClaimsGraph:
    """Build the claims graph from the engine's ``claims_eff`` view."""
    cols = available.get("claims", set())
    parts = ["""SELECT 'visits' AS kind, 'person' AS ka, person_id AS a, 'provider' AS kb,
                provider_id AS b, count(*) AS claims, count(DISTINCT service_date) AS days,
                sum(fund_paid) AS fund FROM claims_eff GROUP BY ALL"""]
    if "card_id" in cols:
        parts.append("""SELECT 'holds_card', 'person', person_id, 'card', card_id, count(*),
                        count(DISTINCT service_date), sum(fund_paid) FROM claims_eff
                        WHERE card_id IS NOT NULL AND card_id <> person_id GROUP BY ALL""")
    if "doctor_id" in cols:
        parts.append("""SELECT CASE WHEN visit_type = 'pharmacy' THEN 'prescribes_to'
                        ELSE 'works_at' END, 'doctor', doctor_id, 'provider', provider_id,
                        count(*), count(DISTINCT service_date), sum(fund_paid) FROM claims_eff
                        WHERE doctor_id IS NOT NULL GROUP BY ALL""")
    if "staff_id" in cols:
        parts.append("""SELECT 'approves', 'staff', staff_id, 'provider', provider_id, count(*),
                        count(DISTINCT service_date), sum(fund_paid) FROM claims_eff
                        WHERE staff_id IS NOT NULL GROUP BY ALL""")
    rows = engine.arrow(
        "SELECT kind, ka, a, kb, b, claims, days, CAST(fund AS DOUBLE) AS fund FROM ("
        + " UNION ALL ".join(parts) + ") WHERE a IS NOT NULL AND b IS NOT NULL "
        "ORDER BY kind, ka, a, kb, b").to_pydict()
    ids = IdMap(list(zip(rows["ka"], rows["a"])) + list(zip(rows["kb"], rows["b"])))
    edges = [(ids.index((ka, a)), ids.index((kb, b)))
             for ka, a, kb, b in zip(rows["ka"], rows["a"], rows["kb"], rows["b"])]
    return ClaimsGraph(ids, edges, [float(c) for c in rows["claims"]], list(rows["kind"]),
                       list(rows["claims"]), list(rows["days"]), list(rows["fund"]))
