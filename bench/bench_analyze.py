"""Analysis benchmark: ``graphfraud analyze`` on synthetic claims; per-stage wall time, peak RSS.

Targets (issue 3): 1M claims <= 60 s; 10M claims <= 10 min with peak RSS <= 10 GB on 2 cores; a
level-3 hospital with 5,000 patients a day must not blow this up.

    python bench/bench_analyze.py --persons 85000 --months 12            # about 1M claims
    python bench/bench_analyze.py --persons 85000 --months 12 --big-hospital-daily 5000
    python bench/bench_analyze.py --persons 850000 --months 12           # about 10M claims
    ... --record                                                         # BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, run_child, upsert_row  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=85_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--big-hospital-daily", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    tag = f"{args.persons}x{args.months}" + (f"-big{args.big_hospital_daily}" if args.big_hospital_daily else "")
    src = args.workdir / f"synth-{tag}"
    if not (src / "truth.json").exists():
        cmd = [sys.executable, "-m", "graphfraud", "synth", "--out", str(src), "--force",
               "--persons", str(args.persons), "--months", str(args.months), "--seed", str(args.seed),
               "--big-hospital-daily", str(args.big_hospital_daily)]
        if run_child(cmd)[2] != 0:
            sys.exit("synth failed")
    out = args.workdir / f"analysis-{tag}"
    wall, rss, code = run_child([sys.executable, "-m", "graphfraud", "analyze", str(src), "--out",
                                 str(out), "--force"])
    if code != 0:
        sys.exit(f"analyze failed with exit code {code}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    claims = manifest["tables"]["claims"]["read"]
    figures = {"input": tag, "claims": claims, "wall_s": round(wall, 1), "peak_rss_gib": round(rss, 2),
               "stages": manifest["timings"],
               "detectors": {d["detector"]: d["seconds"] for d in manifest["detectors"]["run"]},
               "rings": manifest["rings"]["count"]}
    print(json.dumps(figures, indent=2))
    if args.record:
        record(figures)


def record(f: dict) -> None:
    slow = sorted(f["detectors"].items(), key=lambda kv: -kv[1])[:3]
    upsert_row("Analysis (`python bench/bench_analyze.py`)",
               ["input", "claims", "wall", "peak RSS", "stages (s)", "slowest detectors (s)", "rings"],
               [f["input"], f"{f['claims']:,}", f"{f['wall_s']} s", f"{f['peak_rss_gib']} GiB",
                ", ".join(f"{k} {v}" for k, v in f["stages"].items()),
                ", ".join(f"{k} {v}" for k, v in slow), str(f["rings"])])

if __name__ == "__main__":
    main()
