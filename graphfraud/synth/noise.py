"""Realistic dirt: reversals, duplicated rows and malformed fields.

Only ordinary background claims are touched (never a planted ring or look-alike claim), so
the answer key's claim ids always point at well-formed rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphfraud.synth.batch import Batch

REVERSAL_RATE = 0.01
DUPLICATE_RATE = 0.001
MALFORMED_RATE = 0.0005
MALFORMED_KINDS = ("settled_at", "person_id", "total_amount", "visit_type")


def ordinary(b: Batch) -> np.ndarray:
    """Mask of background claims that are not themselves reversals."""
    c = b.c
    return ((c["ring"] < 0) & (c["look"] < 0) & (c["total"] > 0) & (c["orig_pid"] < 0)
            & (c["orig_local"] < 0) & (c["orig_seq"] < 0))


def ordinary_reversal(b: Batch) -> np.ndarray:
    """Mask of the noise reversals (not those of look-alike groups)."""
    return (b.c["orig_seq"] >= 0) & (b.c["ring"] < 0) & (b.c["look"] < 0)


def reversals(b: Batch, rng: np.random.Generator, end_s: int) -> Batch:
    """Reversals (冲正/退费) of about 1% of the claims of ``b``: same visit, negative amounts,
    minutes to ten days later; ``orig_local`` points at the original row of ``b``."""
    cand = np.flatnonzero(ordinary(b))
    pick = np.sort(cand[rng.random(len(cand)) < REVERSAL_RATE])
    r = b.take(pick)
    quick = rng.random(len(pick)) < 0.5
    delay = np.where(quick, rng.integers(300, 3600, len(pick)),
                     rng.integers(86400, 10 * 86400, len(pick)))
    r.c["settled"] = r.c["settled"] + delay
    r.c["total"], r.c["fund"] = -r.c["total"], -r.c["fund"]
    r.c["orig_local"] = pick
    r.l["qty"], r.l["amount"] = -r.l["qty"], -r.l["amount"]
    return r.take(np.flatnonzero(r.c["settled"] < end_s))


def pick_rows(b: Batch, rng: np.random.Generator, rate: float, exclude: np.ndarray) -> np.ndarray:
    """Sorted indexes of ordinary rows chosen with probability ``rate``."""
    ok = ordinary(b) & ~exclude
    return np.flatnonzero(ok & (rng.random(b.n) < rate))


def _garbage(kind: str, k: int, rng: np.random.Generator, text: bool) -> pa.Array:
    if not text and kind != "visit_type":
        return pa.nulls(k)
    opts = {"settled_at": ["2024-02-30 10:12:00", "2024-13-05 25:61:00", "N/A", "0000-00-00",
                           "2024-06-31"],
            "person_id": [""],
            "total_amount": ["12.3.4", "¥", "#VALUE!", "1O5.20", "--"],
            "visit_type": ["急诊", "emergency", "其他", "9"]}[kind]
    return pa.array([opts[i] for i in rng.integers(0, len(opts), k)], pa.string())


def corrupt(table: pa.Table, rows: np.ndarray, names: dict[str, str], rng: np.random.Generator,
            text: bool) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Break one field of each of ``rows`` (cycling over :data:`MALFORMED_KINDS`).

    ``names`` maps canonical column names to the written header. Returns the table and
    ``(row, kind)`` pairs.
    """
    kinds = [MALFORMED_KINDS[i % len(MALFORMED_KINDS)] for i in rng.integers(0, 4, len(rows))]
    done = []
    for kind in MALFORMED_KINDS:
        sel = np.array([r for r, k in zip(rows, kinds) if k == kind], np.int64)
        if len(sel) == 0:
            continue
        col_name = names[kind]
        i = table.schema.get_field_index(col_name)
        col = table.column(i).combine_chunks()
        mask = np.zeros(len(col), bool)
        mask[sel] = True
        repl = _garbage(kind, len(sel), rng, text or col.type == pa.string())
        if kind == "person_id":
            repl = pa.nulls(len(sel), pa.string())
        col = pc.replace_with_mask(col, pa.array(mask), repl.cast(col.type))
        table = table.set_column(i, table.field(i), col)
        done += [(int(r), kind) for r in sel]
    return table, sorted(done)
