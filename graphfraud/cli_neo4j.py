"""``graphfraud neo4j ...``: the graph and findings for Neo4j (library: :mod:`graphfraud.neo4jio`)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from graphfraud.clikit import DIR, JSON, audit_sealed, console, out, run

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
            audit_sealed(workspace, "neo4j.export.sealed", str(analysis_dir),
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


@neo4j.command("push")
@DIR
@click.option("--uri", required=True, help="Bolt address, e.g. neo4j://localhost:7687.")
@click.option("--user", default="neo4j", show_default=True, help="User to log in as.")
@click.option("--password-env", default="NEO4J_PASSWORD", show_default=True, metavar="VAR",
              help="Environment variable holding the password (never on the command line).")
@click.option("--database", default=None, help="Database (default: the user's home database).")
@_SCOPE
@_REDACT
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Rows per request.")
@click.option("--max-request-bytes", type=click.IntRange(min=512), default=1_000_000,
              show_default=True, help="Largest parameters of one request (FalkorDB: 3500).")
@click.option("--resume-from", default=None, metavar="STEP:BATCH",
              help="Start at this batch (as a failed push says); pushing is idempotent.")
@_WORKSPACE
@JSON
def push(analysis_dir: Path, uri: str, user: str, password_env: str, database: str | None,
         scope: str, redact: str, batch_size: int, max_request_bytes: int,
         resume_from: str | None, workspace: Path | None, as_json: bool) -> None:
    """Push the graph to a running Neo4j through the official driver: constraints, then batched
    UNWIND … MERGE with parameters only. Pushing twice changes nothing.

    \b
    Example:
      NEO4J_PASSWORD=… graphfraud neo4j push analysis/ --uri neo4j://localhost:7687 --user neo4j
      graphfraud neo4j push analysis/ --uri bolt://db:7687 --resume-from VISITED:12
    """
    import os

    from graphfraud.errors import InputError
    from graphfraud.neo4jio.push import push_graph

    def go():
        password = os.environ.get(password_env)
        if password is None:
            raise InputError(f"--password-env {password_env}: the variable is not set; put the "
                             f"password in it (export {password_env}=…) and run again")
        with _BarProgress() as bar:
            res = push_graph(analysis_dir, uri=uri, user=user, password=password,
                             database=database, scope=scope, redact=redact,
                             batch_size=batch_size, max_request_bytes=max_request_bytes,
                             resume_from=resume_from, password_env=password_env,
                             progress=bar)
        if redact == "none":
            audit_sealed(workspace, "neo4j.push.sealed", str(analysis_dir),
                   {"uri": uri, "database": database, "scope": scope})
        return res

    res = run(go)
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps(asdict(res), ensure_ascii=False, indent=2))
        return
    _counts_table(res.written, f"pushed to {res.uri} ({res.server})")
    console().print(f"{res.batches:,} requests in {res.seconds:.1f} s; created "
                    f"{sum(res.created.values()):,} nodes and relationships"
                    + (f"; {sum(res.unmatched.values()):,} relationship rows without both ends"
                       if sum(res.unmatched.values()) else ""))


class _BarProgress:
    """A rich progress bar fed by push_graph's ``progress(done, total, what)``."""

    def __enter__(self) -> "_BarProgress":
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                            console=console(), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task("push", total=None)
        return self

    def __call__(self, done: int, total: int, what: str) -> None:
        self.bar.update(self.task, completed=done, total=total, description=f"push: {what}")

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)


@neo4j.command("queries")
@JSON
def queries(as_json: bool) -> None:
    """Print the saved investigator queries (a .cypher file, parameters only).

    \b
    Example:
      graphfraud neo4j queries > graphfraud.cypher
      graphfraud neo4j queries --json
    """
    from graphfraud.neo4jio.queries import load_queries, query_pack_text

    if as_json:
        click.echo(json.dumps([q.to_dict() for q in load_queries()], ensure_ascii=False, indent=2))
        return
    click.echo(query_pack_text(), nl=False)
