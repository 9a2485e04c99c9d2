"""Scaling benchmark: graphfraud against an analyst's script, the bare SQL floor and Spark.

Targets (issue 6): 10M claims in <= 10 min and <= 10 GB peak RSS; >= 20x faster than the
analyst's pandas + networkx script (a) at 1M claims; within 1.5x of the floor (b), the same SQL
straight in DuckDB plus one Leiden call; 10x the claims in <= 12x the time; 50M claims complete.

Each variant runs in its own process (``run_graphfraud.py``, ``run_floor.py``,
``run_analyst.py``; variant (c) is ``run_graphfraud.py --engine spark``), which marks its
stages; the parent samples the RSS of the child's whole process tree every 0.1 s and kills it
at the analyst's time limit or the memory cap ("did not finish", with the stage it was in).

    python bench/bench_scale.py                           # 100k, 1M, 1M-nohospital, 10M; every variant
    python bench/bench_scale.py --sizes 50M --variants graphfraud,floor
    python bench/bench_scale.py --sizes 1M --variants analyst,floor
    ... --record                 # bench/results/scale.json, BENCHMARKS.md, bench/scaling.png
    ... --report-only --record   # redraw the section and the plot from the recorded figures

Sizes are synthetic claims (``graphfraud synth --seed 2024``), made once under ``--workdir``
and reused while their ``truth.json`` exists; ``--sizes`` also takes ``PERSONSxMONTHS``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402
from scalekit import GIB, Measured, measure  # noqa: E402

BENCH = ROOT / "bench"
SEED = 2024
VARIANTS = ("graphfraud", "floor", "analyst", "spark")


@dataclass(frozen=True)
class Size:
    """One input size: the ``graphfraud synth`` parameters that make it."""

    name: str
    persons: int
    months: int = 12
    big_hospital_daily: int = 0
    format: str = "csv"

    @property
    def folder(self) -> str:
        return (f"synth-{self.persons}x{self.months}"
                + (f"-big{self.big_hospital_daily}" if self.big_hospital_daily else "")
                + ("-parquet" if self.format == "parquet" else ""))

    def describe(self) -> str:
        text = f"{self.persons:,} persons × {self.months} months"
        if self.big_hospital_daily:
            text += f", `--big-hospital-daily {self.big_hospital_daily}`"
        if self.format != "csv":
            text += f", `--format {self.format}`"
        return text


SIZES = {s.name: s for s in (
    # a level-3 hospital with 5,000 patients a day is alone about 1.8M claims a year (150k a
    # month): 100k claims cannot hold one; 1M holds a quarter of a city with one
    Size("100k", 8_500),
    Size("1M", 180_000, months=3, big_hospital_daily=5000),
    Size("1M-nohospital", 85_000),  # the same size without the big hospital, for comparison
    Size("10M", 680_000, big_hospital_daily=5000),
    # the 10M city over five years: a world of 4.25M persons does not fit synth's memory, and
    # as CSV this would be ~23 GB
    Size("50M", 680_000, months=60, big_hospital_daily=5000, format="parquet"),
)}


def parse_size(token: str) -> Size:
    """A named size (``100k``, ``1M``, ``10M``, ``50M``) or ``PERSONSxMONTHS`` (development)."""
    if token in SIZES:
        return SIZES[token]
    m = re.fullmatch(r"(\d+)x(\d+)", token)
    if not m:
        raise argparse.ArgumentTypeError(f"unknown size {token!r}: use {', '.join(SIZES)} or "
                                         "PERSONSxMONTHS")
    return Size(token, int(m.group(1)), int(m.group(2)))


def ensure_synth(size: Size, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """The size's synthetic input (made unless its ``truth.json`` exists) and its description."""
    src = workdir / size.folder
    if not (src / "truth.json").exists():
        print(f"making {src} ...", flush=True)
        cmd = [sys.executable, "-m", "graphfraud", "synth", "--out", str(src), "--force",
               "--persons", str(size.persons), "--months", str(size.months), "--seed", str(SEED),
               "--format", size.format, "--big-hospital-daily", str(size.big_hospital_daily)]
        if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
            sys.exit(f"graphfraud synth failed for size {size.name}")
    truth = json.loads((src / "truth.json").read_text(encoding="utf-8"))
    info = {**asdict(size), "seed": SEED, "input": size.folder,
            "claims": truth["counts"]["claims"], "items": truth["counts"].get("items", 0)}
    return src, info


def variant_command(variant: str, src: Path, run_dir: Path) -> list[str]:
    """The child process of one variant."""
    py = [sys.executable]
    if variant in ("graphfraud", "spark"):
        engine = "duckdb" if variant == "graphfraud" else "spark"
        return py + [str(BENCH / "run_graphfraud.py"), str(src), str(run_dir / "analysis"),
                     "--engine", engine]
    if variant == "floor":
        return py + [str(BENCH / "run_floor.py"), str(src), str(run_dir)]
    if variant == "analyst":
        return py + [str(BENCH / "run_analyst.py"), str(src)]
    raise ValueError(f"unknown variant {variant!r}")


