"""What a detector is, what it gets, and how it reports evidence.

A detector is a function registered with :func:`register` under a contract pattern name,
with the tables and columns it needs. It receives a :class:`Context` (the engine holding the
canonical tables, its parameters, what the input has) and reports evidence with
:meth:`Context.emit`: three SQL queries, for the evidence groups, their members and the claims
behind them. Evidence stays in the engine (tables ``ev_groups``, ``ev_members``,
``ev_claims``), so a detector's output is never pulled through Python row by row.

Conventions every detector follows:

* work on ``claims_eff``: accepted claims that are not reversals and were not reversed to
  nothing (a reversal nets out its original; see :func:`create_views`);
* a group id is deterministic text made from the group's own data (``P33..:2024-03-05``),
  never from row order or randomness;
* ``strength`` is the detector's own 0..1 confidence in the group;
* summaries come in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphfraud.engine import Engine
from graphfraud.engine import quote_literal as ql

__all__ = ["Requirement", "DetectorSpec", "Context", "REGISTRY", "register", "create_views",
           "EVIDENCE_TABLES", "KINDS"]

#: entity kinds of the contract
KINDS = ("person", "card", "provider", "doctor", "staff")

EVIDENCE_TABLES = {
    "ev_groups": "pattern VARCHAR, group_id VARCHAR, strength DOUBLE, summary_zh VARCHAR, "
                 "summary_en VARCHAR, stats VARCHAR",
    "ev_members": "pattern VARCHAR, group_id VARCHAR, kind VARCHAR, id VARCHAR, role VARCHAR, "
                  "weight DOUBLE",
    "ev_claims": "pattern VARCHAR, group_id VARCHAR, claim_id VARCHAR",
}


@dataclass(frozen=True)
class Requirement:
    """A table and the columns of it (beyond its key) that must hold values."""

    table: str
    columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.table}({', '.join(self.columns)})" if self.columns else self.table


@dataclass(frozen=True)
class DetectorSpec:
    """A registered detector."""

    name: str
    run: Callable[[Context], None]
    requires: tuple[Requirement, ...]
    description_zh: str
    description_en: str
    #: detectors whose evidence this one reads (they run first)
    after: tuple[str, ...] = ()


REGISTRY: dict[str, DetectorSpec] = {}


def register(name: str, *, requires: tuple[Requirement, ...] = (), zh: str, en: str,
             after: tuple[str, ...] = ()) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register a detector under a contract pattern name.

    Examples
    --------
    >>> @register("example_pattern", requires=(Requirement("claims", ("card_id",)),),
    ...           zh="示例", en="example")                          # doctest: +SKIP
    ... def example(ctx): ...
    """

    def decorate(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        if name in REGISTRY:
            raise ValueError(f"detector {name!r} is registered twice")
        REGISTRY[name] = DetectorSpec(name, fn, tuple(requires), zh, en, tuple(after))
        return fn

    return decorate


@dataclass
class Context:
    """What a detector gets: the engine, its parameters, and what the input holds."""

    engine: Engine
    pattern: str
    params: dict[str, Any]
    #: table -> canonical columns that hold at least one value
    available: dict[str, set[str]]
    seed: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def has(self, table: str, *columns: str) -> bool:
        """Whether ``table`` was loaded and each of ``columns`` holds values."""
        return table in self.available and all(c in self.available[table] for c in columns)

    def p(self, name: str) -> Any:
        """A parameter of this detector (defaults in ``graphfraud/detectors.yaml``)."""
        return self.params[name]

    def emit(self, groups_sql: str, members_sql: str, claims_sql: str) -> int:
        """Add evidence: three queries over the engine's tables.

        ``groups_sql`` yields ``group_id, strength, summary_zh, summary_en, stats`` (stats a JSON
        text or NULL); ``members_sql`` yields ``group_id, kind, id, role, weight`` (role may be
        NULL; weight, the member's share in the group, 0..1); ``claims_sql`` yields
        ``group_id, claim_id``. Rows of members and claims whose group is not in groups are
        dropped. Returns the number of groups added.
        """
        e, pat = self.engine, ql(self.pattern)
        e.execute(f"CREATE OR REPLACE TEMP TABLE _ev_g AS SELECT * FROM ({groups_sql})")
        # strengths and weights to 9 decimals: engines that add up in another order differ in
        # the last bits of a double, and the evidence must not depend on the engine
        e.execute(f"INSERT INTO ev_groups SELECT {pat}, group_id, "
                  f"round(least(greatest(strength, 0), 1), 9), summary_zh, summary_en, stats FROM _ev_g")
        e.execute(f"INSERT INTO ev_members SELECT DISTINCT {pat}, m.group_id, m.kind, m.id, m.role, "
                  f"round(m.weight, 9) FROM ({members_sql}) m SEMI JOIN _ev_g g ON g.group_id = m.group_id "
                  f"WHERE m.id IS NOT NULL")
        e.execute(f"INSERT INTO ev_claims SELECT DISTINCT {pat}, c.group_id, c.claim_id FROM "
                  f"({claims_sql}) c SEMI JOIN _ev_g g ON g.group_id = c.group_id "
                  f"WHERE c.claim_id IS NOT NULL")
        added = int(e.scalar("SELECT count(*) FROM _ev_g"))
        e.execute("DROP TABLE _ev_g")
        self.counts["groups"] = self.counts.get("groups", 0) + added
        return added


def create_views(engine: Engine, available: dict[str, set[str]]) -> None:
    """The evidence tables and the shared views every detector works on.

    ``claims_eff``: accepted claims that are not reversals (negative ``total_amount``) and were
    not cancelled by a reversal. A reversal cancels the claim its ``orig_claim_id`` names or,
    without one, the positive claim of the same visit (or person, provider and amount) it
    follows. ``service_date``: the discharge date of an inpatient stay, else the settlement day.
    """
    for name, columns in EVIDENCE_TABLES.items():
        engine.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
    has_orig = "orig_claim_id" in available.get("claims", set())
    has_visit = "visit_id" in available.get("claims", set())
    # equi-joins only (an OR in a join condition would compare every pair)
    rev = "(SELECT * FROM canon_claims WHERE total_amount < 0)"
    pos = "(SELECT * FROM canon_claims WHERE total_amount > 0)"
    ways = []
    if has_orig:
        ways.append(f"SELECT r.claim_id AS reversal_id, c.claim_id, 1 AS how FROM {rev} r "
                    f"JOIN {pos} c ON c.claim_id = r.orig_claim_id")
    if has_visit:
        ways.append(f"SELECT r.claim_id AS reversal_id, c.claim_id, 2 AS how FROM {rev} r JOIN {pos} c "
                    "ON c.visit_id = r.visit_id AND c.total_amount = -r.total_amount")
    ways.append(f"SELECT r.claim_id AS reversal_id, c.claim_id, 3 AS how FROM {rev} r JOIN {pos} c ON "
                "c.person_id = r.person_id AND c.provider_id = r.provider_id AND "
                "c.total_amount = -r.total_amount AND c.settled_at <= r.settled_at")
    engine.execute(
        "CREATE OR REPLACE TABLE reversal_of AS SELECT reversal_id, "
        "arg_min(claim_id, (how, claim_id)) AS claim_id FROM (" + " UNION ALL ".join(ways) + ") "
        "GROUP BY reversal_id")
    engine.execute(
        "CREATE OR REPLACE VIEW claims_eff AS SELECT c.*, "
        "CAST(coalesce(CASE WHEN c.visit_type = 'inpatient' THEN c.discharge_date END, "
        "CAST(c.settled_at AS DATE)) AS DATE) AS service_date FROM canon_claims c "
        # an anti-join, not NOT IN (SELECT …): NOT IN must look for NULLs (a mark join in
        # DuckDB, a null-aware join in Spark) and the view is read by every detector
        "ANTI JOIN reversal_of r ON r.claim_id = c.claim_id WHERE c.total_amount >= 0")
