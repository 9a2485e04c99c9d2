"""Validation as SQL: raw text columns in, typed canonical columns and reasons out.

:func:`checked_sql` builds one query over a raw table (``_row`` plus the file's columns as
text) that yields every canonical column typed, ``source_row``, and ``_problems``: the list
of everything wrong with the row (empty when it is fine). All problems of a row are
collected, never only the first. The SQL is DuckDB's dialect (see :mod:`graphfraud.engine`).
"""

from __future__ import annotations

from graphfraud.engine import quote_ident as qi
from graphfraud.engine import quote_literal as ql
from graphfraud.loaders import schema as S
from graphfraud.loaders.headers import ColumnMatch
from graphfraud.loaders.schema import TableSpec

__all__ = ["checked_sql", "blank_sql", "orphans_sql", "provider_lookups_sql", "CANONICAL_TYPES", "MISSING_ID_TOKENS", "DATE_FORMS"]

#: strings that mean "no value" in an id column (pandas/R/Excel leftovers): never an entity
MISSING_ID_TOKENS = ("nan", "na", "n/a", "#n/a", "none", "null", "nat", "<na>", "nil", "-", "--")
DATE_FORMS = "2024-03-01, 2024/3/1, 20240301, 2024年3月1日 (time optional), or an Excel serial"

#: SQL type of each canonical column type
CANONICAL_TYPES = {
    S.TEXT: "VARCHAR", S.ID: "VARCHAR", S.DATETIME: "TIMESTAMP", S.DATE: "DATE",
    S.DECIMAL: "DECIMAL(18,2)", S.INTEGER: "BIGINT", S.VISIT_TYPE: "VARCHAR",
    S.PROVIDER_TYPE: "VARCHAR", S.OWNERSHIP: "VARCHAR", S.GENDER: "VARCHAR",
    S.LEVEL: "INTEGER", S.BOOLEAN: "BOOLEAN",
}

# value -> canonical value; matched on lower(trim(x)). Free forms handled by patterns below.
_VISIT_TYPES = {
    "outpatient": "outpatient", "门诊": "outpatient", "普通门诊": "outpatient",
    "急诊": "outpatient", "emergency": "outpatient", "门诊慢特病": "outpatient",
    "inpatient": "inpatient", "住院": "inpatient", "普通住院": "inpatient",
    "pharmacy": "pharmacy", "药店购药": "pharmacy", "定点药店购药": "pharmacy", "购药": "pharmacy",
}
_PROVIDER_TYPES = {
    "hospital": "hospital", "医院": "hospital", "卫生院": "hospital",
    "clinic": "clinic", "诊所": "clinic", "卫生室": "clinic", "门诊部": "clinic",
    "pharmacy": "pharmacy", "药店": "pharmacy", "药房": "pharmacy", "零售药店": "pharmacy",
}
_OWNERSHIP = {"public": "public", "公立": "public", "公办": "public", "政府办": "public",
              "private": "private", "民营": "private", "私立": "private", "民办": "private",
              "社会办": "private"}
_GENDER = {"male": "male", "m": "male", "男": "male", "1": "male",
           "female": "female", "f": "female", "女": "female", "2": "female",
           "unknown": "unknown", "未知": "unknown", "0": "unknown", "9": "unknown",
           "未说明": "unknown", "未说明的性别": "unknown"}
_BOOLEAN = {"1": True, "0": False, "true": True, "false": False, "t": True, "f": False,
            "yes": True, "no": False, "y": True, "n": False, "是": True, "否": False}


def _case(x: str, table: dict, patterns: tuple[tuple[str, str], ...] = ()) -> str:
    whens = [f"WHEN {ql(k)} THEN {ql(v) if isinstance(v, str) else str(v).upper()}"
             for k, v in table.items()]
    whens += [f"WHEN regexp_matches(lower({x}), {ql(p)}) THEN {ql(v)}" for p, v in patterns]
    return f"(CASE lower({x}) {' '.join(whens[:len(table)])} ELSE " \
           f"(CASE {' '.join(whens[len(table):]) or 'WHEN FALSE THEN NULL'} END) END)"


