"""Claims loaders (``graphfraud.loaders``): exports in, canonical tables out, no row lost.

:func:`load` reads a claims folder (or a single claims file) per the data contract §1 into
canonical tables held by the engine (``canon_<table>``) and written as Parquet
(``data/<table>.parquet``); every row that is not accepted is written unchanged, with the
reason, to ``rejected/<table>.csv``. For every table, rows read = accepted + rejected.

Examples
--------
>>> from graphfraud.loaders import load                                  # doctest: +SKIP
>>> result = load("claims_export/", "work/")                             # doctest: +SKIP
>>> s = result.tables["claims"]                                          # doctest: +SKIP
>>> s.read == s.accepted + s.rejected                                     # doctest: +SKIP
True
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from graphfraud.engine import DuckDBEngine, Engine
from graphfraud.engine import quote_ident as qi
from graphfraud.engine import quote_literal as ql
from graphfraud.errors import GraphFraudError, InputError
from graphfraud.loaders.headers import load_mapping, match_columns, missing_column_message
from graphfraud.loaders.scan import Scanner
from graphfraud.loaders.schema import TABLES, TableSpec
from graphfraud.loaders.sources import SourceReader, discover
from graphfraud.loaders.validate import (blank_sql, checked_sql, orphans_sql,
                                          provider_lookups_sql)

__all__ = ["load", "LoadResult", "TableStats", "InputRecord"]


@dataclass
class TableStats:
    """Accounting for one table: ``read == accepted + rejected``."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    blank_lines: int = 0
    file: str = ""
    rejected_file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)


@dataclass
class InputRecord:
    """One input file as the manifest records it."""

    table: str
    file: str
    format: str
    bytes: int
    sha256: str
    encoding: str | None = None


@dataclass
class LoadResult:
    """What :func:`load` did: per-table accounting, the inputs and the report's notes."""

    tables: dict[str, TableStats]
    inputs: list[InputRecord]
    notes: list[str]
    ignored_files: list[str]
    seconds: float

    def to_dict(self) -> dict:
        return {
            "inputs": [asdict(i) for i in self.inputs],
            "tables": {k: asdict(v) for k, v in self.tables.items()},
            "ignored_files": self.ignored_files,
            "notes": self.notes,
        }


