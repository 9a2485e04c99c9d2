"""graphfraud's graph and findings as a property graph for Neo4j: labels, types, properties.

One model serves the bulk-import export and the live push (``graphfraud neo4j export|push``):

Nodes (key property ``id``; every label has a uniqueness constraint on it)

* ``Person`` {id, shown_id, name, gender, birth_year, death_date, score}
* ``Card`` {id, shown_id, score}
* ``Provider`` {id, name, type, level, ownership, region, dual_channel, score}
* ``Doctor`` {id, name, department, score}
* ``Staff`` {id, name, office, region, score}
* ``Ring`` {id, score, score_raw, patterns, fund_paid, claims, period_start, period_end,
  rank, evidence_groups, evidence_summaries, evidence_claim_ids}

Relationships (aggregated over the claims, net of reversals)

* ``(Person)-[:USES_CARD {claims, fund_paid}]->(Card)``
* ``(Person)-[:VISITED {claims, days, fund_paid, first, last}]->(Provider)``
* ``(Doctor)-[:WORKS_AT]->(Provider)`` (the doctors table)
* ``(Doctor)-[:PRESCRIBED_AT {claims, fund_paid}]->(Provider)``: claims at a pharmacy carrying
  the doctor (e-prescriptions filled there)
* ``(Staff)-[:APPROVED {claims, fund_paid}]->(Provider)``
* ``(member)-[:MEMBER_OF {role, critical, reason}]->(Ring)``

Scope: ``all`` is the whole claims graph; ``rings`` keeps the rings' members and the
relationships among them. Masking (``redact="masked"``, the default): the key ``id`` of a
person or card is a pseudonym (``P-``/``K-`` and 16 hex digits of a SHA-256 keyed with the
analysis's claims-file hash, stable for one analysis and not reversible without the claims), its
``shown_id`` the masked id, names masked, no id numbers or addresses; ids inside evidence texts
are masked. ``redact="none"`` keeps the real ids (``shown_id`` = ``id``).

Dates are ISO strings (``YYYY-MM-DD``), not temporal values: every target accepts them
(FalkorDB rejects date parameters) and Cypher's ``date(s)`` converts them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

import pyarrow as pa

from graphfraud.errors import check_argument
from graphfraud.redact import Redactor, mask_id, mask_name
from graphfraud.results import Analysis

__all__ = ["NodeSet", "RelSet", "GraphExport", "build_graph", "LABELS", "TYPES", "SCOPES"]

SCOPES = ("all", "rings")
#: label -> entity kind of graphfraud
LABELS = {"Person": "person", "Card": "card", "Provider": "provider", "Doctor": "doctor",
          "Staff": "staff", "Ring": "ring"}
#: relationship type -> (start label, end label)
TYPES = {"USES_CARD": ("Person", "Card"), "VISITED": ("Person", "Provider"),
         "WORKS_AT": ("Doctor", "Provider"), "PRESCRIBED_AT": ("Doctor", "Provider"),
         "APPROVED": ("Staff", "Provider"), "MEMBER_OF": (None, "Ring")}
_KIND_LABEL = {v: k for k, v in LABELS.items()}


@dataclass
class NodeSet:
    """Nodes of one label: a table whose column ``id`` is the key."""

    label: str
    table: pa.Table


@dataclass
class RelSet:
    """Relationships of one type: ``start``/``end`` keys (and, for MEMBER_OF, ``start_label``)
    and the properties."""

    type: str
    start_label: str | None
    end_label: str
    table: pa.Table


@dataclass
class GraphExport:
    """The whole property graph, with where it came from."""

    nodes: list[NodeSet] = field(default_factory=list)
    rels: list[RelSet] = field(default_factory=list)
    scope: str = "all"
    redact: str = "masked"
    source: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Rows per label and type (``Person``, ..., ``USES_CARD``, ...)."""
        out = {n.label: n.table.num_rows for n in self.nodes}
        for r in self.rels:
            out[r.type] = out.get(r.type, 0) + r.table.num_rows
        return out


def pseudonym(salt: str, prefix: str, value: str) -> str:
    """The masked edition's key of a person (``P``) or card (``K``)."""
    return f"{prefix}-" + hashlib.sha256(f"{salt}:{value}".encode("utf-8")).hexdigest()[:16]


