"""The command line: each command parses options, calls one library function, shows the answer.

Exit codes (contract §4): 0 done; 2 bad usage or unreadable input, with a message naming the
file, row or column and what to do; 1 an internal error.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from graphfraud import __version__
from graphfraud.clikit import DIR, JSON, audit_sealed
from graphfraud.clikit import Progress as _Progress
from graphfraud.clikit import console as _console
from graphfraud.clikit import out as _out
from graphfraud.clikit import run as _run
from graphfraud.errors import InputError

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="graphfraud")
def main() -> None:
    """graphfraud: find organized fraud rings (团伙骗保) in medical-insurance claims.

    \b
    Example:
      graphfraud demo
      graphfraud analyze claims_export/ --out analysis/
    """


def _detect_summary(result, console) -> None:
    for skipped in result.detectors.get("skipped", []):
        console.print(f"[yellow]skipped[/] {skipped['detector']}: {skipped['reason']}")
    run = result.detectors.get("run", [])
    console.print("detectors: " + ", ".join(f"{r['detector']} {r['groups']}" for r in run))
    console.print(f"rings: [bold]{len(result.rings)}[/]  "
                  + "  ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))
    if result.rings:
        from rich.table import Table

        table = Table(title="风险最高的团伙 / riskiest rings")
        for col in ("ring", "score", "patterns", "persons", "claims", "fund paid 涉案金额 (yuan)"):
            table.add_column(col, justify="right" if col in ("score", "persons", "claims") or
                             col.startswith("fund") else "left")
        for r in result.rings[:10]:
            persons = sum(1 for m in r["members"] if m["kind"] == "person")
            table.add_row(r["ring_id"], f"{r['score']:.2f}", ", ".join(r["patterns"]),
                          str(persons), f"{r['claims']:,}", f"{r['fund_paid']:,.2f}")
        console.print(table)


def _load_summary(result, console) -> None:
    from rich.table import Table

    table = Table(title="读取 / loading", show_lines=False)
    for col in ("table", "file", "read", "accepted", "rejected", "rejected rows in"):
        table.add_column(col, justify="right" if col in ("read", "accepted", "rejected") else "left")
    for name, s in result.tables.items():
        table.add_row(name, s.file, f"{s.read:,}", f"{s.accepted:,}", f"{s.rejected:,}",
                      s.rejected_file or "")
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note[/]: {note}")


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Analysis folder to create (contract §2).")
@click.option("--mapping", type=click.Path(path_type=Path),
              help="YAML file mapping your column names: table: {source_column: canonical_column}.")
@click.option("--encoding", help="Text encoding of CSV files (default: detect UTF-8 or GB18030).")
@click.option("--config", type=click.Path(path_type=Path),
              help="YAML overriding detector parameters (defaults: graphfraud/detectors.yaml).")
@click.option("--known", type=click.Path(path_type=Path),
              help="CSV kind,id of entities confirmed as fraudulent; ranks what is close to them.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="SQL engine of the detectors: embedded DuckDB, or Spark (the spark extra; "
                   "GRAPHFRAUD_SPARK_MASTER or Spark's own settings say where it runs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of randomised steps.")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def analyze(input_path: Path, out: Path, mapping: Path | None, encoding: str | None,
            config: Path | None, known: Path | None, engine: str, seed: int, force: bool,
            as_json: bool) -> None:
    """Analyze a claims folder (or one claims file) and write the analysis folder.

    \b
    Example:
      graphfraud analyze exports/2024/ --out analysis-2024/
      graphfraud analyze 结算明细.csv --out out/ --encoding gb18030 --mapping cols.yaml
      graphfraud analyze exports/2024/ --out analysis-2024/ --engine spark
    """
    from graphfraud.analysis import analyze as run

    console = _console()
    with _Progress(console, "analyze") as progress:
        result = _run(lambda: run(input_path, out, mapping=mapping, encoding=encoding,
                                  config=config, known=known, seed=seed, force=force,
                                  engine=engine, progress=progress))
    if as_json:
        click.echo(json.dumps({"out": str(result.out), **result.load.to_dict(),
                               "detectors": result.detectors, "rings": len(result.rings),
                               "timings": result.timings}, ensure_ascii=False, indent=2))
        return
    _load_summary(result.load, console)
    _detect_summary(result, console)
    rejected = sum(s.rejected for s in result.load.tables.values())
    console.print(f"analysis folder: [bold]{result.out}[/]  "
                  f"({rejected:,} rows rejected; see {result.out / 'rejected'})" if rejected
                  else f"analysis folder: [bold]{result.out}[/]")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def detectors(as_json: bool) -> None:
    """List the registered detectors: pattern name, what they need, what they find.

    \b
    Example:
      graphfraud detectors
      graphfraud detectors --json
    """
    from graphfraud.detectors import describe

    rows = describe()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title="检测器 / detectors")
    for col in ("pattern", "needs", "finds", "发现"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["pattern"], ", ".join(r["requires"]) or "claims", r["en"], r["zh"])
    _console().print(table)


def _synth_options(f):
    options = [
        click.option("--persons", type=click.IntRange(min=500), default=20000, show_default=True,
                     help="Insured persons (about one claim per person per month)."),
        click.option("--months", type=click.IntRange(1, 60), default=6, show_default=True,
                     help="Months of claims."),
        click.option("--seed", type=int, default=0, show_default=True, help="Random seed."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@main.command()
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder to create.")
@_synth_options
@click.option("--format", "fmt", type=click.Choice(["csv", "csv.gz", "parquet", "xlsx"]),
              default="csv", show_default=True, help="File format of the tables.")
@click.option("--encoding", type=click.Choice(["utf-8", "utf-8-sig", "gb18030"]),
              default="utf-8", show_default=True, help="Text encoding (CSV only).")
@click.option("--headers", type=click.Choice(["canonical", "chinese", "platform"]),
              default="canonical", show_default=True,
              help="Column names: canonical English, Chinese labels, or platform field codes.")
@click.option("--big-hospital-daily", type=click.IntRange(min=0), default=0,
              help="Add a level-3 hospital seeing this many patients a day.")
@click.option("--no-noise", is_flag=True, help="No reversals, duplicates or malformed rows.")
@click.option("--rings", type=click.IntRange(min=0), default=None,
              help="Number of planted rings (default: scales with --persons).")
@click.option("--mix", default=None, metavar="PATTERN=N,...",
              help="Rings per pattern, e.g. card_burst=3,co_visit=2 (overrides --rings).")
@click.option("--lookalikes", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Scale of the legitimate look-alike groups (0: none).")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
def synth(out: Path, persons: int, months: int, seed: int, fmt: str, encoding: str,
          headers: str, big_hospital_daily: int, no_noise: bool, rings: int | None,
          mix: str | None, lookalikes: float, force: bool) -> None:
    """Write synthetic claims with planted rings and legitimate look-alikes.

    The answer key goes to truth.json in the same folder; the analysis never reads it.

    \b
    Example:
      graphfraud synth --out synth/ --persons 85000 --months 12 --seed 7
      graphfraud synth --out gb/ --headers chinese --encoding gb18030
      graphfraud synth --out mix/ --mix card_burst=3,co_visit=2 --lookalikes 2
    """
    from graphfraud.outdir import atomic_folder
    from graphfraud.synth import SynthConfig, generate

    config = SynthConfig(persons=persons, months=months, seed=seed, fmt=fmt, encoding=encoding,
                         headers=headers, big_hospital_daily=big_hospital_daily,
                         noise=not no_noise, rings=rings, mix=_parse_mix(mix),
                         lookalikes=lookalikes)
    console = _console()

    def run():
        with atomic_folder(out, force=force) as work:
            return generate(work, config)

    with console.status("generating …"):
        summary = _run(run)
    console.print(f"synthetic claims in [bold]{out}[/] (answer key: {out / 'truth.json'})")
    console.print(", ".join(f"{k} {v:,}" for k, v in summary.items() if isinstance(v, int)))


def _parse_mix(text: str | None) -> dict[str, int] | None:
    if not text:
        return None
    mix: dict[str, int] = {}
    for part in text.split(","):
        name, sep, count = part.partition("=")
        if not sep or not count.strip().isdigit():
            raise click.BadParameter(f"'{part}': expected PATTERN=N, e.g. co_visit=3",
                                     param_hint="--mix")
        mix[name.strip()] = int(count)
    return mix


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("graphfraud-demo"),
              show_default=True, help="Folder for the demo's input, analysis, view and packet.")
@click.option("--persons", type=click.IntRange(min=500), default=20000, show_default=True,
              help="Insured persons in the demo data.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demo(out: Path, persons: int, seed: int, as_json: bool) -> None:
    """Run the main job on built-in synthetic data: synth, analyze, then the riskiest ring's
    interactive view and referral packet. No server, no network needed.

    A previous demo folder at --out is replaced; any other existing folder is left alone.

    \b
    Example:
      graphfraud demo
      graphfraud demo --out /tmp/demo --persons 5000
    """
    from graphfraud.demo import run_demo

    console = _console()
    with _Progress(console, "demo") as progress:
        demo = _run(lambda: run_demo(out, persons=persons, seed=seed, progress=progress))
    result = demo.analysis
    if as_json:
        click.echo(json.dumps({"input": str(out / "input"), "analysis": str(result.out),
                               "view": str(demo.view) if demo.view else None,
                               "packet": str(demo.packet) if demo.packet else None,
                               **result.load.to_dict(), "detectors": result.detectors,
                               "rings": len(result.rings), "timings": result.timings},
                              ensure_ascii=False, indent=2))
        return
    _load_summary(result.load, console)
    _detect_summary(result, console)
    console.print(f"demo input:      [bold]{out / 'input'}[/] (truth: {out / 'input' / 'truth.json'})")
    console.print(f"analysis folder: [bold]{result.out}[/]")
    if demo.view is not None and demo.packet is not None:
        console.print(f"top ring's view (opens offline in a browser): [bold]{demo.view}[/]")
        console.print(f"top ring's referral packet (移送材料, masked): [bold]{demo.packet}[/] "
                      f"and {demo.packet}.zip")
    console.print(f"manifest:        {result.out / 'manifest.json'}")





@main.command()
@DIR
@click.option("--top", type=click.IntRange(min=1), default=None, help="Show at most N rings.")
@click.option("--pattern", default=None, help="Only rings with this pattern (e.g. co_visit).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Only rings scoring at least this.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def rings(analysis_dir: Path, top: int | None, pattern: str | None, min_score: float,
          as_json: bool) -> None:
    """List the rings of an analysis, riskiest first.

    \b
    Example:
      graphfraud rings analysis/ --top 20
      graphfraud rings analysis/ --pattern card_burst --min-score 0.8 --json
    """
    from graphfraud.results import open_analysis, select_rings

    rows = _run(lambda: select_rings(open_analysis(analysis_dir), top=top, pattern=pattern,
                                     min_score=min_score))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"团伙 / rings: {analysis_dir}")
    for col in ("#", "ring", "score", "patterns", "persons", "claims", "fund paid 涉案金额", "period"):
        table.add_column(col, justify="right" if col in ("#", "score", "persons", "claims") or
                         col.startswith("fund") else "left")
    for r in rows:
        period = " – ".join(p or "" for p in (r["period"] or []))
        table.add_row(str(r["rank"]), r["ring_id"], f"{r['score']:.2f}", ", ".join(r["patterns"]),
                      str(r["persons"]), f"{r['claims']:,}", f"{r['fund_paid']:,.2f}", period)
    _out().print(table)
    if not rows:
        click.echo("no ring matches", err=True)


@main.command()
@DIR
@click.argument("ring_ref", metavar="RING_ID")
@click.option("--redact", type=click.Choice(["none", "masked"]), default="none", show_default=True,
              help="Mask person and card ids and names (for a shared screen).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the texts.")
@click.option("--json", "as_json", is_flag=True, help="Print the ring as JSON.")
def show(analysis_dir: Path, ring_ref: str, redact: str, lang: str, as_json: bool) -> None:
    """One ring: members and roles, evidence, amounts, timeline. RING_ID may be a rank (1 = riskiest).

    \b
    Example:
      graphfraud show analysis/ R-3f9a1c2e
      graphfraud show analysis/ 1 --json
    """
    from graphfraud.redact import Redactor
    from graphfraud.results import open_analysis, ring_detail

    def load():
        a = open_analysis(analysis_dir)
        return ring_detail(a, a.ring(ring_ref)), Redactor(redact)

    from graphfraud.redact import scrub_tree

    detail, red = _run(load)
    detail = scrub_tree(detail, red.scrubber((m["kind"], m["id"], m["name"])
                                             for m in detail["members"]))
    if as_json:
        click.echo(json.dumps(detail, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    from graphfraud.rings import ROLE_TEXT

    en = lang == "en"
    out = _out()
    period = " – ".join(p or "" for p in (detail.get("period") or []))
    out.print(f"[bold]{detail['ring_id']}[/]  #{detail['rank']}  score {detail['score']:.2f}  "
              f"{', '.join(detail['patterns'])}")
    out.print(("fund paid (net of reversals): " if en else "涉案金额（统筹基金支付，已扣除冲正）：")
              + f"{detail['fund_paid']:,.2f} " + ("yuan" if en else "元")
              + f"   claims {detail['claims']:,}   {period}")
    members = Table(title="members" if en else "成员")
    for col in ("kind", "id", "name", "role", "claims", "fund paid", "critical", "reason"):
        members.add_column(col, justify="right" if col in ("claims", "fund paid") else "left")
    for m in detail["members"]:
        role = ROLE_TEXT.get(m.get("role") or "", ("", ""))[1 if en else 0]
        members.add_row(m["kind"], m["id"], m["name"] or "", role, f"{m['claims']:,}",
                        f"{m['fund_paid']:,.2f}", "✓" if m.get("critical") else "",
                        m.get("reason_en" if en else "reason") or "")
    out.print(members)
    out.print("[bold]" + ("evidence" if en else "证据") + "[/]")
    for ev in detail["evidence"]:
        out.print(f"• {ev['pattern']} ({ev['strength']:.2f}, {ev['claims']:,} claims): "
                  + (ev.get("summary_en") if en else ev.get("summary") or ""))
    timeline = Table(title="timeline" if en else "时间线")
    for col in ("month", "claims", "fund paid"):
        timeline.add_column(col, justify="left" if col == "month" else "right")
    for t in detail["timeline"]:
        timeline.add_row(t["month"], f"{t['claims']:,}", f"{t['fund_paid']:,.2f}")
    out.print(timeline)


@main.command()
@DIR
@click.option("--ring", "ring_ref", default=None, metavar="RING_ID",
              help="Only this ring (id or rank); default: all rings, riskiest first.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The HTML file to write.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the page.")
@click.option("--redact", type=click.Choice(["masked", "none"]), default="masked", show_default=True,
              help="Mask personal identifiers; none gives the sealed edition (audited).")
@click.option("--max-nodes", type=click.IntRange(min=10), default=2000, show_default=True,
              help="Whole rings, riskiest first, up to this many nodes.")
@click.option("--workspace", type=click.Path(path_type=Path), default=None,
              help="Workspace whose audit log records a sealed view.")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def viz(analysis_dir: Path, ring_ref: str | None, out: Path, lang: str, redact: str, max_nodes: int,
        workspace: Path | None, force: bool) -> None:
    """Write the interactive network: one HTML file that opens offline in any browser.

    Shape and colour show the kind of entity, size the fund paid, a thick border a member whose
    removal would split its ring. Click for evidence; filter by pattern or ring; search.

    \b
    Example:
      graphfraud viz analysis/ --out rings.html
      graphfraud viz analysis/ --ring 1 --out ring1.html --lang en
    """
    from graphfraud.loaders.sources import sha256_file
    from graphfraud.viz import write_view

    def run():
        path = write_view(analysis_dir, out, ring=ring_ref, lang=lang, redact=redact,
                          max_nodes=max_nodes, force=force)
        if redact == "none":
            audit_sealed(workspace, "viz.sealed", ring_ref or str(analysis_dir),
                         {"out": str(path.resolve()), "sha256": sha256_file(path)})
        return path

    with _console().status("drawing the network …"):
        path = _run(run)
    _console().print(f"view: [bold]{path}[/]" + ("" if redact == "masked" else "  (sealed edition)"))


@main.command()
@DIR
@click.argument("ring_ref", metavar="RING_ID")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="The packet folder to create; the zip is written beside it (FOLDER.zip).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the edition (documents and file names).")
@click.option("--redact", type=click.Choice(["masked", "none"]), default="masked", show_default=True,
              help="Mask personal identifiers; none gives the sealed edition for the police (audited).")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="The packet's date (default today); the same date gives the same bytes.")
@click.option("--settings", "settings_file", type=click.Path(path_type=Path), default=None,
              help="YAML of packet settings: amount bands (provinces fix them), major-case "
                   "threshold, agency, recipient, case number.")
@click.option("--transferred", is_flag=True, help="The case is transferred: add the 要情报告.")
@click.option("--workspace", type=click.Path(path_type=Path), default=None,
              help="Workspace whose audit log records a sealed edition.")
@click.option("--force", is_flag=True, help="Replace the packet folder and zip if they exist.")
@JSON
def packet(analysis_dir: Path, ring_ref: str, out: Path, lang: str, redact: str, date: str | None,
           settings_file: Path | None, transferred: bool, workspace: Path | None, force: bool,
           as_json: bool) -> None:
    """Write the referral packet (移送材料) of one ring: a folder and its zip.

    The draft 涉嫌犯罪案件移送书, the 案件调查报告, the 证据目录 (PDF, XLSX, CSV), a 要情报告 for
    major cases, network and timeline pictures, and manifest.json with every file's SHA-256.

    \b
    Example:
      graphfraud packet analysis/ R-3f9a1c2e --out packets/R-3f9a1c2e
      graphfraud packet analysis/ 1 --out sealed/ --redact none --date 2026-03-01
    """
    from graphfraud.packet import make_packet

    def run():
        settings = _read_settings(settings_file)
        if transferred:
            settings["transferred"] = True
        return make_packet(analysis_dir, ring_ref, out, lang=lang, redact=redact,
                           settings=settings or None, workspace=workspace, date=date, force=force)

    with _console().status("writing the packet (documents, PDF, workbook, figures) …"):
        result = _run(run)
    summary = {"folder": str(result.folder), "zip": str(result.zip), "ring_id": result.ring_id,
               "major": result.major, "band": result.band, "fund_paid": result.fund_paid,
               "manifest_sha256": result.manifest_sha256, "lang": result.lang,
               "redact": result.redact, "files": result.files}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    console = _console()
    console.print(f"packet: [bold]{result.folder}[/]  zip: [bold]{result.zip}[/]")
    console.print(f"ring {result.ring_id}  fund paid {result.fund_paid:,.2f}  band {result.band}"
                  f"  major: {'yes' if result.major else 'no'}")
    console.print(f"manifest SHA-256: {result.manifest_sha256}")
    if redact == "none":
        console.print("[yellow]sealed edition: personal identifiers in clear; recorded in the "
                      "audit log. Hand it over only to the receiving authority.[/]")


def _read_settings(path: Path | None) -> dict:
    from graphfraud.files import read_yaml

    data = read_yaml(path, "--settings") if path is not None else None
    if data is not None and not isinstance(data, dict):
        raise InputError(f"--settings {path}: expected 'name: value' lines")
    return data or {}


@main.command()
@click.argument("packet_path", metavar="PACKET", type=click.Path(path_type=Path))
@click.option("--manifest-sha256", default=None, metavar="HEX",
              help="The manifest's SHA-256 as recorded when the packet was made (audit log).")
def verify(packet_path: Path, manifest_sha256: str | None) -> None:
    """Re-check a referral packet (folder or zip) against its manifest; exit 1 on any change.

    \b
    Example:
      graphfraud verify packets/R-3f9a1c2e
      graphfraud verify packets/R-3f9a1c2e.zip
    """
    from graphfraud.packet import verify_packet

    problems = _run(lambda: verify_packet(packet_path, manifest_sha256=manifest_sha256))
    for p in problems:
        click.echo(p, err=True)
    if problems:
        raise click.ClickException(f"{packet_path}: {len(problems)} problem(s); the packet was "
                                   "changed after it was made")
    click.echo(f"{packet_path}: intact")


def _register() -> None:
    from graphfraud.cli_case import case
    from graphfraud.cli_neo4j import neo4j

    main.add_command(case)
    main.add_command(neo4j)


_register()