def load(input_path: str | Path, out_dir: str | Path, *, engine: Engine | None = None,
         encoding: str | None = None, mapping: str | Path | None = None) -> LoadResult:
    """Load a claims folder or file into canonical tables.

    Parameters
    ----------
    input_path
        A folder of ``<table>.<ext>`` files or a single claims file (contract §1).
    out_dir
        Folder that receives ``data/<table>.parquet`` and ``rejected/<table>.csv``.
    engine
        Engine that keeps the canonical tables (``canon_<table>``) for the analysis; a
        temporary DuckDB engine when omitted.
    encoding
        Force the text encoding of CSV files (default: detect UTF-8 or GB18030).
    mapping
        YAML file ``table: {source_column: canonical_column}``.

    Raises
    ------
    InputError
        Input that cannot be read at all: every such problem is listed, each naming the file,
        the column and what to do.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    files, ignored = discover(Path(input_path))
    column_maps = load_mapping(mapping)
    readers: dict[str, SourceReader] = {}
    problems: list[str] = []
    for f in files:
        try:
            readers[f.table] = SourceReader(f, encoding=encoding)
        except InputError as exc:
            problems.extend(exc.problems or [str(exc)])
    matches = {}
    for table, reader in readers.items():
        spec = TABLES[table]
        match = match_columns(spec, reader.headers, column_maps.get(table))
        missing = [c.name for c in spec.required_columns if c.name not in match.index]
        problems += missing_column_message(spec, reader.file.path, reader.headers, missing)
        matches[table] = match
    if problems:
        raise InputError(problems[0] if len(problems) == 1 else
                         f"{len(problems)} problems:\n  " + "\n  ".join(problems), problems)

    own_engine = engine is None
    if engine is None:
        engine = DuckDBEngine(temp_dir=out_dir / ".spill")
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    (out_dir / "rejected").mkdir(parents=True, exist_ok=True)
    stats: dict[str, TableStats] = {}
    inputs: list[InputRecord] = []
    notes: list[str] = []
    order = _load_order(readers)
    # hashes and byte facts, one pass per file, a table ahead of the loading
    scanner = Scanner([(t, readers[t].file.path, readers[t].file.format) for t in order])
    try:
        for table in order:
            reader, match = readers[table], matches[table]
            spec = TABLES[table]
            lookups: dict[str, str] = {t: f"canon_{t}" for t in ("claims", "providers")
                                       if t in stats}
            reader.facts = scanner.facts(table)
            with _insertion_order(engine):  # file order throughout: the Parquet needs no sort
                stats[table] = _load_table(engine, spec, reader, match, out_dir, lookups)
            notes += match.notes
            if match.unknown:
                notes.append(f"{table}: columns not used by the analysis: "
                             + ", ".join(repr(u) for u in match.unknown))
            inputs.append(InputRecord(table, reader.file.path.name, reader.file.format,
                                      reader.file.path.stat().st_size,
                                      reader.facts.sha256, reader.encoding))
    except GraphFraudError:
        raise
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{input_path}: reading failed: {exc}") from exc
    finally:
        scanner.close()
        if own_engine:  # a caller's engine may still be spilling there
            engine.close()
            shutil.rmtree(out_dir / ".spill", ignore_errors=True)
    if ignored:
        notes.append("files ignored (not a contract table): " + ", ".join(ignored))
    return LoadResult(stats, inputs, notes, ignored, round(time.perf_counter() - started, 3))


def _load_order(readers: dict[str, SourceReader]) -> list[str]:
    # providers first (claims infer provider types from it), claims before items
    order = ["providers", "persons", "doctors", "staff", "claims", "items"]
    return [t for t in order if t in readers]


def _load_table(engine: Engine, spec: TableSpec, reader: SourceReader, match,
                out_dir: Path, lookups: dict[str, str]) -> TableStats:
    """One table: raw text → typed rows with their problems → canonical table + rejected CSV.

    The raw text is kept only until the rejected rows are written; the checked table then
    becomes the canonical one in place (no copy), which keeps 10M-row loads inside memory, and
    is read back from its Parquet copy (:func:`_reread_from_parquet`).
    Every step keeps the rows in file order (the caller turns insertion order on), so the
    Parquet copy needs no sort; nothing is updated in place, the rows rejected after the
    check (duplicate keys, items of no accepted claim) are collected in a small table.
    """
    name = spec.name
    raw, checked, canon = f"raw_{name}", f"checked_{name}", f"canon_{name}"
    malformed, rejected = f"malformed_{name}", f"rejected_{name}"
    _read_raw(engine, reader, raw)
    if reader.headers:
        # a line with nothing in it is not a row (a CSV's blank line, an empty sheet row)
        reader.blank_lines += engine.scalar(
            f"DELETE FROM {qi(raw)} WHERE {blank_sql(len(reader.headers))}")
    # what the bytes rule out, the checks leave out (no facts: check everything)
    facts = reader.facts
    spaces = facts is None or facts.spaces
    control_chars = facts is None or facts.controls
    needs = (provider_lookups_sql(spec, match, raw, spaces=spaces) if "providers" in lookups
             else None)
    if needs is not None and engine.scalar(needs) == 0:
        lookups = {k: v for k, v in lookups.items() if k != "providers"}  # no join needed
    engine.execute(f"CREATE OR REPLACE TABLE {qi(checked)} AS " + checked_sql(
        spec, match, raw, lookups, control_chars=control_chars, spaces=spaces))

    # every rejected row once, with all its problems: (source_row, _problems)
    later = [q for q in (orphans_sql(spec, checked, lookups), _duplicates_sql(spec, checked))
             if q is not None]
    later_rows = " UNION ALL ".join(later) or \
        "SELECT CAST(NULL AS BIGINT) AS source_row, CAST([] AS VARCHAR[]) AS _problems LIMIT 0"
    engine.execute(
        f"CREATE OR REPLACE TEMP TABLE {qi(rejected)} AS WITH later AS ({later_rows}) "
        f"SELECT source_row, _problems FROM later UNION ALL SELECT source_row, _problems "
        f"FROM {qi(checked)} WHERE len(_problems) > 0 "
        f"AND source_row NOT IN (SELECT source_row FROM later)")

    # rejected rows: the source columns unchanged, then reason and source_row
    engine.execute(f"CREATE OR REPLACE TABLE {qi(malformed)} "
                   "(source_row BIGINT, raw_line VARCHAR, reason VARCHAR)")
    if reader.malformed:
        bad = reader.malformed
        engine.load_arrow("_malformed_stream", pa.RecordBatchReader.from_batches(
            pa.schema([("source_row", pa.int64()), ("raw_line", pa.string()),
                       ("reason", pa.string())]),
            [pa.record_batch([[m.row for m in bad], [m.text for m in bad], [m.reason for m in bad]],
                             names=["source_row", "raw_line", "reason"])]))
        engine.execute(f"INSERT INTO {qi(malformed)} SELECT * FROM _malformed_stream")
        engine.execute("DROP TABLE _malformed_stream")
    counts = engine.arrow(
        f"SELECT (SELECT count(*) FROM {qi(raw)}) AS raw_rows, "
        f"(SELECT count(*) FROM {qi(checked)}) AS checked, "
        f"(SELECT count(*) FROM {qi(rejected)}) AS bad, "
        f"(SELECT count(*) FROM {qi(malformed)}) AS malformed").to_pylist()[0]
    stats = TableStats(
        read=counts["raw_rows"] + counts["malformed"], accepted=counts["checked"] - counts["bad"],
        rejected=counts["bad"] + counts["malformed"], blank_lines=reader.blank_lines,
        file=reader.file.path.name, columns=dict(sorted(match.source.items())),
        unknown_columns=list(match.unknown))
    if stats.read != stats.accepted + stats.rejected:  # pragma: no cover - a bug, not bad input
        raise GraphFraudError(f"{name}: accounting does not hold: read {stats.read} != "
                              f"accepted {stats.accepted} + rejected {stats.rejected}")
    if stats.rejected:
        headers = _unique_headers(reader.headers)
        source_cols = ", ".join(f"r.c{i} AS {qi(h)}" for i, h in enumerate(headers))
        raw_line = ", NULL AS raw_line" if reader.malformed else ""
        sql = (f"SELECT {source_cols}, array_to_string(k._problems, '; ') AS reason, "
               f"k.source_row{raw_line} FROM {qi(rejected)} k JOIN {qi(raw)} r "
               f"ON r._row = k.source_row")
        if reader.malformed:
            nulls = ", ".join(f"NULL AS {qi(h)}" for h in headers)
            sql += f" UNION ALL SELECT {nulls}, reason, source_row, raw_line FROM {qi(malformed)}"
        _copy_csv_with_bom(engine, f"{sql} ORDER BY source_row",
                           out_dir / "rejected" / f"{name}.csv")
        stats.rejected_file = f"rejected/{name}.csv"
    engine.execute(f"DROP TABLE {qi(raw)}")
    engine.execute(f"DROP TABLE {qi(malformed)}")

    # the checked table becomes the canonical one in place
    if counts["bad"]:
        engine.execute(f"DELETE FROM {qi(checked)} WHERE source_row IN "
                       f"(SELECT source_row FROM {qi(rejected)})")
    engine.execute(f"DROP TABLE {qi(rejected)}")
    engine.execute(f"ALTER TABLE {qi(checked)} DROP COLUMN _problems")
    engine.execute(f"DROP TABLE IF EXISTS {qi(canon)}")
    engine.execute(f"ALTER TABLE {qi(checked)} RENAME TO {qi(canon)}")
    _copy_parquet_in_order(engine, canon, out_dir / "data" / f"{name}.parquet")
    _reread_from_parquet(engine, canon, out_dir / "data" / f"{name}.parquet")
    return stats


def _reread_from_parquet(engine: Engine, table: str, path: Path) -> None:
    """``table`` made again from its Parquet copy (DuckDB), for what runs after the load.

    A table made in place (rows deleted, a column dropped, renamed) does not give its memory
    back as a fresh one does: with the 10M-claim tables left so, dense_block's self-join ran
    out of DuckDB's 3 GB budget ("2.4 GiB/2.7 GiB used"); read back, the same run finishes.
    It costs about a second per million rows, and every engine then works on the very rows of
    ``data/`` (the Spark engine reads them).
    """
    if engine.name != "duckdb":
        return
    engine.execute(f"DROP TABLE {qi(table)}")
    engine.execute(f"CREATE TABLE {qi(table)} AS SELECT * FROM read_parquet({ql(str(path))})")


def _duplicates_sql(spec: TableSpec, checked: str) -> str | None:
    """The rows of a repeated key after the first acceptable one, with their reason."""
    if not spec.key:
        return None
    key = qi(spec.key)
    message = f"'duplicate {spec.key} ''' || c.{key} || ''': row ' || f.first_row || ' is kept'"
    return (f"SELECT c.source_row, [{message}] AS _problems FROM {qi(checked)} c JOIN "
            f"(SELECT {key} AS k, min(source_row) AS first_row FROM {qi(checked)} "
            f"WHERE len(_problems) = 0 GROUP BY 1 HAVING count(*) > 1) f ON c.{key} = f.k "
            f"WHERE c.source_row <> f.first_row AND len(c._problems) = 0")


def _copy_parquet_in_order(engine: Engine, table: str, path: Path) -> None:
    """``table`` to Parquet in ``source_row`` order, without sorting when it is in order.

    Tables are built with insertion order preserved, so they are usually in file order
    already; a streaming look at ``source_row`` (no sort) confirms it, and only a table
    that is not is sorted. The file is the same either way.
    """
    with _insertion_order(engine):
        back = engine.scalar(f"SELECT count(*) FROM (SELECT source_row < lag(source_row) OVER () "
                             f"AS back FROM {qi(table)}) WHERE back")
        order = "" if back == 0 else " ORDER BY source_row"
        engine.copy_parquet(f"SELECT * FROM {qi(table)}{order}", path)


def _read_raw(engine: Engine, reader: SourceReader, raw: str) -> None:
    """The file's rows as text (``_row``, ``c0..cN``) in the table ``raw``.

    A plain UTF-8 CSV file is read by DuckDB itself (:meth:`SourceReader.plain_csv_sql`),
    numbered in file order; it is kept only if every line after the header became one row.
    Anything else (a blank or malformed line, a failed read, another engine or format) is
    read through the Arrow reader, which numbers rows around such lines and keeps them.
    """
    sql = reader.plain_csv_sql() if engine.name == "duckdb" else None
    if sql is not None and reader.facts is not None:
        try:
            with _insertion_order(engine):
                engine.execute(f"CREATE OR REPLACE TABLE {qi(raw)} AS SELECT "
                               f"row_number() OVER () + 1 AS _row, * FROM {sql}")
            if engine.scalar(f"SELECT count(*) FROM {qi(raw)}") == max(reader.facts.lines - 1, 0):
                return
        except duckdb.Error:
            pass
        engine.execute(f"DROP TABLE IF EXISTS {qi(raw)}")
    engine.load_arrow(raw, reader.reader())


@contextmanager
def _insertion_order(engine: Engine) -> Iterator[None]:
    """DuckDB's ``preserve_insertion_order`` on for a statement that numbers rows in order."""
    before = engine.scalar("SELECT current_setting('preserve_insertion_order')")
    engine.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        engine.execute(f"SET preserve_insertion_order = {'true' if before else 'false'}")


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        name = h if h.strip() else "column"
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name} ({n + 1})")
    reserved = {"reason", "source_row", "raw_line"}
    return [h + " (input)" if h in reserved else h for h in out]


def _copy_csv_with_bom(engine: Engine, sql: str, target: Path) -> None:
    """Write a query to CSV in UTF-8 with a BOM, so that Excel shows Chinese text."""
    tmp = target.with_suffix(".csv.part")
    engine.copy_csv(sql, tmp)
    with open(target, "wb") as out, open(tmp, "rb") as src:
        out.write(b"\xef\xbb\xbf")
        shutil.copyfileobj(src, out, 1 << 20)
    tmp.unlink()
