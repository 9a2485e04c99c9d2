"""Synthetic medical-insurance claims with planted fraud rings and legitimate look-alikes.

The project's test bed: a fictional city (江州市, region codes 3312xx) whose insured
persons live ordinary lives (outpatient visits, pharmacy purchases, inpatient stays, about
one claim per person per month on average, so ``persons=85000, months=12`` gives about one
million claims), into which rings of every contract pattern are planted, together with
honest groups that look like rings (dialysis cohorts, nursing homes, family card sharing,
chemotherapy cycles, market-day crowds, group check-ups, dual-channel pharmacies, returns,
deaths in hospital). ``truth.json`` is the answer key; the analysis never reads it.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from graphfraud.synth import SynthConfig, generate
>>> with tempfile.TemporaryDirectory() as d:
...     summary = generate(Path(d), SynthConfig(persons=2000, months=1, seed=1))
>>> summary["claims"] > 1000
True
"""

from __future__ import annotations

from graphfraud.synth.config import PATTERNS, SynthConfig
from graphfraud.synth.ids import gb11643_check_digit
from graphfraud.synth.lookalikes import LOOKALIKES, register
from graphfraud.synth.run import TABLE_NAMES, generate

__all__ = ["generate", "SynthConfig", "PATTERNS", "LOOKALIKES", "register", "TABLE_NAMES",
           "gb11643_check_digit"]
