"""The generator's settings and how they are checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from graphfraud.errors import check_argument

__all__ = ["SynthConfig", "PATTERNS", "FORMATS", "ENCODINGS", "HEADERS"]

#: the contract's ring patterns the generator plants (dense_block is a detector, not a scheme)
PATTERNS = ("shared_card", "card_burst", "co_visit", "induced_admission", "drug_resale",
            "deceased_claim", "readmission", "doctor_pharmacy_collusion", "insider_collusion")
FORMATS = ("csv", "csv.gz", "parquet", "xlsx")
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
HEADERS = ("canonical", "chinese", "platform")


@dataclass(frozen=True)
class SynthConfig:
    """Settings of :func:`graphfraud.synth.generate`.

    Parameters
    ----------
    persons : int
        Insured persons. The average person makes about one claim a month, so
        ``persons * months`` is roughly the number of claims (85,000 x 12 gives about 1M).
    months : int
        Calendar months covered, from ``start``.
    seed : int
        Seed of every random choice; the same settings give byte-identical files.
    start : str
        First day, ``YYYY-MM-DD``.
    rings : int or None
        Number of planted rings; ``None`` scales with ``persons`` (at least one per pattern).
    mix : dict of str to int or None
        Rings per pattern (names of :data:`PATTERNS`); overrides ``rings``.
    lookalikes : float
        Scale factor of the legitimate look-alike groups (0 disables them).
    big_hospital_daily : int
        If positive, one level-3 hospital sees this many distinct patients per day, on top of
        the ordinary claims (for load tests).
    noise : bool
        Add reversals, duplicated rows and malformed fields.
    fmt : str
        ``csv``, ``csv.gz``, ``parquet`` or ``xlsx``.
    encoding : str
        ``utf-8``, ``utf-8-sig`` or ``gb18030`` (CSV only).
    headers : str
        ``canonical``, ``chinese`` (first Chinese alias of the contract) or ``platform``
        (first platform field code).
    items : bool
        Write ``items``.
    persons_table : bool
        Write ``persons``.
    """

    persons: int = 20000
    months: int = 6
    seed: int = 0
    start: str = "2024-01-01"
    rings: int | None = None
    mix: dict[str, int] | None = None
    lookalikes: float = 1.0
    big_hospital_daily: int = 0
    noise: bool = True
    fmt: str = "csv"
    encoding: str = "utf-8"
    headers: str = "canonical"
    items: bool = True
    persons_table: bool = True

    def validate(self) -> None:
        """Raise :class:`graphfraud.errors.InputError` for a setting out of range."""
        check_argument(isinstance(self.persons, int) and self.persons >= 500,
                       "persons must be an integer of at least 500")
        check_argument(isinstance(self.months, int) and 1 <= self.months <= 120,
                       "months must be between 1 and 120")
        check_argument(isinstance(self.seed, int) and self.seed >= 0,
                       "seed must be a non-negative integer")
        try:
            dt.date.fromisoformat(self.start)
        except (TypeError, ValueError):
            check_argument(False, f"start must be a date YYYY-MM-DD, got {self.start!r}")
        check_argument(self.rings is None or (isinstance(self.rings, int) and self.rings >= 0),
                       "rings must be None or a non-negative integer")
        if self.mix is not None:
            unknown = sorted(set(self.mix) - set(PATTERNS))
            check_argument(not unknown, f"unknown pattern(s) in mix: {unknown}; "
                           f"known: {', '.join(PATTERNS)}")
            check_argument(all(isinstance(v, int) and v >= 0 for v in self.mix.values()),
                           "mix values must be non-negative integers")
        check_argument(self.lookalikes >= 0, "lookalikes must be >= 0")
        check_argument(isinstance(self.big_hospital_daily, int) and self.big_hospital_daily >= 0,
                       "big_hospital_daily must be a non-negative integer")
        check_argument(self.fmt in FORMATS, f"fmt must be one of {', '.join(FORMATS)}")
        check_argument(self.encoding in ENCODINGS,
                       f"encoding must be one of {', '.join(ENCODINGS)}")
        check_argument(self.encoding == "utf-8" or self.fmt in ("csv", "csv.gz"),
                       "encoding applies to CSV only")
        check_argument(self.headers in HEADERS, f"headers must be one of {', '.join(HEADERS)}")

    @property
    def ext(self) -> str:
        """File extension of the tables."""
        return self.fmt

    def start_date(self) -> dt.date:
        """``start`` as a date."""
        return dt.date.fromisoformat(self.start)

    def to_dict(self) -> dict:
        """Settings as plain JSON values (mix sorted by pattern)."""
        d = asdict(self)
        if d["mix"] is not None:
            d["mix"] = {k: d["mix"][k] for k in sorted(d["mix"])}
        return d