def build_graph(analysis: Analysis, *, scope: str = "all", redact: str = "masked") -> GraphExport:
    """The property graph of an analysis folder (see the module docstring)."""
    import duckdb
    from duckdb.func import SPECIAL

    check_argument(scope in SCOPES, f"--scope {scope!r}: choose one of {', '.join(SCOPES)}")
    red = Redactor(redact)
    salt = next(iter(sorted(v for k, v in analysis.input_hashes.items()
                            if k.startswith("claims"))), "graphfraud")
    data = analysis.path / "data"
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        # the same masking as everywhere else (graphfraud.redact), as SQL functions
        # and the pseudonymous keys, so that node keys and MEMBER_OF ends are one function
        for fname, fn in (("gf_mask_id", mask_id), ("gf_mask_name", mask_name),
                          ("gf_person_key", lambda v: pseudonym(salt, "P", v)),
                          ("gf_card_key", lambda v: pseudonym(salt, "K", v))):
            con.create_function(fname, _keep_null(fn), ["VARCHAR"], "VARCHAR",
                                null_handling=SPECIAL)
        tables = {t: (data / f"{t}.parquet") for t in ("claims", "persons", "providers", "doctors",
                                                       "staff")}
        for t, path in tables.items():
            if path.exists():
                con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{path.as_posix()}')")
        have = {t for t, p in tables.items() if p.exists()}
        cols = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE claims)").fetchall()}
        rev = "orig_claim_id" in cols
        # effective claims: neither a reversal nor reversed (reversals net out, as in analysis)
        con.execute(f"""
            CREATE TEMP TABLE c AS SELECT * FROM claims
            WHERE {"orig_claim_id IS NULL AND claim_id NOT IN (SELECT orig_claim_id FROM claims "
                   "WHERE orig_claim_id IS NOT NULL)" if rev else "true"}""")
        members = [(m["kind"], m["id"]) for r in analysis.rings for m in r["members"]]
        con.execute("CREATE TEMP TABLE m (kind VARCHAR, id VARCHAR)")
        if members:
            con.executemany("INSERT INTO m VALUES (?, ?)", sorted(set(members)))
        ent = analysis.path / "entities.csv"
        has_scores = ent.exists()
        if has_scores:
            con.execute(f"CREATE TEMP TABLE s AS SELECT kind, id, max(score) AS score FROM "
                        f"read_csv('{ent.as_posix()}', all_varchar=true) GROUP BY 1, 2")

        def keep(kind: str, col: str) -> str:
            return ("true" if scope == "all" else
                    f"{col} IN (SELECT id FROM m WHERE kind = '{kind}')")

        def score(kind: str, col: str) -> str:
            if not has_scores:
                return "NULL::DOUBLE"
            return (f"(SELECT CAST(s.score AS DOUBLE) FROM s WHERE s.kind = '{kind}' "
                    f"AND s.id = {col})")

        def key(kind: str, col: str) -> str:
            if not red.masked or kind not in ("person", "card"):
                return col
            return f"gf_{kind}_key({col})"

        def shown(col: str) -> str:
            return f"gf_mask_id({col})" if red.masked else col

        def name(col: str) -> str:
            return f"gf_mask_name({col})" if red.masked else col

        q = lambda sql: con.sql(sql).to_arrow_table()  # noqa: E731
        out = GraphExport(scope=scope, redact=redact,
                          source={"analysis": str(analysis.path), "inputs": analysis.input_hashes,
                                  "graphfraud_version": analysis.manifest.get("graphfraud_version")})
        # persons: ids from claims (and the persons table for details)
        pdet = "persons" in have
        out.nodes.append(NodeSet("Person", q(f"""
            SELECT {key('person', 'x.person_id')} AS id, {shown('x.person_id')} AS shown_id,
                   {name('p.name') if pdet else 'NULL'} AS name,
                   {'p.gender' if pdet else 'NULL'} AS gender,
                   {'CAST(year(p.birth_date) AS BIGINT)' if pdet else 'NULL::BIGINT'} AS birth_year,
                   {'strftime(p.death_date, ' + chr(39) + '%Y-%m-%d' + chr(39) + ')' if pdet else 'NULL'} AS death_date,
                   {score('person', 'x.person_id')} AS score
            FROM (SELECT DISTINCT person_id FROM c WHERE person_id IS NOT NULL
                  AND {keep('person', 'person_id')}) x
            {'LEFT JOIN (SELECT * FROM persons QUALIFY row_number() OVER (PARTITION BY person_id) = 1) p USING (person_id)' if pdet else ''}
            ORDER BY 1""")))
        out.nodes.append(NodeSet("Card", q(f"""
            SELECT {key('card', 'card_id')} AS id, {shown('card_id')} AS shown_id,
                   {score('card', 'card_id')} AS score
            FROM (SELECT DISTINCT card_id FROM c WHERE card_id IS NOT NULL
                  AND {keep('card', 'card_id')}) ORDER BY 1""")))
        prov_det = "providers" in have
        out.nodes.append(NodeSet("Provider", q(f"""
            SELECT x.provider_id AS id, {'v.name' if prov_det else 'NULL'} AS name,
                   coalesce({'v.provider_type' if prov_det else 'NULL'}, x.provider_type) AS type,
                   {'CAST(v.level AS BIGINT)' if prov_det else 'NULL::BIGINT'} AS level,
                   {'v.ownership' if prov_det else 'NULL'} AS ownership,
                   {'v.region' if prov_det else 'NULL'} AS region,
                   {'v.dual_channel' if prov_det else 'NULL::BOOLEAN'} AS dual_channel,
                   {score('provider', 'x.provider_id')} AS score
            FROM (SELECT provider_id, min(provider_type) AS provider_type FROM c
                  WHERE provider_id IS NOT NULL AND {keep('provider', 'provider_id')} GROUP BY 1) x
            {'LEFT JOIN (SELECT * FROM providers QUALIFY row_number() OVER (PARTITION BY provider_id) = 1) v USING (provider_id)' if prov_det else ''}
            ORDER BY 1""")))
        doc_det = "doctors" in have
        doc_ids = ("SELECT doctor_id FROM c WHERE doctor_id IS NOT NULL"
                   + (" UNION SELECT doctor_id FROM doctors" if doc_det and scope == "all" else ""))
        out.nodes.append(NodeSet("Doctor", q(f"""
            SELECT x.doctor_id AS id, {name('d.name') if doc_det else 'NULL'} AS name,
                   {'d.department' if doc_det else 'NULL'} AS department,
                   {score('doctor', 'x.doctor_id')} AS score
            FROM (SELECT DISTINCT doctor_id FROM ({doc_ids}) WHERE {keep('doctor', 'doctor_id')}) x
            {'LEFT JOIN (SELECT * FROM doctors QUALIFY row_number() OVER (PARTITION BY doctor_id) = 1) d USING (doctor_id)' if doc_det else ''}
            ORDER BY 1""")))
        staff_det = "staff" in have
        out.nodes.append(NodeSet("Staff", q(f"""
            SELECT x.staff_id AS id, {name('t.name') if staff_det else 'NULL'} AS name,
                   {'t.office' if staff_det else 'NULL'} AS office,
                   {'t.region' if staff_det else 'NULL'} AS region,
                   {score('staff', 'x.staff_id')} AS score
            FROM (SELECT DISTINCT staff_id FROM c WHERE staff_id IS NOT NULL
                  AND {keep('staff', 'staff_id')}) x
            {'LEFT JOIN (SELECT * FROM staff QUALIFY row_number() OVER (PARTITION BY staff_id) = 1) t USING (staff_id)' if staff_det else ''}
            ORDER BY 1""")))
        both = lambda a, ca, b, cb: f"{keep(a, ca)} AND {keep(b, cb)}"  # noqa: E731
        money = "round(sum(fund_paid), 2)::DOUBLE"
        out.rels.append(RelSet("USES_CARD", "Person", "Card", q(f"""
            SELECT {key('person', 'person_id')} AS start, {key('card', 'card_id')} AS "end",
                   count(*) AS claims, {money} AS fund_paid
            FROM c WHERE person_id IS NOT NULL AND card_id IS NOT NULL
              AND {both('person', 'person_id', 'card', 'card_id')}
            GROUP BY person_id, card_id ORDER BY 1, 2""")))
        out.rels.append(RelSet("VISITED", "Person", "Provider", q(f"""
            SELECT {key('person', 'person_id')} AS start, provider_id AS "end", count(*) AS claims,
                   count(DISTINCT CAST(settled_at AS DATE)) AS days, {money} AS fund_paid,
                   strftime(min(settled_at), '%Y-%m-%d') AS first,
                   strftime(max(settled_at), '%Y-%m-%d') AS last
            FROM c WHERE person_id IS NOT NULL AND provider_id IS NOT NULL
              AND {both('person', 'person_id', 'provider', 'provider_id')}
            GROUP BY person_id, provider_id ORDER BY 1, 2""")))
        if doc_det:
            out.rels.append(RelSet("WORKS_AT", "Doctor", "Provider", q(f"""
                SELECT DISTINCT doctor_id AS start, provider_id AS "end" FROM doctors
                WHERE doctor_id IS NOT NULL AND provider_id IS NOT NULL
                  AND {both('doctor', 'doctor_id', 'provider', 'provider_id')}
                  AND provider_id IN (SELECT provider_id FROM c) ORDER BY 1, 2""")))
        out.rels.append(RelSet("PRESCRIBED_AT", "Doctor", "Provider", q(f"""
            SELECT doctor_id AS start, provider_id AS "end", count(*) AS claims,
                   {money} AS fund_paid
            FROM c WHERE doctor_id IS NOT NULL AND provider_id IS NOT NULL
              AND provider_type = 'pharmacy'
              AND {both('doctor', 'doctor_id', 'provider', 'provider_id')}
            GROUP BY 1, 2 ORDER BY 1, 2""")))
        out.rels.append(RelSet("APPROVED", "Staff", "Provider", q(f"""
            SELECT staff_id AS start, provider_id AS "end", count(*) AS claims,
                   {money} AS fund_paid
            FROM c WHERE staff_id IS NOT NULL AND provider_id IS NOT NULL
              AND {both('staff', 'staff_id', 'provider', 'provider_id')}
            GROUP BY 1, 2 ORDER BY 1, 2""")))
        out.nodes.append(NodeSet("Ring", _rings_table(analysis, red)))
        out.rels.append(RelSet("MEMBER_OF", None, "Ring", _member_table(analysis, red, salt)))
    finally:
        con.close()
    return out


