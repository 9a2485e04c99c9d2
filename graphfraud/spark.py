"""The Spark engine (``--engine spark``): the detectors' SQL on Spark, for data past one machine.

The project's SQL is written once, in DuckDB's dialect. :meth:`SparkEngine.translate`
transpiles each statement to Spark SQL with sqlglot (as splink does) and fixes the few
functions whose meaning differs between the two (:func:`to_spark`). Statements that create
tables are not handed to Spark as DDL: the query runs, its result is written as Parquet under
the engine's work folder and registered as a temporary view, so every intermediate table is
materialised once and later statements start from it (lineage stays short, memory stays flat).

Where Spark runs: ``GRAPHFRAUD_SPARK_MASTER`` (e.g. ``spark://host:7077``, ``yarn``) if set,
else Spark's own settings (``spark-defaults.conf`` in ``SPARK_CONF_DIR``,
``PYSPARK_SUBMIT_ARGS``), else ``local[*]``. On a cluster, the analysis folder (where the
canonical Parquet and the engine's tables live) must be on storage every executor reads.

Needs the ``spark`` extra (``pip install "graphfraud[spark]"``: pyspark, sqlglot) and Java 17.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

from graphfraud.errors import GraphFraudError

__all__ = ["SparkEngine", "to_spark"]


def _sqlglot() -> Any:
    try:
        import sqlglot
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise GraphFraudError('--engine spark needs the spark extra: pip install "graphfraud[spark]"') \
            from exc
    return sqlglot


def _portable(node: Any) -> Any:
    """Rewrite the DuckDB functions whose Spark namesake means something else."""
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "hash":  # Spark's hash() is 32 bits: keys would collide at scale
            return exp.Anonymous(this="xxhash64", expressions=node.expressions)
        if name == "list_slice":  # list_slice(l, begin, end) -> slice(l, begin, length)
            lst, begin, end = node.expressions
            length = exp.Paren(this=exp.Sub(this=exp.Paren(this=end.copy()),
                                            expression=exp.Paren(this=begin.copy())))
            return exp.Anonymous(this="slice", expressions=[
                lst, begin, exp.Add(this=length, expression=exp.Literal.number(1))])
        if name == "printf":
            return exp.Anonymous(this="format_string", expressions=node.expressions)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Count) \
            and isinstance(node.this.this, exp.Distinct):  # no DISTINCT in Spark's windows
        (value,) = node.this.this.expressions
        node = node.copy()
        node.set("this", exp.Anonymous(this="collect_set", expressions=[value]))
        return exp.Anonymous(this="size", expressions=[node])
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    if isinstance(node, exp.JSONObject):  # Spark has no json_object: a struct as JSON
        args: list[Any] = []
        for kv in node.expressions:
            args += [kv.this, kv.expression]
        keep_nulls = exp.Anonymous(this="map", expressions=[
            exp.Literal.string("ignoreNullFields"), exp.Literal.string("false")])
        return exp.Anonymous(this="to_json", expressions=[
            exp.Anonymous(this="named_struct", expressions=args), keep_nulls])
    return node


def to_spark(sql: str | Any,
             schema: Callable[[], dict[str, dict[str, str]]] | None = None) -> str:
    """DuckDB SQL (text, or a parsed query) as Spark SQL.

    ``schema()`` (table -> column -> Spark type) lets ``SELECT *`` be spelled out where Spark
    needs the columns: QUALIFY becomes a filter over a subquery, and its window column must
    not leak into ``*``.

    Examples
    --------
    >>> to_spark("SELECT hash(a) AS h FROM t SEMI JOIN u USING (a) GROUP BY ALL")
    'SELECT XXHASH64(a) AS h FROM t SEMI JOIN u USING (a) GROUP BY ALL'
    """
    from sqlglot import exp

    sqlglot = _sqlglot()
    tree = sqlglot.parse_one(sql, read="duckdb") if isinstance(sql, str) else sql.copy()
    if schema is not None and tree.find(exp.Qualify):
        from sqlglot.optimizer.qualify import qualify
        from sqlglot.schema import MappingSchema

        tables: dict[str, object] = dict(schema())
        tree = qualify(tree, schema=MappingSchema(tables, dialect="spark"), dialect="duckdb",
                       validate_qualify_columns=False, quote_identifiers=False)
    return tree.transform(_portable).sql(dialect="spark")


def _spark_type(kind: Any) -> str:
    """A column type of a CREATE TABLE in Spark's words (VARCHAR without a length: STRING)."""
    text = kind.sql("duckdb").upper()
    return "STRING" if text in ("VARCHAR", "TEXT") else kind.sql("spark")


