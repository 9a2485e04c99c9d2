"""The analyst's version (variant (a) of bench_scale.py): pandas and networkx, written plainly.

What an analyst would write instead of graphfraud to find rings in a claims export: persons
who share a card; persons who were at the same provider on the same day on at least three
days; one graph of persons from both; Louvain communities; a community of three or more
persons is a ring. Written the way an analyst would, neither tuned nor hobbled. The
same-day self-join grows with the square of a provider's patients a day: a hospital with
5,000 a day makes it explode, and bench_scale.py stops it at its time or memory limit.
Stages: load, shared_cards, co_visit, louvain.

    python bench/run_analyst.py SRC --marks FILE --result FILE
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scalekit import StageMarks, child_parser, write_result  # noqa: E402


def main() -> None:
    parser = child_parser(__doc__)
    parser.add_argument("src", type=Path)
    args = parser.parse_args()

    import networkx as nx
    import pandas as pd

    marks = StageMarks(args.marks)
    marks.stage("load")
    columns = ["person_id", "card_id", "provider_id", "settled_at"]
    if (args.src / "claims.parquet").exists():
        claims = pd.read_parquet(args.src / "claims.parquet", columns=columns)
    else:
        claims = pd.read_csv(args.src / "claims.csv", usecols=columns, dtype=str)
    claims["date"] = pd.to_datetime(claims["settled_at"], errors="coerce").dt.normalize()

    # persons sharing a card: cards used by two or more persons, every pair of their persons
    marks.stage("shared_cards")
    card_users = claims[["card_id", "person_id"]].dropna().drop_duplicates()
    persons_per_card = card_users.groupby("card_id")["person_id"].nunique()
    shared = card_users[card_users["card_id"].isin(persons_per_card[persons_per_card >= 2].index)]
    card_pairs = shared.merge(shared, on="card_id")
    card_pairs = card_pairs[card_pairs["person_id_x"] < card_pairs["person_id_y"]]

    # co-visits: pairs of persons at the same provider on the same day, on 3 days or more
    marks.stage("co_visit")
    visits = claims[["person_id", "provider_id", "date"]].dropna().drop_duplicates()
    same_day = visits.merge(visits, on=["provider_id", "date"])
    same_day = same_day[same_day["person_id_x"] < same_day["person_id_y"]]
    days = same_day.groupby(["person_id_x", "person_id_y"])["date"].nunique().reset_index(name="days")
    co_visits = days[days["days"] >= 3]

    marks.stage("louvain")
    G = nx.Graph()
    G.add_edges_from(zip(card_pairs["person_id_x"], card_pairs["person_id_y"]))
    G.add_weighted_edges_from(zip(co_visits["person_id_x"], co_visits["person_id_y"], co_visits["days"]))
    communities = nx.community.louvain_communities(G, seed=0)
    rings = [c for c in communities if len(c) >= 3]
    marks.end()

    write_result(args.result, {
        "claims": len(claims), "card_pairs": len(card_pairs), "same_day_pairs": len(same_day),
        "co_visit_pairs": len(co_visits), "graph_nodes": G.number_of_nodes(),
        "graph_edges": G.number_of_edges(), "rings": len(rings),
        "largest_ring": max((len(r) for r in rings), default=0),
    })


if __name__ == "__main__":
    main()
