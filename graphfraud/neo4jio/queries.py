"""The saved investigator queries (``queries.cypher``, printed by ``graphfraud neo4j queries``).

The pack is one ``.cypher`` file that Neo4j Browser and ``cypher-shell`` read as it is. Each query
starts with a header of comment lines::

    // name: ring_members
    // params: $ring_id
    // zh: 团伙的全部成员……
    // en: A ring's members……
    MATCH ... ;

and ends with ``;``. Values are always parameters: :func:`load_queries` checks that the
``$names`` a query uses are exactly those of its ``params`` line and that it holds no quoted
literal.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from graphfraud.errors import GraphFraudError

__all__ = ["Query", "load_queries", "query_pack_text", "get_query", "PACK"]

PACK = "queries.cypher"
_HEADER = re.compile(r"^//\s*(name|params|zh|en):\s*(.*?)\s*$")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Query:
    """One saved query: its name, parameters (without ``$``), descriptions and Cypher (no ``;``)."""

    name: str
    params: tuple[str, ...]
    description_zh: str
    description_en: str
    cypher: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (``params`` as a list)."""
        d = asdict(self)
        d["params"] = list(self.params)
        return d


def query_pack_text() -> str:
    """The pack file as shipped, for printing or saving as ``graphfraud.cypher``."""
    return (resources.files("graphfraud.neo4jio") / PACK).read_text(encoding="utf-8")


def load_queries(text: str | None = None) -> list[Query]:
    """The queries of the pack (or of ``text`` in the same format), in file order."""
    text = query_pack_text() if text is None else text
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("// name:"):
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    out: list[Query] = []
    for block in blocks:
        out.append(_parse(block))
    names = [q.name for q in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise GraphFraudError(f"{PACK}: queries named twice: {', '.join(dupes)}")
    return out


def get_query(name: str) -> Query:
    """The query called ``name``."""
    for q in load_queries():
        if q.name == name:
            return q
    raise GraphFraudError(f"no query {name!r} in {PACK}; there are: "
                          + ", ".join(q.name for q in load_queries()))


def _parse(block: list[str]) -> Query:
    fields: dict[str, str] = {}
    i = 0
    while i < len(block) and block[i].startswith("//"):
        m = _HEADER.match(block[i])
        if m:
            fields[m.group(1)] = m.group(2)
        i += 1
    name = fields.get("name", "?")
    where = f"{PACK}, query {name!r}"
    missing = [k for k in ("name", "params", "zh", "en") if not fields.get(k)]
    if missing:
        raise GraphFraudError(f"{where}: no {', '.join(missing)} line in its header")
    if not _NAME.match(name):
        raise GraphFraudError(f"{where}: a name is lower-case letters, digits and _")
    body = "\n".join(line.rstrip() for line in block[i:]).strip()
    if not body.endswith(";") or body.count(";") != 1:
        raise GraphFraudError(f"{where}: the Cypher must be one statement ending with ';'")
    cypher = body[:-1].rstrip()
    if any(line.lstrip().startswith("//") for line in cypher.splitlines()):
        raise GraphFraudError(f"{where}: comments belong in the header, not in the Cypher")
    if "'" in cypher or '"' in cypher:
        raise GraphFraudError(f"{where}: quoted literal in the Cypher; use a parameter")
    declared = [p.strip() for p in fields["params"].split(",") if p.strip()]
    if any(not p.startswith("$") for p in declared):
        raise GraphFraudError(f"{where}: write the params as $name, $other")
    params = tuple(p[1:] for p in declared)
    used = set(_PARAM.findall(cypher))
    if used != set(params):
        raise GraphFraudError(f"{where}: the Cypher uses {sorted(used)} but the header declares "
                              f"{sorted(params)}")
    return Query(name, params, fields["zh"], fields["en"], cypher)
