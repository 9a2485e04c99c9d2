"""``graphfraud case ...``: the case register's commands (library: :mod:`graphfraud.cases`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from graphfraud.clikit import DIR, JSON, LANG, REDACT, out, run

__all__ = ["case"]


@click.group()
@click.option("--workspace", type=click.Path(path_type=Path), default=None,
              help="Workspace folder (default: $GRAPHFRAUD_WORKSPACE or ./graphfraud-workspace).")
@click.option("--actor", default=None,
              help="Who acts, for the audit log (default: $GRAPHFRAUD_USER or the login name).")
@click.pass_context
def case(ctx: click.Context, workspace: Path | None, actor: str | None) -> None:
    """The case register: leads from rings through verification to referral, with an audit log.

    Statuses: new 新线索 → verifying 核查中 → confirmed 已查实 / dismissed 已排除 →
    referred 已移送. Every change is written to the hash-chained audit log.

    \b
    Example:
      graphfraud case sync analysis/
      graphfraud case list --status new
      graphfraud case status C-20260301-001 verifying
    """
    ctx.obj = _CaseContext(workspace, actor)


class _CaseContext:
    """The case commands' workspace (opened on first use, so --help creates nothing) and actor."""

    def __init__(self, path: Path | None, actor: str | None) -> None:
        self.path, self.actor = path, actor
        self._ws = None

    @property
    def ws(self):
        if self._ws is None:
            from graphfraud.workspace import Workspace

            self._ws = run(lambda: Workspace(self.path))
        return self._ws

    def __getitem__(self, key: str):
        return getattr(self, key)


def _case_json(obj, redact: str):
    """Personal ids in a case or report masked (``--redact masked``), else unchanged."""
    from graphfraud.redact import Redactor, scrub_tree

    red = Redactor(redact)
    if not red.masked:
        return obj
    people = []
    for key in (k for k in _walk_keys(obj)):
        kind, _, ident = key.partition(":")
        people.append((kind, ident, None))
    return scrub_tree(obj, red.scrubber(people))


def _walk_keys(obj):
    """Member keys (``kind:id``) and ``{kind, id}`` pairs anywhere in nested data."""
    if isinstance(obj, dict):
        if isinstance(obj.get("kind"), str) and isinstance(obj.get("id"), str):
            yield f"{obj['kind']}:{obj['id']}"
        for v in obj.values():
            yield from _walk_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk_keys(v)
    elif isinstance(obj, str) and obj.split(":", 1)[0] in ("person", "card"):
        yield obj





@case.command("sync")
@DIR
@click.option("--min-overlap", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="A case follows the ring sharing at least this share of the smaller member set.")
@click.option("--no-open", is_flag=True, help="Do not open cases for new rings.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Open cases only for rings scoring at least this.")
@LANG
@REDACT
@JSON
@click.pass_obj
def case_sync(obj, analysis_dir: Path, min_overlap: float, no_open: bool, min_score: float,
              lang: str, redact: str, as_json: bool) -> None:
    """Bring the register up to date with an analysis (after each run on refreshed data).

    Cases follow their rings by member overlap even when the ring id changes; dismissed
    look-alikes stay dismissed; confirmed cases report new members.

    \b
    Example:
      graphfraud case sync analysis-2024-06/
      graphfraud case sync analysis/ --min-score 0.8 --json
    """
    from graphfraud.cases import event_text, sync

    rows = run(lambda: sync(obj["ws"], analysis_dir, min_overlap=min_overlap,
                             open_new=not no_open, min_score=min_score, actor=obj["actor"],
                             lang=lang))
    if as_json:
        click.echo(json.dumps(_case_json(rows, redact), ensure_ascii=False, indent=2))
        return
    for row in rows:
        rank = f"#{row['rank']}" if row.get("rank") else "-"
        click.echo(f"{row.get('case_id') or '-':<15} {rank:>5} {row.get('ring_id') or '-':<11} "
                   f"{event_text(row, lang)}")


@case.command("open")
@DIR
@click.argument("ring_ref", metavar="RING_ID")
@click.option("--title", default=None, help="Case title (default: patterns, persons, amount).")
@click.option("--assignee", default=None, help="Who verifies it.")
@click.option("--note", default=None, help="A first note.")
@LANG
@JSON
@click.pass_obj
def case_open(obj, analysis_dir: Path, ring_ref: str, title: str | None, assignee: str | None,
              note: str | None, lang: str, as_json: bool) -> None:
    """Open a case for one ring (RING_ID or rank).

    \b
    Example:
      graphfraud case open analysis/ R-3f9a1c2e --assignee wang.li --note "来自群众举报线索"
    """
    from graphfraud.cases import open_case

    row = run(lambda: open_case(obj["ws"], analysis_dir, ring_ref, title=title,
                                 assignee=assignee, note=note, actor=obj["actor"], lang=lang))
    click.echo(json.dumps(row, ensure_ascii=False, indent=2) if as_json
               else f"{row['case_id']}  {row['status']}  {row['title']}")