class SparkEngine:
    """Spark SQL behind the :class:`graphfraud.engine.Engine` seam.

    Parameters
    ----------
    work
        Folder for the engine's materialised tables (removed by :meth:`close`).
    master
        Spark master URL; default ``GRAPHFRAUD_SPARK_MASTER``, else Spark's own settings.
    conf
        Extra Spark settings.
    """

    name = "spark"

    def __init__(self, work: Path, *, master: str | None = None,
                 conf: dict[str, str] | None = None) -> None:
        _sqlglot()
        # PySpark 4 warns that pandas 3 is not fully supported; the one pandas path used here
        # (the lgamma function) is covered by the parity tests
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise GraphFraudError('--engine spark needs the spark extra: '
                                  'pip install "graphfraud[spark]" (and Java 17)') from exc
        self._work = Path(work)
        self._work.mkdir(parents=True, exist_ok=True)
        builder = SparkSession.builder.appName("graphfraud")
        master = master or os.environ.get("GRAPHFRAUD_SPARK_MASTER")
        if master:
            builder = builder.master(master)
        settings = {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            # casts that fail give NULL, as in DuckDB (x / 0 gives NULL, where DuckDB gives
            # inf: the project's SQL divides by nullif(d, 0))
            "spark.sql.ansi.enabled": "false",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": os.environ.get("GRAPHFRAUD_SPARK_PARTITIONS", "8"),
            "spark.sql.adaptive.enabled": "true",
            "spark.driver.memory": os.environ.get("GRAPHFRAUD_SPARK_DRIVER_MEMORY", "4g"),
            **(conf or {}),
        }
        for key, value in settings.items():
            builder = builder.config(key, value)
        self._spark = builder.getOrCreate()
        self._spark.sparkContext.setLogLevel("FATAL")
        # a failed query is raised as an exception; PySpark would also log it as JSON
        logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
        self._frames: dict[str, Any] = {}  # materialised tables
        self._functions()

    # -- the Engine protocol -------------------------------------------------------------

    def translate(self, sql: str) -> str:
        return to_spark(sql, self._schema)

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        from sqlglot import exp

        sqlglot = _sqlglot()
        tree = sqlglot.parse_one(sql, read="duckdb")
        if isinstance(tree, exp.Create):
            kind = (tree.args.get("kind") or "").upper()
            target = tree.this
            name = (target.this if isinstance(target, exp.Schema) else target).name
            query = tree.expression
            if kind == "VIEW":
                self._sql(self._spark_sql(query), params).createOrReplaceTempView(name)
            elif query is not None:
                self._materialise(name, self._sql(self._spark_sql(query), params))
            elif isinstance(target, exp.Schema):
                ddl = ", ".join(f"{c.name} {_spark_type(c.args['kind'])}" for c in target.expressions)
                self._materialise(name, self._spark.createDataFrame([], schema=ddl))
            else:
                raise GraphFraudError(f"Spark engine: cannot run {sql[:80]!r}")
        elif isinstance(tree, exp.Insert):
            name = tree.this.name
            df = self._sql(self._spark_sql(tree.expression), params)
            self._append(name, df)
        elif isinstance(tree, exp.Drop):
            for table in tree.args.get("tables") or [tree.this]:
                self._spark.catalog.dropTempView(table.name)
                self._frames.pop(table.name, None)
        else:
            raise GraphFraudError(f"Spark engine: only CREATE, INSERT and DROP statements run "
                                  f"through execute(), not {sql.strip()[:80]!r}")

    def arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        return self._sql(self.translate(sql), params).toArrow()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self._sql(self.translate(sql), params).take(1)
        return rows[0][0] if rows else None

    def load_arrow(self, table: str, reader: pa.RecordBatchReader) -> None:
        data = reader.read_all()
        if data.num_rows == 0:
            from pyspark.sql.pandas.types import from_arrow_schema

            self._materialise(table, self._spark.createDataFrame([], from_arrow_schema(data.schema)))
        else:
            self._materialise(table, self._spark.createDataFrame(data))

    def register_parquet(self, table: str, path: Path) -> None:
        """Make a Parquet file or folder (e.g. a canonical table) a table of this engine."""
        self._spark.read.parquet(str(path)).createOrReplaceTempView(table)

    def columns(self, table: str) -> list[str]:
        if not self._spark.catalog.tableExists(table):
            return []
        return list(self._spark.table(table).columns)

    def copy_parquet(self, sql: str, path: Path) -> None:
        pq.write_table(self.arrow(sql), path, compression="zstd")

    def copy_csv(self, sql: str, path: Path) -> None:
        import pyarrow.csv as pacsv

        pacsv.write_csv(self.arrow(sql), path)

    def close(self) -> None:
        for name in list(self._frames):
            self._spark.catalog.dropTempView(name)
        self._frames.clear()
        self._spark.catalog.clearCache()
        shutil.rmtree(self._work, ignore_errors=True)

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -------------------------------------------------------------------------

    def _functions(self) -> None:
        """DuckDB functions Spark lacks, as vectorised (Arrow) Python functions."""
        import pandas as pd
        from pyspark.sql.functions import pandas_udf

        def lgamma(x: pd.Series) -> pd.Series:
            return x.astype("float64").map(lambda v: math.lgamma(v) if v == v and v > 0 else None)

        lgamma.__annotations__ = {"x": pd.Series, "return": pd.Series}  # real types, not text
        self._spark.udf.register("lgamma", pandas_udf(lgamma, "double"))  # type: ignore[call-overload]

    def _spark_sql(self, query: Any) -> str:
        return to_spark(query, self._schema)

    def _schema(self) -> dict[str, dict[str, str]]:
        """Every table and view: column -> type (for sqlglot)."""
        out = {}
        for t in self._spark.catalog.listTables():
            if t.isTemporary:
                out[t.name] = {f.name: f.dataType.simpleString()
                               for f in self._spark.table(t.name).schema.fields}
        return out

    def _sql(self, sql: str, params: list[Any] | None) -> Any:
        try:
            return self._spark.sql(sql, args=list(params)) if params else self._spark.sql(sql)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GraphFraudError(f"Spark could not run a query: {first}\n"
                                  f"Spark SQL (transpiled from DuckDB's dialect): {sql}") from exc

    def _materialise(self, name: str, df: Any) -> None:
        """Compute ``df`` once and keep it (memory, spilling to disk) as table ``name``."""
        df = df.localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._frames[name] = df

    def _append(self, name: str, df: Any) -> None:
        from pyspark.sql.functions import col

        if name not in self._frames:
            raise GraphFraudError(f"Spark engine: INSERT INTO {name}, which is not a table")
        old = self._frames[name]
        target = old.schema
        df = df.toDF(*[f.name for f in target.fields])
        df = df.select(*[col(f.name).cast(f.dataType) for f in target.fields])
        self._materialise(name, old.unionAll(df))
