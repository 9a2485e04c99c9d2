"""graphfraud's graph and findings in Neo4j.

* :func:`export_graph` (``graphfraud neo4j export``): node and relationship CSV files in the
  bulk-import format of ``neo4j-admin database import full``, with a README holding the exact
  Neo4j 5 command, the uniqueness constraints and the counts, and a manifest with SHA-256s;
* :mod:`graphfraud.neo4jio.push` (``graphfraud neo4j push``): the same graph pushed to a running
  server through the official ``neo4j`` driver;
* ``queries.cypher`` (``graphfraud neo4j queries``): saved investigator queries.

The model (labels, types, properties) is :mod:`graphfraud.neo4jgraph`.
"""

from __future__ import annotations

from graphfraud.neo4jio.export import (ARRAY_DELIMITER, DELIMITER, ExportFile, ExportResult,
                                       constraint_statements, export_graph, neo4j5_import_args)
from graphfraud.neo4jio.push import PushError, PushResult, push_graph
from graphfraud.neo4jio.queries import Query, load_queries, query_pack_text

__all__ = ["ARRAY_DELIMITER", "DELIMITER", "ExportFile", "ExportResult", "constraint_statements",
           "export_graph", "neo4j5_import_args", "PushError", "PushResult", "push_graph", "Query",
           "load_queries", "query_pack_text"]