@case.command("list")
@click.option("--status", default=None, help="Only this status (English or Chinese name).")
@click.option("--assignee", default=None, help="Only this assignee's cases.")
@LANG
@JSON
@click.pass_obj
def case_list(obj, status: str | None, assignee: str | None, lang: str, as_json: bool) -> None:
    """List cases, oldest first.

    \b
    Example:
      graphfraud case list
      graphfraud case list --status 核查中 --assignee wang.li --json
    """
    from graphfraud.cases import list_cases, status_text

    rows = run(lambda: list_cases(obj["ws"], status=status, assignee=assignee))
    if as_json:
        click.echo(json.dumps([{k: v for k, v in r.items() if k != "members"} for r in rows],
                              ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title="案件 / cases")
    for col in ("case", "status", "assignee", "ring", "score", "fund paid", "title", "updated"):
        table.add_column(col, justify="right" if col in ("score", "fund paid") else "left")
    for r in rows:
        table.add_row(r["case_id"], status_text(r["status"], lang), r["assignee"] or "",
                      r["ring_id"] + ("" if r["ring_present"] else " (vanished)"),
                      f"{r['score']:.2f}", f"{r['fund_paid']:,.2f}", r["title"], r["updated_at"])
    out().print(table)


@case.command("show")
@click.argument("case_id")
@REDACT
@JSON
@click.pass_obj
def case_show(obj, case_id: str, redact: str, as_json: bool) -> None:
    """One case: status, assignee, notes, ring history and its audit entries.

    \b
    Example:
      graphfraud case show C-20260301-001
    """
    from graphfraud.cases import get_case

    row = _case_json(run(lambda: get_case(obj["ws"], case_id)), redact)
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    click.echo(f"{row['case_id']}  {row['status']}  {row['assignee'] or '-'}  {row['title']}")
    click.echo(f"ring {row['ring_id']}  score {row['score']:.2f}  fund paid {row['fund_paid']:,.2f}")
    for n in row["notes"]:
        click.echo(f"  note  {n['at']}  {n['actor']}: {n['text']}")
    for h in row["history"]:
        click.echo(f"  ring  {h['at']}  {h['event']} {h['ring_id'] or ''}")
    for a in row["audit"]:
        click.echo(f"  audit #{a['seq']}  {a['at']}  {a['actor']}  {a['action']}")


@case.command("assign")
@click.argument("case_id")
@click.argument("assignee")
@click.option("--note", default=None, help="Why, for the record.")
@click.pass_obj
def case_assign(obj, case_id: str, assignee: str, note: str | None) -> None:
    """Give a case to someone ("-" for no one).

    \b
    Example:
      graphfraud case assign C-20260301-001 wang.li
    """
    from graphfraud.cases import assign

    run(lambda: assign(obj["ws"], case_id, None if assignee == "-" else assignee, note=note,
                        actor=obj["actor"]))
    click.echo(f"{case_id}: {assignee}")


@case.command("status")
@click.argument("case_id")
@click.argument("status")
@click.option("--note", default=None,
              help="Why (required to confirm, dismiss, refer, or reopen a dismissed case).")
@click.pass_obj
def case_status(obj, case_id: str, status: str, note: str | None) -> None:
    """Move a case to another status (English or Chinese name).

    \b
    Example:
      graphfraud case status C-20260301-001 verifying
      graphfraud case status C-20260301-001 dismissed --note "透析患者，排班就诊"
    """
    from graphfraud.cases import set_status

    row = run(lambda: set_status(obj["ws"], case_id, status, note=note, actor=obj["actor"]))
    click.echo(f"{case_id}: {row['status']}")


@case.command("note")
@click.argument("case_id")
@click.argument("text")
@click.pass_obj
def case_note(obj, case_id: str, text: str) -> None:
    """Add a note to a case.

    \b
    Example:
      graphfraud case note C-20260301-001 "已调取药店监控"
    """
    from graphfraud.cases import add_note

    run(lambda: add_note(obj["ws"], case_id, text, actor=obj["actor"]))
    click.echo(f"{case_id}: note added")


@case.command("verify")
@click.pass_obj
def case_verify(obj) -> None:
    """Check the audit log's hash chain and every case against it; exit 1 on any problem.

    \b
    Example:
      graphfraud case verify
    """
    from graphfraud.cases import verify

    problems = run(lambda: verify(obj["ws"]))
    for p in problems:
        click.echo(p, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {obj['ws'].db_path}")
    click.echo(f"audit log and cases intact: {obj['ws'].db_path}")
