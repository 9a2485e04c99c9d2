"""The engine seam: the relational heavy lifting is SQL behind a small object.

An engine offers a handful of primitives: run SQL, load an Arrow stream into a table, fetch
a result as Arrow, copy a query's result to Parquet or CSV. DuckDB (embedded, spilling to
disk, so tables larger than memory load) is the default. SQL text is written in DuckDB's
dialect; an engine for another dialect translates it in :meth:`Engine.translate`, the one
place where dialects differ (:class:`graphfraud.spark.SparkEngine` transpiles it to Spark SQL
with sqlglot).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

__all__ = ["Engine", "DuckDBEngine", "open_engine", "ENGINES", "quote_ident", "quote_literal", "default_memory_limit"]


def quote_ident(name: str) -> str:
    """Quote an identifier for SQL: ``a"b`` becomes ``"a""b"``."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a string literal for SQL: ``it's`` becomes ``'it''s'``."""
    return "'" + value.replace("'", "''") + "'"


def default_memory_limit() -> str:
    """The engine's memory budget: ``GRAPHFRAUD_MEMORY_LIMIT`` or 3 GB."""
    return os.environ.get("GRAPHFRAUD_MEMORY_LIMIT", "3GB")


class Engine(Protocol):
    """What the loaders and detectors need from a SQL engine."""

    name: str

    def translate(self, sql: str) -> str: ...

    def execute(self, sql: str, params: list[Any] | None = None) -> None: ...

    def arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table: ...

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any: ...

    def load_arrow(self, table: str, reader: pa.RecordBatchReader) -> None: ...

    def columns(self, table: str) -> list[str]: ...

    def copy_parquet(self, sql: str, path: Path) -> None: ...

    def copy_csv(self, sql: str, path: Path) -> None: ...

    def close(self) -> None: ...


#: the engines ``--engine`` offers
ENGINES = ("duckdb", "spark")


def open_engine(name: str, work: Path) -> Engine:
    """The engine called ``name``, working under ``work`` (spill files, Spark's tables)."""
    if name == "duckdb":
        return DuckDBEngine(temp_dir=work / ".spill")
    if name == "spark":
        from graphfraud.spark import SparkEngine

        return SparkEngine(work / ".spark")
    raise ValueError(f"unknown engine {name!r} (engines: {', '.join(ENGINES)})")


class DuckDBEngine:
    """DuckDB, embedded. ``path=None`` keeps the database in memory (spilling to ``temp_dir``).

    Parameters
    ----------
    path
        Database file; a file lets tables larger than memory live on disk.
    temp_dir
        Where DuckDB spills intermediate results.
    threads, memory_limit
        Resource limits; ``memory_limit`` defaults to :func:`default_memory_limit`.
    """

    name = "duckdb"

    def __init__(self, path: Path | None = None, *, temp_dir: Path | None = None,
                 threads: int | None = None, memory_limit: str | None = None) -> None:
        import duckdb

        self._con = duckdb.connect(str(path) if path else ":memory:")
        self._con.execute(f"SET memory_limit = {quote_literal(memory_limit or default_memory_limit())}")
        self._con.execute(f"SET threads = {int(threads or os.cpu_count() or 2)}")
        self._con.execute("SET preserve_insertion_order = false")
        if temp_dir is not None:
            Path(temp_dir).mkdir(parents=True, exist_ok=True)
            self._con.execute(f"SET temp_directory = {quote_literal(str(temp_dir))}")

    def translate(self, sql: str) -> str:
        return sql  # the project's SQL is written in DuckDB's dialect

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        self._con.execute(self.translate(sql), params or [])

    def arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        return self._con.sql(self.translate(sql), params=params or None).to_arrow_table()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self._con.execute(self.translate(sql), params or []).fetchall()
        return rows[0][0] if rows else None

    def load_arrow(self, table: str, reader: pa.RecordBatchReader) -> None:
        self._con.register("_gf_stream", reader)
        try:
            self._con.execute(f"CREATE OR REPLACE TABLE {quote_ident(table)} AS SELECT * FROM _gf_stream")
        finally:
            self._con.unregister("_gf_stream")

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` in order; empty if there is no such table or view."""
        rows = self._con.execute("SELECT column_name FROM information_schema.columns "
                                 "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
        return [r[0] for r in rows]

    def copy_parquet(self, sql: str, path: Path) -> None:
        self._con.execute(f"COPY ({self.translate(sql)}) TO {quote_literal(str(path))} "
                          "(FORMAT parquet, COMPRESSION zstd)")

    def copy_csv(self, sql: str, path: Path) -> None:
        self._con.execute(f"COPY ({self.translate(sql)}) TO {quote_literal(str(path))} "
                          "(FORMAT csv, HEADER true)")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