def _visit_type(x: str) -> str:
    # National platform med_type codes: 1x outpatient, 2x inpatient, 41 pharmacy, 51/52
    # maternity outpatient/inpatient; Chinese free forms by keyword.
    return _case(x, _VISIT_TYPES, (
        ("住院", "inpatient"), ("药店|购药|药房", "pharmacy"), ("门诊|急诊|门特|慢特|慢病", "outpatient"),
        ("^(1[0-9]{1,5}|51[0-9]{0,4})$", "outpatient"), ("^(2[0-9]{1,5}|52[0-9]{0,4})$", "inpatient"),
        ("^41[0-9]{0,4}$", "pharmacy")))


def _provider_type(x: str) -> str:
    return _case(x, _PROVIDER_TYPES, (("药", "pharmacy"), ("诊所|卫生室|门诊部|服务站|医务室", "clinic"),
                                      ("医院|卫生院|中心", "hospital")))


def _level(x: str) -> str:
    return (f"(CASE WHEN regexp_matches({x}, '^(3|三)') THEN 3 WHEN regexp_matches({x}, '^(2|二)') "
            f"THEN 2 WHEN regexp_matches({x}, '^(1|一)') THEN 1 END)")


_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S.%f",
                     "%Y%m%d", "%Y%m%d%H%M%S")


def _datetime(x: str) -> str:
    """A timestamp from the trimmed text ``x`` in any of the contract's date forms, else NULL.

    The text is tried as it is in the two common ISO forms first. Only when that fails are
    年/月/日, '/' and 'T' normalised to '-', '-', '', '-', ' ' and every form (and the Excel
    serial) tried: that normalisation costs more than the parse itself. Both paths agree
    (a text that parses as ``%Y-%m-%d[ %H:%M:%S]`` holds none of the normalised characters,
    so normalising it changes nothing), only the common case is cheaper.
    """
    common = ", ".join(ql(f) for f in _DATETIME_FORMATS[:2])
    every = ", ".join(ql(f) for f in _DATETIME_FORMATS)
    d = _date_text(x)
    return (
        f"coalesce(try_strptime({x}, [{common}]), try_strptime({d}, [{every}]), "
        f"CASE WHEN TRY_CAST({d} AS DOUBLE) BETWEEN 10000 AND 99999.99999 THEN "
        f"TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(CAST({d} AS DOUBLE) * 86400000000) "
        f"AS BIGINT)) END)"
    )


def _date_text(x: str) -> str:
    return (f"replace(replace(replace(replace(replace({x}, '年', '-'), '月', '-'), '日', ''), "
            f"'/', '-'), 'T', ' ')")


def _decimal(x: str) -> str:
    """A decimal from the trimmed text ``x``; ',', '¥', '￥' and '元' are dropped.

    A text holding any of those never casts as it is, so the plain cast is tried first and
    the cleaning (four string copies) is paid only by the rows that need it.
    """
    clean = f"replace(replace(replace(replace({x}, ',', ''), '¥', ''), '￥', ''), '元', '')"
    return f"coalesce(TRY_CAST({x} AS DECIMAL(18,2)), TRY_CAST({clean} AS DECIMAL(18,2)))"


#: a superset of the code points that DuckDB's ``trim(x)`` removes (the Unicode space
#: separators: U+0020, U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000)
_SPACE_EDGE = "{c} = 32 OR {c} = 160 OR {c} BETWEEN 5760 AND 12288"
#: what ids lose at their ends: ASCII white space, U+3000 and a stray BOM
_ID_TRIM = " \t\r\n\u3000\ufeff"
#: a superset of those code points
_ID_EDGE = "{c} <= 32 OR {c} = 12288 OR {c} = 65279"


