"""Claims tables built in code, next to the answers the tests expect."""

from __future__ import annotations

import csv
import io
from pathlib import Path


CANONICAL_HEADER = ["claim_id", "person_id", "card_id", "provider_id", "visit_type", "settled_at",
                    "admit_date", "discharge_date", "total_amount", "fund_paid"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8",
              bom: bool = False) -> Path:
    """Write a CSV the way an export tool would (csv module quoting, given encoding)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def good_claims() -> list[list[str]]:
    """Five well-formed claims in canonical column order (CANONICAL_HEADER)."""
    return [
        ["S001", "P001", "C001", "H33010200001", "outpatient", "2024-03-01 09:05:00", "", "", "120.50", "80.00"],
        ["S002", "P002", "", "P33010200002", "pharmacy", "2024-03-02 10:00:00", "", "", "56.00", "30.00"],
        ["S003", "P003", "C003", "H33010200001", "inpatient", "2024-03-10 16:00:00", "2024-03-03", "2024-03-10", "8000.00", "6000.00"],
        ["S004", "P001", "C001", "H33010200001", "outpatient", "2024-03-04 11:00:00", "", "", "-120.50", "-80.00"],
        ["S005", "P004", "C004", "H33010200003", "outpatient", "2024-03-05 08:30:00", "", "", "35.00", "20.00"],
    ]


def read_parquet_rows(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def read_rejected(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def load_into(tmp_path: Path, source: Path, **kwargs):
    """Run the loaders on ``source`` into a fresh folder; return (result, folder)."""
    from graphfraud.loaders import load

    out = tmp_path / "loaded"
    return load(source, out, **kwargs), out
