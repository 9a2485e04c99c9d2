"""``graphfraud demo``: the main job on built-in synthetic data, with no server."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from graphfraud.analysis import AnalysisResult, analyze
from graphfraud.errors import OutputExistsError
from graphfraud.outdir import atomic_folder

__all__ = ["run_demo", "DemoResult", "DEMO_MARKER"]

#: file that marks a folder as made by ``graphfraud demo``, so a re-run may replace it
DEMO_MARKER = ".graphfraud-demo"
#: the demo packet's date: fixed, so the demo gives the same bytes on every run
_DEMO_DATE = dt.date(2024, 7, 1)


@dataclass
class DemoResult:
    """The demo's analysis, and its top ring's view and packet (None without rings)."""

    analysis: AnalysisResult
    view: Path | None = None
    packet: Path | None = None


def run_demo(out: str | Path = "graphfraud-demo", *, persons: int = 20000, months: int = 6,
             seed: int = 0, progress: Callable[[str, int, int], None] | None = None
             ) -> DemoResult:
    """Generate synthetic claims into ``out/input``, analyze them into ``out/analysis``, and
    write the riskiest ring's interactive view (``out/view.html``) and referral packet
    (``out/packet-<ring id>/`` and its zip), masked.

    A folder at ``out`` that an earlier demo made is replaced; any other is left alone. The
    result's ``view`` and ``packet`` give their paths (None when no ring was found).
    """
    from graphfraud.synth import SynthConfig, generate

    out = Path(out)
    if out.exists() and not (out / DEMO_MARKER).exists():
        raise OutputExistsError(f"{out}: exists and was not made by graphfraud demo; "
                                "choose another --out")
    with atomic_folder(out, force=True) as work:
        (work / DEMO_MARKER).write_text("made by graphfraud demo\n", encoding="utf-8")
        (work / "input").mkdir()
        generate(work / "input", SynthConfig(persons=persons, months=months, seed=seed))
        result = analyze(work / "input", work / "analysis", seed=seed, progress=progress)
        demo = DemoResult(result)
        if result.rings:
            from graphfraud.packet import make_packet
            from graphfraud.results import open_analysis
            from graphfraud.viz import write_view

            analysis = open_analysis(work / "analysis")
            top = analysis.rings[0]
            if progress is not None:
                progress("view and packet of the top ring", 1, 1)
            write_view(analysis, work / "view.html", ring=top["ring_id"])
            make_packet(analysis, top["ring_id"], work / f"packet-{top['ring_id']}",
                        date=_DEMO_DATE)
            demo.view = out / "view.html"
            demo.packet = out / f"packet-{top['ring_id']}"
    result.out = out / "analysis"  # the run built it under a temporary name
    return demo