def _trimmed(x: str, first: str, last: str, chars: str | None = None) -> str:
    """``trim(x)`` (``trim(x, chars)``), computed only when an end of ``x`` may be trimmed.

    ``first`` and ``last`` are the code points at the ends of ``x`` (``ord(x)``,
    ``ord(x[-1])``, computed once each). Nearly no cell has white space at its ends: testing
    them costs a fraction of ``trim``, which copies every string. The test may let through a
    cell with nothing to trim (``trim`` then returns it unchanged), never the other way round.
    Plain comparisons, not ``IN`` lists: DuckDB turns a long ``IN`` list into a join.
    """
    edge = _SPACE_EDGE if chars is None else _ID_EDGE
    trim = f"trim({x})" if chars is None else f"trim({x}, {ql(chars)})"
    return (f"(CASE WHEN {edge.format(c=first)} OR {edge.format(c=last)} THEN {trim} "
            f"ELSE {x} END)")


def _typed(col: S.ColumnSpec, x: str) -> str:
    t = col.type
    if t in (S.TEXT, S.ID):
        return x
    if t == S.DATETIME:
        return _datetime(x)
    if t == S.DATE:
        return f"CAST({_datetime(x)} AS DATE)"
    if t == S.DECIMAL:
        return _decimal(x)
    if t == S.INTEGER:
        return f"TRY_CAST({x} AS BIGINT)"
    if t == S.VISIT_TYPE:
        return _visit_type(x)
    if t == S.PROVIDER_TYPE:
        return _provider_type(x)
    if t == S.OWNERSHIP:
        return _case(x, _OWNERSHIP, (("公", "public"), ("民|私|个体", "private")))
    if t == S.GENDER:
        return _case(x, _GENDER)
    if t == S.LEVEL:
        return _level(x)
    if t == S.BOOLEAN:
        return _case(x, _BOOLEAN)
    raise ValueError(f"unknown column type {t}")


_EXPECT = {
    S.DATETIME: f"is not a date and time (use {DATE_FORMS})",
    S.DATE: f"is not a date (use {DATE_FORMS})",
    S.DECIMAL: "is not a number (use digits with an optional '.' and '-')",
    S.INTEGER: "is not a whole number",
    S.VISIT_TYPE: "is not a visit type (outpatient/门诊, inpatient/住院, pharmacy/药店购药, or a "
                  "national med_type code)",
    S.PROVIDER_TYPE: "is not a provider type (hospital/医院, clinic/诊所, pharmacy/药店)",
    S.OWNERSHIP: "is not an ownership (public/公立, private/民营)",
    S.GENDER: "is not a gender (男/女, male/female, 1/2)",
    S.LEVEL: "is not a hospital level (1/2/3, 一级/二级/三级)",
    S.BOOLEAN: "is not yes/no (是/否, 1/0, true/false)",
}


def _shown(value: str) -> str:
    return f"'''' || left({value}, 60) || ''''"


def blank_sql(width: int) -> str:
    """SQL that is true for a raw row (``c0..c{width-1}``) with nothing but spaces in it.

    The first test (``c0`` empty or starting with a space) is cheap and false for nearly
    every row; DuckDB evaluates the trims after it only for the rows it lets through.
    """
    first = _SPACE_EDGE.format(c="ord(c0)")
    empty = " AND ".join(f"coalesce(trim(c{i}), '') = ''" for i in range(width))
    return f"(c0 IS NULL OR c0 = '' OR {first}) AND {empty}"


