"""From dense integer batches to the contract's tables (Arrow), in canonical column names.

``text=True`` gives all-string columns exactly as they are written to CSV or Excel
(dates ``YYYY-MM-DD``, datetimes ``YYYY-MM-DD HH:MM:SS``, amounts with 2 decimals; in
Chinese mode visit types in Chinese and some dates as ``2024/3/1`` or ``2024年3月1日``);
``text=False`` gives typed columns for Parquet. Missing values are nulls (empty cells).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphfraud.synth.catalog import CATALOG as CAT
from graphfraud.synth.catalog import PROVIDER_TYPES, VISIT_TYPES, VISIT_TYPES_ZH
from graphfraud.synth.ids import date_digits, fixed_strings, scramble, trace_codes
from graphfraud.synth.world import World

__all__ = ["Strings", "claims_table", "items_table", "reference_tables"]


class Strings:
    """Arrow string arrays of the world's ids, made once."""

    def __init__(self, w: World) -> None:
        self.prov = pa.array(w.prov_code, pa.string())
        self.doc = pa.array(w.doc_code, pa.string())
        self.staff = pa.array(w.staff_code, pa.string())
        self.diag = pa.array(CAT.diag_code, pa.string())
        self.item = pa.array(CAT.item_code, pa.string())
        self.item_name = pa.array(CAT.item_name, pa.string())
        nt = w.prov["terminals"]
        self.term_start = np.concatenate([[0], np.cumsum(nt)[:-1]]).astype(np.int64)
        owner = np.repeat(np.arange(len(nt)), nt)
        k = np.arange(len(owner)) - self.term_start[owner] + 1
        self.term = pc.binary_join_element_wise(self.prov.take(pa.array(owner)),
                                                fixed_strings((k, 2)), "-")


def _take(arr: pa.Array, idx: np.ndarray) -> pa.Array:
    """``arr[idx]`` with nulls where ``idx < 0``."""
    idx = np.asarray(idx, np.int64)
    return arr.take(pa.array(np.maximum(idx, 0), mask=idx < 0))


def money(cents: np.ndarray, text: bool, mask: np.ndarray | None = None) -> pa.Array:
    """Fen as decimal(18, 2), or its text ``123.45``."""
    cents = np.asarray(cents, np.int64)
    buf = np.empty((len(cents), 2), np.int64)
    buf[:, 0] = cents
    buf[:, 1] = np.where(cents < 0, -1, 0)
    validity = None if mask is None else pa.array(~mask).buffers()[1]
    nulls = 0 if mask is None else int(mask.sum())
    arr = pa.Array.from_buffers(pa.decimal128(18, 2), len(cents),
                                [validity, pa.py_buffer(buf.tobytes())], null_count=nulls)
    return pc.cast(arr, pa.string()) if text else arr


def _styles(key: np.ndarray) -> np.ndarray:
    """Deterministic per-row date style in Chinese mode: 0 ISO (60%), 1 slashes, 2 年月日."""
    r = (np.asarray(key, np.int64) * 2654435761 + 12345) % 1000 // 10
    return np.where(r < 60, 0, np.where(r < 80, 1, 2))


def dates(days: np.ndarray, text: bool, chinese: bool, key: np.ndarray,
          seconds: np.ndarray | None = None) -> pa.Array:
    """Dates (or datetimes if ``seconds`` of day are given); nulls where ``days`` < -30000."""
    days = np.asarray(days, np.int64)
    mask = days < -30000
    if seconds is None:
        typed = pa.array(days.astype(np.int32), pa.date32(), mask=mask)
    else:
        typed = pa.array(days * 86400 + seconds, pa.timestamp("s"), mask=mask)
    if not text:
        return typed
    iso = pc.cast(typed, pa.string())
    if not chinese:
        return iso
    d = np.asarray(days, "datetime64[D]")
    y = pc.cast(pa.array(d.astype("datetime64[Y]").astype(np.int64) + 1970), pa.string())
    m = pc.cast(pa.array(d.astype("datetime64[M]").astype(np.int64) % 12 + 1), pa.string())
    dd = pc.cast(pa.array((d - d.astype("datetime64[M]")).astype(np.int64) + 1), pa.string())
    slash = pc.binary_join_element_wise(y, m, dd, "/")
    zh = pc.binary_join_element_wise(y, "年", m, "月", dd, "日", "")
    if seconds is not None:
        hms = pc.utf8_slice_codeunits(iso, 10, 19)
        slash = pc.binary_join_element_wise(slash, hms, "")
        zh = pc.binary_join_element_wise(zh, hms, "")
    st = _styles(key)
    out = pc.if_else(pa.array(st == 1), slash, pc.if_else(pa.array(st == 2), zh, iso))
    return pc.if_else(pa.array(mask), pa.nulls(len(days), pa.string()), out)