def _keep_null(fn: Callable[[Any], str]) -> Callable[[Any], str | None]:
    return lambda v: None if v is None else fn(v)


def _rings_table(analysis: Analysis, red: Redactor) -> pa.Table:
    rows = []
    for rank, r in enumerate(analysis.rings, 1):
        scrub = red.scrubber((m["kind"], m["id"], None) for m in r["members"])
        period = r.get("period") or [None, None]
        rows.append({
            "id": r["ring_id"], "rank": rank, "score": float(r["score"]),
            "score_raw": float(r.get("score_raw", r["score"])), "patterns": list(r["patterns"]),
            "fund_paid": float(r["fund_paid"]), "claims": int(r["claims"]),
            "period_start": period[0], "period_end": period[1],
            "evidence_groups": [scrub(e["group_id"]) for e in r["evidence"]],
            "evidence_summaries": [scrub(e.get("summary") or "") for e in r["evidence"]],
            "evidence_claim_ids": sorted({c for e in r["evidence"] for c in e["claim_ids"]}),
        })
    schema = pa.schema([("id", pa.string()), ("rank", pa.int64()), ("score", pa.float64()),
                        ("score_raw", pa.float64()), ("patterns", pa.list_(pa.string())),
                        ("fund_paid", pa.float64()), ("claims", pa.int64()),
                        ("period_start", pa.string()), ("period_end", pa.string()),
                        ("evidence_groups", pa.list_(pa.string())),
                        ("evidence_summaries", pa.list_(pa.string())),
                        ("evidence_claim_ids", pa.list_(pa.string()))])
    return pa.Table.from_pylist(rows, schema=schema)


def _member_table(analysis: Analysis, red: Redactor, salt: str) -> pa.Table:
    rows = []
    for r in analysis.rings:
        for m in r["members"]:
            ident = m["id"]
            if red.masked and m["kind"] in ("person", "card"):
                ident = pseudonym(salt, "P" if m["kind"] == "person" else "K", ident)
            rows.append({"start_label": _KIND_LABEL[m["kind"]], "start": ident, "end": r["ring_id"],
                         "role": m.get("role"), "critical": bool(m.get("critical")),
                         "reason": m.get("reason")})
    rows.sort(key=lambda x: (x["end"], x["start_label"], x["start"]))
    schema = pa.schema([("start_label", pa.string()), ("start", pa.string()), ("end", pa.string()),
                        ("role", pa.string()), ("critical", pa.bool_()), ("reason", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)