def checked_sql(spec: TableSpec, match: ColumnMatch, raw_table: str,
                lookups: dict[str, str] | None = None, *, control_chars: bool = True,
                undecodable: bool = True, spaces: bool = True) -> str:
    """SQL yielding the typed canonical columns, ``source_row`` and ``_problems`` of each row.

    Parameters
    ----------
    spec, match
        The table and how the file's columns map to it.
    raw_table
        Table with ``_row`` and ``c0..cN`` text columns.
    lookups
        Names of already-accepted canonical tables this one checks against: ``providers``
        for the provider types of claims (a join). Items are checked against ``claims``
        afterwards, by :func:`orphans_sql`, so that this query has no join and keeps the
        rows in file order.
    control_chars, undecodable, spaces
        Whether the values may hold control characters, U+FFFD (the mark of bytes not valid
        in the file's encoding), or white space at their ends. A reader that has seen every
        byte of the file and found none passes False, and the checks or trims that could not
        change anything are left out.
    """
    levels, problems = _levels(spec, match, raw_table, control_chars=control_chars,
                               undecodable=undecodable, spaces=spaces)
    extra_cols, extra_problems, joins = _table_rules(spec, lookups or {})
    problems += extra_problems
    # canonical columns in contract order; a table rule may supply a column's final value
    # (``_provider_type`` for claims) and add derived ones (``emergency``, ``transfer``)
    overrides = {c.rsplit(" AS ", 1)[1] for c in extra_cols}
    final = [f"{qi('_' + c.name)} AS {qi(c.name)}" if "_" + c.name in overrides else qi(c.name)
             for c in spec.columns]
    final += [o for o in sorted(overrides) if not o.startswith("_")]
    # Each problem is NULL for a row without it. Nearly every row has none: those rows get
    # an empty list without building and filtering a list of NULLs (the costly part).
    every = ", ".join(problems)
    checked = (f"CASE WHEN coalesce({every}) IS NULL THEN CAST([] AS VARCHAR[]) "
               f"ELSE list_filter([{every}], lambda p: p IS NOT NULL) END")
    return (
        f"{levels}, "
        f"l3 AS (SELECT l2.*{''.join(', ' + c for c in extra_cols)}, {checked} AS _problems "
        f"FROM l2 {joins}) "
        f"SELECT {', '.join(final)}, source_row, _problems FROM l3"
    )


def provider_lookups_sql(spec: TableSpec, match: ColumnMatch, raw_table: str, *,
                         spaces: bool = True) -> str | None:
    """SQL counting the claims whose provider type must come from the providers table.

    Those with a provider id and no provider type of their own. When there are none, the
    claims need no join with the providers table (a join does not keep the file order).
    """
    if spec.name != "claims":
        return None
    levels, _ = _levels(spec, match, raw_table, control_chars=False, undecodable=False,
                        spaces=spaces)
    return f"{levels} SELECT count(*) FROM l2 WHERE provider_type IS NULL AND provider_id IS NOT NULL"


#: the items' rule after the claim check (the problems keep the order of the rules)
_TRACE_RULE = ("CASE WHEN l2.trace_code IS NOT NULL AND NOT regexp_full_match(l2.trace_code, "
               "'[0-9]{20}') THEN 'trace_code ''' || left(l2.trace_code, 40) || ''' is not "
               "a 20-digit traceability code' END")


def orphans_sql(spec: TableSpec, checked_table: str, lookups: dict[str, str]) -> str | None:
    """SQL yielding the checked items of no accepted claim: ``source_row`` and all problems.

    The claim check runs here rather than in :func:`checked_sql`: an anti-join over the
    claim ids alone, where a join inside the checked query would carry every item through
    it and lose the file order. The problem goes where its rule stands among the rules,
    before the ones after it (the trace code).
    """
    if spec.name != "items" or "claims" not in lookups:
        return None
    message = ("'claim_id ''' || l2.claim_id || ''' is not an accepted claim "
               "(see rejected/claims.csv)'")
    cut = f"len(_problems) - len(list_filter([{_TRACE_RULE}], lambda p: p IS NOT NULL))"
    return (f"SELECT source_row, list_concat(_problems[1:{cut}], [{message}], "
            f"_problems[{cut} + 1:]) AS _problems FROM {qi(checked_table)} AS l2 "
            f"WHERE l2.claim_id IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {qi(lookups['claims'])} c WHERE c.claim_id = l2.claim_id)")


