"""Benchmark child: ``graphfraud.analysis.analyze`` with its stages marked (for bench_scale.py).

Stages: load, detect (every detector), rings (evidence graph, Leiden, scores, roles, amounts),
write (rings.json, entities.csv, manifest.json). ``--engine spark`` is variant (c).

    python bench/run_graphfraud.py SRC OUT [--engine duckdb|spark] --marks FILE --result FILE
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scalekit import StageMarks, child_parser, write_result  # noqa: E402


def main() -> None:
    parser = child_parser(__doc__)
    parser.add_argument("src", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--engine", default="duckdb")
    args = parser.parse_args()

    import graphfraud.detectors
    from graphfraud.analysis import analyze

    marks = StageMarks(args.marks)

    def progress(stage: str, done: int, total: int) -> None:
        marks.stage("detect" if stage.startswith("detect") else stage)

    # analyze() reports a stage as it starts; detection starts with available_columns (and the
    # shared views), before the first detector's callback: mark it there, as the manifest's
    # "detect" timing does. If analyze() stops calling it, the first detector marks the stage.
    available_columns = graphfraud.detectors.available_columns

    def marked_available_columns(*a: Any, **kw: Any) -> Any:
        marks.stage("detect")
        return available_columns(*a, **kw)

    graphfraud.detectors.available_columns = marked_available_columns

    kwargs: dict[str, Any] = {}
    if "engine" in inspect.signature(analyze).parameters or args.engine != "duckdb":
        kwargs["engine"] = args.engine  # until analyze() takes it, only a non-default fails
    analyze(args.src, args.out, force=True, progress=progress, **kwargs)
    marks.end()

    manifest = json.loads((args.out / "manifest.json").read_text(encoding="utf-8"))
    write_result(args.result, {
        "engine": args.engine,
        "claims_read": manifest["tables"]["claims"]["read"],
        "claims_accepted": manifest["tables"]["claims"]["accepted"],
        "rings": manifest["rings"]["count"],
        "evidence_groups": sum(d["groups"] for d in manifest["detectors"]["run"]),
        "manifest_timings": manifest["timings"],
        "detectors": {d["detector"]: d["seconds"] for d in manifest["detectors"]["run"]},
    })


if __name__ == "__main__":
    main()