def claim_ids(settled: np.ndarray, seq: np.ndarray) -> pa.Array:
    """``3312`` + YYMMDD of settlement + 10-digit sequence."""
    return fixed_strings("3312", date_digits(np.asarray(settled) // 86400, short=True), (seq, 10))


def claims_table(w: World, s: Strings, c: dict[str, np.ndarray], seq: np.ndarray, *,
                 text: bool, chinese: bool) -> pa.Table:
    """The claims rows of a sorted month batch ``c`` with sequence numbers ``seq``."""
    n = len(seq)
    rev = c["orig_seq"] >= 0
    cid = claim_ids(c["settled"], seq)
    orig = claim_ids(np.where(rev, c["orig_settled"], 0), np.maximum(c["orig_seq"], 0))
    orig = pc.if_else(pa.array(rev), orig, pa.nulls(n, pa.string()))
    root = np.where(rev, c["orig_seq"], seq)
    vday = np.where(c["vtype"] == 1, c["admit"], np.where(rev, c["orig_settled"], c["settled"]) // 86400)
    visit = fixed_strings("33", date_digits(vday, short=True), (scramble(root, 12, salt=7), 12))
    vt_names = pa.array(VISIT_TYPES_ZH if chinese else VISIT_TYPES)
    sday, ssec = c["settled"] // 86400, c["settled"] % 86400
    none = np.int64(-10 ** 6)
    cols = {
        "claim_id": cid,
        "visit_id": visit,
        "person_id": w.p_psn.take(pa.array(c["person"])),
        "card_id": _take(w.card_str, c["card"]),
        "provider_id": s.prov.take(pa.array(c["provider"])),
        "provider_type": pa.array(PROVIDER_TYPES).take(pa.array(w.prov["type"][c["provider"]].astype(np.int64))),
        "doctor_id": _take(s.doc, c["doctor"]),
        "staff_id": _take(s.staff, c["staff"]),
        "terminal_id": _take(s.term, np.where(c["terminal"] >= 0,
                                              s.term_start[c["provider"]] + c["terminal"], -1)),
        "visit_type": vt_names.take(pa.array(c["vtype"].astype(np.int64))),
        "settled_at": dates(sday, text, chinese, seq, ssec),
        "admit_date": dates(np.where(c["admit"] >= 0, c["admit"], none), text, chinese, seq + 1),
        "discharge_date": dates(np.where(c["discharge"] >= 0, c["discharge"], none), text,
                                chinese, seq + 2),
        "diagnosis_code": _take(s.diag, c["diag"]),
        "total_amount": money(c["total"], text),
        "fund_paid": money(c["fund"], text),
        "orig_claim_id": orig,
    }
    return pa.table(cols)


def items_table(l: dict[str, np.ndarray], claim_id: pa.Array, *, text: bool) -> pa.Table:
    """The item lines of a sorted month batch; ``claim_id`` of its claims."""
    claim = l["claim"]
    first = np.r_[True, claim[1:] != claim[:-1]] if len(claim) else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(claim)), 0))
    line_no = np.arange(len(claim)) - start + 1
    tr = l["trace"] >= 0
    codes = trace_codes(CAT.item_prefix[l["item"]], np.maximum(l["trace"], 0))
    qty = pa.array(l["qty"])
    cols = {
        "claim_id": claim_id.take(pa.array(claim)),
        "line_no": pc.cast(pa.array(line_no), pa.string()) if text else pa.array(line_no, pa.int32()),
        "item_code": pa.array(CAT.item_code).take(pa.array(l["item"])),
        "item_name": pa.array(CAT.item_name).take(pa.array(l["item"])),
        "quantity": pc.cast(qty, pa.string()) if text else money(l["qty"] * 100, False),
        "unit_price": money(l["price"], text),
        "amount": money(l["amount"], text),
        "trace_code": pc.if_else(pa.array(tr), codes, pa.nulls(len(claim), pa.string())),
    }
    return pa.table(cols)


def reference_tables(w: World, *, text: bool, chinese: bool) -> dict[str, pa.Table]:
    """persons, providers, doctors and staff, each sorted by its id."""
    from graphfraud.synth.providers import staff_region_code

    death = np.where(w.p["death"] < 10 ** 8, w.p["death"], -10 ** 6)
    male = w.p["male"]
    key = np.arange(w.n)
    persons = pa.table({
        "person_id": w.p_psn,
        "name": pa.array(w.p_name, pa.string()),
        "id_number": w.p_idno,
        "birth_date": dates(w.p["birth"], text, chinese, key),
        "gender": pa.array(np.where(male, "男" if chinese else "M", "女" if chinese else "F")),
        "address": pa.array(w.p_addr, pa.string()),
        "death_date": dates(death, text, chinese, key + 5),
    })
    lv = w.prov["level"]
    pub = w.prov["public"]
    own = np.where(pub, "公立" if chinese else "public", "民营" if chinese else "private")
    yes, no = ("是", "否") if chinese else ("true", "false")
    providers = pa.table({
        "provider_id": pa.array(w.prov_code, pa.string()),
        "name": pa.array(w.prov_name, pa.string()),
        "provider_type": pa.array([PROVIDER_TYPES[t] for t in w.prov["type"]], pa.string()),
        "level": pa.array([str(v) if v > 0 else None for v in lv], pa.string()),
        "ownership": pa.array(own.tolist(), pa.string()),
        "region": pa.array([str(int(w.dist_code[d])) for d in w.prov["dist"]], pa.string()),
        "dual_channel": pa.array(np.where(w.prov["dual"], yes, no).tolist(), pa.string()),
    })
    doctors = pa.table({
        "doctor_id": pa.array(w.doc_code, pa.string()),
        "name": pa.array(w.doc_name, pa.string()),
        "provider_id": pa.array([w.prov_code[p] for p in w.doc["prov"]], pa.string()),
        "department": pa.array(w.doc_dept, pa.string()),
    })
    staff = pa.table({
        "staff_id": pa.array(w.staff_code, pa.string()),
        "name": pa.array(w.staff_name, pa.string()),
        "office": pa.array([w.office_name[o] for o in w.staff_office], pa.string()),
        "region": pa.array([staff_region_code(w, i) for i in range(len(w.staff_code))],
                           pa.string()),
    })
    out = {"persons": persons, "providers": providers, "doctors": doctors, "staff": staff}
    keys = {"persons": "person_id", "providers": "provider_id", "doctors": "doctor_id",
            "staff": "staff_id"}
    return {k: t.sort_by([(keys[k], "ascending")]) for k, t in out.items()}