def _levels(spec: TableSpec, match: ColumnMatch, raw_table: str, *, control_chars: bool,
            undecodable: bool, spaces: bool = True) -> tuple[str, list[str]]:
    """The CTEs up to ``l2`` (typed columns) and the per-column problems of each row."""
    # ids lose exotic white space too (tab, U+3000, BOM); other values only spaces (cheaper)
    used = sorted({match.index[c.name] for c in spec.columns if c.name in match.index})
    ends = ["_row"] + [f"c{i}" + (f", ord(c{i}) AS f{i}, ord(c{i}[-1]) AS e{i}" if spaces else "")
                       for i in used]
    level0 = ["_row"]
    for c in spec.columns:
        if c.name in match.index:
            i = match.index[c.name]
            cell = (_trimmed(f"c{i}", f"f{i}", f"e{i}", _ID_TRIM if c.type == S.ID else None)
                    if spaces else f"c{i}")
            level0.append(f"NULLIF({cell}, '') AS {qi('t_' + c.name)}")
    level1 = ["_row AS source_row"]
    tokens = " ".join(f"WHEN {ql(t)} THEN NULL" for t in MISSING_ID_TOKENS)
    longest = max(len(t) for t in MISSING_ID_TOKENS)
    for col in spec.columns:
        if col.name in match.index:
            x = qi("t_" + col.name)
            if col.type == S.ID:
                # a CASE, not an IN list: DuckDB would join every row against the list
                # (strlen: bytes, no decoding; every token is ASCII)
                x = (f"(CASE WHEN strlen({x}) <= {longest} THEN (CASE lower({x}) {tokens} "
                     f"ELSE {x} END) ELSE {x} END)")
            level1.append(f"{x} AS {qi('x_' + col.name)}")
        else:
            level1.append(f"CAST(NULL AS VARCHAR) AS {qi('x_' + col.name)}")
    values, problems = [], []
    id_checks: list[tuple[str, str]] = []
    for col in spec.columns:
        x = qi("x_" + col.name)
        typed = _typed(col, x) if col.name in match.index else "NULL"
        values.append(f"CAST({typed} AS {CANONICAL_TYPES[col.type]}) AS {qi(col.name)}")
        label = col.name if col.name not in match.source or match.source[col.name] == col.name \
            else f"{col.name} ({match.source[col.name]})"
        if col.required:
            problems.append(f"CASE WHEN {x} IS NULL THEN {ql(label + ' is empty')} END")
        if col.type == S.ID:
            if col.name in match.index:
                id_checks.append((x, label))
        elif col.type in _EXPECT and col.name in match.index:
            problems.append(f"CASE WHEN {x} IS NOT NULL AND {qi(col.name)} IS NULL THEN "
                            f"{ql(label + ': ')} || {_shown(x)} || {ql(' ' + _EXPECT[col.type])} END")
        if col.type in (S.DATE, S.DATETIME) and col.name in match.index:
            problems.append(f"CASE WHEN year({qi(col.name)}) NOT BETWEEN 1900 AND 2100 THEN "
                            f"{ql(label + ': ')} || {_shown(x)} || ' is outside the years 1900-2100' END")
        if col.name in match.index and undecodable:
            problems.append(f"CASE WHEN contains({x}, '\ufffd') THEN "
                            f"{ql(label + ' has bytes that are not valid in the file encoding; use --encoding')} END")
    if id_checks and control_chars:
        # one regular expression per row over all id columns; per column only when it matches
        joined = "concat(" + ", ".join(x for x, _ in id_checks) + ")"
        for x, label in id_checks:
            problems.append(f"CASE WHEN regexp_matches({joined}, '[\\x00-\\x1f]') AND "
                            f"regexp_matches({x}, '[\\x00-\\x1f]') THEN "
                            f"{ql(label + ' contains a line break or control character')} END")
    levels = (
        f"WITH ends AS (SELECT {', '.join(ends)} FROM {qi(raw_table)}), "
        f"l0 AS (SELECT {', '.join(level0)} FROM ends), "
        f"l1 AS (SELECT {', '.join(level1)} FROM l0), "
        f"l2 AS (SELECT l1.*, {', '.join(values)} FROM l1)"
    )
    return levels, problems


