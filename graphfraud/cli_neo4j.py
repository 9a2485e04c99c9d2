"""``graphfraud neo4j ...``: the graph and findings for Neo4j (library: :mod:`graphfraud.neo4jio`)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from graphfraud.clikit import DIR, JSON, console, out, run

__all__ = ["neo4j"]

_SCOPE = click.option("--scope", type=click.Choice(["all", "rings"]), default="all",
                      show_default=True,
                      help="all: the whole claims graph; rings: ring members and their links.")
_REDACT = click.option("--redact", type=click.Choice(["masked", "none"]), default="masked",
                       show_default=True,
                       help="Pseudonymous keys and masked ids and names; none gives the sealed "
                            "edition (audited).")
_WORKSPACE = click.option("--workspace", type=click.Path(path_type=Path), default=None,
                          help="Workspace whose audit log records a sealed edition.")


@click.group()
def neo4j() -> None:
    """graphfraud's graph and findings for Neo4j: bulk-import files, a live push, saved queries.

    \b
    Example:
      graphfraud neo4j export analysis/ --out neo4j-import/
      graphfraud neo4j queries
    """


def _counts_table(counts: dict[str, int], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("label / type")
    table.add_column("rows", justify="right")
    for k, v in counts.items():
        table.add_row(k, f"{v:,}")
    out().print(table)


def _audit(workspace: Path | None, action: str, target: str, details: dict) -> None:
    from graphfraud.workspace import Workspace

    Workspace(workspace).audit(action, target=target, details=details)


@neo4j.command("export")
@DIR
@click.option("--out", "out_folder", required=True, type=click.Path(path_type=Path),
              help="Folder to create: CSVs, README.md with the import command, manifest.json.")
@_SCOPE
@_REDACT
@_WORKSPACE
@click.option("--force", is_flag=True, help="Replace the folder if it exists.")
@JSON
def export(analysis_dir: Path, out_folder: Path, scope: str, redact: str,
           workspace: Path | None, force: bool, as_json: bool) -> None:
    """Write node and relationship CSVs for Neo4j's bulk importer (neo4j-admin import).

    \b
    Example:
      graphfraud neo4j export analysis/ --out neo4j-import/
      graphfraud neo4j export analysis/ --out rings-only/ --scope rings
    """
    from graphfraud.neo4jio import export_graph

    def go():
        res = export_graph(analysis_dir, out_folder, scope=scope, redact=redact, force=force)
        if redact == "none":
            _audit(workspace, "neo4j.export.sealed", str(analysis_dir),
                   {"out": str(res.folder.resolve()), "scope": scope,
                    "files": {f.name: f.sha256 for f in res.files}})
        return res

    with console().status("writing the export …"):
        res = run(go)
    command = "neo4j-admin " + " ".join(shlex.quote(a) for a in res.import_args())
    if as_json:
        click.echo(json.dumps({"folder": str(res.folder), "counts": res.counts, "scope": scope,
                               "redact": redact, "files": [f.name for f in res.files],
                               "import_command": command}, ensure_ascii=False, indent=2))
        return
    _counts_table(res.counts, f"Neo4j export: {res.folder}")
    console().print(f"import (Neo4j 5, inside the folder, into a new or empty database; "
                    f"see {res.folder / 'README.md'}):\n{command}")
