"""graphfraud: find organized fraud rings (团伙骗保) in medical-insurance claims.

The path through the package follows the data:

* :mod:`graphfraud.loaders` reads a claims export (CSV, Parquet, Excel; UTF-8 or GB18030;
  canonical, Chinese or platform column names) into canonical tables, quarantining bad rows;
* :mod:`graphfraud.engine` runs the relational heavy lifting as SQL (DuckDB embedded);
* :mod:`graphfraud.algorithms` holds the graph algorithms;
* :mod:`graphfraud.analysis` ties the stages into ``analyze`` and writes the output folder;
* :mod:`graphfraud.synth` makes synthetic claims with planted rings and look-alikes.
"""

from __future__ import annotations

from graphfraud.errors import GraphFraudError, InputError

__version__ = "0.1.0"

__all__ = ["__version__", "GraphFraudError", "InputError", "analyze", "load", "synth"]


def __getattr__(name: str):  # lazy: keep `import graphfraud` cheap
    if name == "analyze":
        from graphfraud.analysis import analyze

        return analyze
    if name == "load":
        from graphfraud.loaders import load

        return load
    if name == "synth":
        from graphfraud.synth import generate

        return generate
    raise AttributeError(f"module 'graphfraud' has no attribute {name!r}")