def _table_rules(spec: TableSpec, lookups: dict[str, str]) -> tuple[list[str], list[str], str]:
    """Columns, problems and joins particular to one table."""
    cols: list[str] = []
    problems: list[str] = []
    joins = ""
    if spec.name == "claims":
        known = "NULL"
        if "providers" in lookups:
            joins = (f"LEFT JOIN (SELECT provider_id AS _pid, provider_type AS _ptype FROM "
                     f"{qi(lookups['providers'])}) pv ON pv._pid = l2.provider_id")
            known = "pv._ptype"
        inferred = ("CASE upper(left(l2.provider_id, 1)) WHEN 'H' THEN 'hospital' "
                    "WHEN 'P' THEN 'pharmacy' END")
        cols += [
            f"coalesce(l2.provider_type, {known}, {inferred}) AS _provider_type",
            "(x_visit_type IS NOT NULL AND (regexp_matches(lower(x_visit_type), '急诊|emergency') "
            "OR regexp_matches(x_visit_type, '^(13|24)[0-9]{0,4}$'))) AS emergency",
            "(x_visit_type IS NOT NULL AND (regexp_matches(lower(x_visit_type), '转院|转外|转诊|transfer') "
            "OR regexp_matches(x_visit_type, '^23[0-9]{0,4}$'))) AS transfer",
            "x_visit_type AS visit_type_raw",
        ]
        problems += [
            f"CASE WHEN l2.provider_id IS NOT NULL AND coalesce(l2.provider_type, {known}, {inferred}) "
            "IS NULL AND x_provider_type IS NULL THEN 'provider_type is empty and cannot be inferred "
            "from provider_id ''' || l2.provider_id || ''' (H... hospital, P... pharmacy); add "
            "provider_type or a providers table' END",
            "CASE WHEN abs(l2.fund_paid) > abs(l2.total_amount) + 0.01 THEN 'fund_paid ' || "
            "l2.fund_paid || ' exceeds total_amount ' || l2.total_amount END",
            "CASE WHEN l2.fund_paid * l2.total_amount < 0 THEN 'fund_paid and total_amount have "
            "opposite signs (a reversal has both negative)' END",
            "CASE WHEN l2.discharge_date < l2.admit_date THEN 'discharge_date ' || l2.discharge_date "
            "|| ' is before admit_date ' || l2.admit_date END",
        ]
    if spec.name == "items":  # the claim check comes first: see orphans_sql
        problems.append(_TRACE_RULE)
    if spec.name == "persons":
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        total = " + ".join(f"TRY_CAST(substr(l2.id_number, {i + 1}, 1) AS INTEGER) * {w}"
                           for i, w in enumerate(weights))
        problems += [
            "CASE WHEN l2.id_number IS NOT NULL AND NOT regexp_full_match(l2.id_number, "
            "'[0-9]{17}[0-9Xx]') THEN 'id_number must be 18 characters: 17 digits and a digit or X' "
            f"WHEN l2.id_number IS NOT NULL AND substr('10X98765432', (({total}) % 11) + 1, 1) "
            "<> upper(substr(l2.id_number, 18, 1)) THEN 'id_number fails the GB 11643 check digit' END",
            "CASE WHEN l2.death_date < l2.birth_date THEN 'death_date is before birth_date' END",
        ]
    return cols, problems, joins
