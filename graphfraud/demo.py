"""``graphfraud demo``: the main job on built-in synthetic data, with no server."""

from __future__ import annotations

from pathlib import Path

from graphfraud.analysis import AnalysisResult, analyze
from graphfraud.errors import OutputExistsError
from graphfraud.outdir import atomic_folder

__all__ = ["run_demo", "DEMO_MARKER"]

#: file that marks a folder as made by ``graphfraud demo``, so a re-run may replace it
DEMO_MARKER = ".graphfraud-demo"


def run_demo(out: str | Path = "graphfraud-demo", *, persons: int = 20000, months: int = 6,
             seed: int = 0) -> AnalysisResult:
    """Generate synthetic claims into ``out/input`` and analyze them into ``out/analysis``.

    A folder at ``out`` that an earlier demo made is replaced; any other is left alone.
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
        result = analyze(work / "input", work / "analysis", seed=seed)
    result.out = out / "analysis"  # the run built it under a temporary name
    return result
