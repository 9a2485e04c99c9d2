"""Synthetic-data benchmark: ``graphfraud synth`` at a million claims; wall time and peak RSS.

Target (issue 2): 1M claims in <= 60 s.

    python bench/bench_synth.py                 # persons=85000, months=12 (about 1M claims)
    python bench/bench_synth.py --record        # also writes the figures to BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, run_child, upsert_row  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=85_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    out = args.workdir / f"synth-{args.persons}x{args.months}"
    shutil.rmtree(out, ignore_errors=True)
    wall, rss, code = run_child([sys.executable, "-m", "graphfraud", "synth", "--out", str(out),
                                 "--persons", str(args.persons), "--months", str(args.months),
                                 "--seed", str(args.seed)])
    if code != 0:
        sys.exit(f"synth failed with exit code {code}")
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    figures = {"persons": args.persons, "months": args.months, "claims": truth["counts"]["claims"],
               "items": truth["counts"].get("items", 0), "rings": len(truth["rings"]),
               "lookalikes": len(truth["lookalikes"]), "wall_s": round(wall, 1),
               "peak_rss_gib": round(rss, 2)}
    print(json.dumps(figures, indent=2))
    print(f"target (1M claims in <= 60 s): {'met' if wall <= 60 else 'MISSED'}")
    if args.record:
        upsert_row("Synthetic data (`python bench/bench_synth.py`)",
                   ["persons × months", "claims", "item lines", "rings", "look-alike groups",
                    "wall", "peak RSS"],
                   [f"{args.persons:,} × {args.months}", f"{figures['claims']:,}",
                    f"{figures['items']:,}", str(figures["rings"]), str(figures["lookalikes"]),
                    f"{figures['wall_s']} s", f"{figures['peak_rss_gib']} GiB"])

if __name__ == "__main__":
    main()