def machine() -> dict[str, Any]:
    """The machine and the versions a run was measured with."""
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    cpu, memory = platform.processor() or platform.machine(), 0
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in
                   Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name"))
        memory = next(int(ln.split()[1]) * 1024 for ln in
                      Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count(), "memory_gib": round(memory / GIB, 1), "cpu": cpu,
            "os": platform.platform(), "python": platform.python_version(),
            "duckdb": version("duckdb"), "pyspark": version("pyspark"),
            "pandas": version("pandas"), "networkx": version("networkx"),
            "igraph": version("igraph"), "leidenalg": version("leidenalg"),
            "graphfraud": version("graphfraud")}


def run_variant(variant: str, src: Path, run_dir: Path, *, analyst_timeout: float,
                memory_cap_gib: float) -> Measured:
    """Run one variant on one input, printing its stages as they start."""
    def show(stage: str, seconds: float, rss: int) -> None:
        print(f"    {seconds:8.1f} s  {rss / GIB:6.2f} GiB  {stage}", flush=True)

    return measure(variant_command(variant, src, run_dir), run_dir,
                   timeout=analyst_timeout if variant == "analyst" else None,
                   memory_cap_bytes=int(memory_cap_gib * GIB), on_stage=show, cwd=ROOT)


def summary(m: Measured) -> str:
    """One line about a run."""
    stages = ", ".join(f"{s.stage} {s.wall_s:.1f} s/{s.peak_rss_bytes / GIB:.2f} GiB"
                       for s in m.stages)
    head = f"{m.wall_s:.1f} s, peak {m.peak_rss_bytes / GIB:.2f} GiB"
    if m.status == "ok":
        return f"{head} ({stages})"
    if m.status == "failed":
        return f"FAILED (exit code {m.exit_code}) in {m.stage_reached} after {head}: {m.error}"
    return f"DID NOT FINISH ({m.status} in {m.stage_reached}) after {head} ({stages})"


def load_results(path: Path) -> dict[str, Any]:
    """The recorded figures: ``{"sizes": {size: info}, "runs": {size: {variant: run}}}``."""
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"sizes": {}, "runs": {}}


def save_results(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1M,1M-nohospital,10M",
                        help="comma-separated: 100k, 1M, 10M, 50M or PERSONSxMONTHS")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument("--workdir", type=Path, default=BENCH / "out",
                        help="synthetic inputs and the runs' files")
    parser.add_argument("--analyst-timeout", type=float, default=1800.0, metavar="SECONDS")
    parser.add_argument("--memory-cap-gib", type=float, default=20.0,
                        help="kill a run whose process tree's RSS passes this")
    parser.add_argument("--record", action="store_true",
                        help="add the figures to --results; redraw the BENCHMARKS.md section "
                        "and the plot")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing; with --record, redraw from the recorded figures")
    parser.add_argument("--results", type=Path, default=BENCH / "results" / "scale.json")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--plot", type=Path, default=BENCH / "scaling.png")
    args = parser.parse_args(argv)
    sizes = [parse_size(t.strip()) for t in args.sizes.split(",") if t.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}: use {', '.join(VARIANTS)}")

    results = load_results(args.results)
    if not args.report_only:
        where = machine()
        for size in sizes:
            src, info = ensure_synth(size, args.workdir)
            print(f"{size.name}: {size.describe().replace('`', '')}, seed {SEED} ({src}): "
                  f"{info['claims']:,} claims, {info['items']:,} item lines", flush=True)
            results["sizes"][size.name] = info
            for variant in variants:
                print(f"  {variant}", flush=True)
                run_dir = args.workdir / "scale" / f"{size.name}-{variant}"
                m = run_variant(variant, src, run_dir, analyst_timeout=args.analyst_timeout,
                                memory_cap_gib=args.memory_cap_gib)
                print(f"  {variant}: {summary(m)}", flush=True)
                if m.status == "failed":
                    print(f"    (its stderr: {run_dir / 'stderr.txt'})", flush=True)
                run = m.to_json()
                now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
                run.update(machine=where, date=now,
                           limits={"timeout_s": args.analyst_timeout if variant == "analyst" else None,
                                   "memory_cap_gib": args.memory_cap_gib})
                results["runs"].setdefault(size.name, {})[variant] = run
                if args.record:  # kept as they come: a long series may be stopped half-way
                    save_results(args.results, results)
    if args.record:
        from scale_report import write_report

        save_results(args.results, results)
        write_report(results, args.benchmarks, args.plot)
        print(f"recorded: {args.results}, {args.benchmarks}, {args.plot}")
    elif args.report_only:
        from scale_report import render_section

        print(render_section(results, str(args.plot)))
    if not args.report_only:
        print("\nsize     variant      status          wall        peak RSS")
        for size in sizes:
            for variant in variants:
                run = results["runs"][size.name][variant]
                print(f"{size.name:8} {variant:12} {run['status']:15} {run['wall_s']:9.1f} s "
                      f"{run['peak_rss_gib']:8.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
