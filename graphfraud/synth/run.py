"""The month loop: background + planted claims + noise, sorted, numbered, written; truth."""

from __future__ import annotations

from typing import Any

import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from graphfraud.errors import check_argument
from graphfraud.synth import noise as N
from graphfraud.synth.background import background_month
from graphfraud.synth.batch import FRESH, Batch
from graphfraud.synth.config import SynthConfig
from graphfraud.synth.lookalikes import plant_lookalikes
from graphfraud.synth.plan import Plan, Record, stream
from graphfraud.synth.rings import plant_rings
from graphfraud.synth.tables import Strings, claims_table, items_table, reference_tables
from graphfraud.synth.world import World, build_world
from graphfraud.synth.writer import TableWriter, header_names, write_table

TABLE_NAMES = ("claims", "items", "persons", "providers", "doctors", "staff")


class _Tally:
    """Claim ids and fund paid of each ring and look-alike group, gathered month by month."""

    def __init__(self, n_rings: int, n_looks: int) -> None:
        self.ids: dict[tuple[str, int], list[str]] = {}
        self.fund = {("ring", i): 0 for i in range(n_rings)}
        self.fund.update({("look", i): 0 for i in range(n_looks)})

    def add(self, kind: str, tag: np.ndarray, cid: pa.Array, fund: np.ndarray) -> None:
        rows = np.flatnonzero(tag >= 0)
        if len(rows) == 0:
            return
        ids = cid.take(pa.array(rows)).to_pylist()
        for r, i in zip(tag[rows].tolist(), ids):
            self.ids.setdefault((kind, r), []).append(i)
        sums = np.bincount(tag[rows], weights=fund[rows], minlength=len(self.fund))
        for r in np.unique(tag[rows]):
            self.fund[(kind, int(r))] += int(sums[r])


def _resolve(b: Batch, seq: np.ndarray, inv: np.ndarray, seq0: int, old: Batch,
             planted_seq: np.ndarray, planted_settled: np.ndarray) -> None:
    """Fill ``orig_seq``/``orig_settled`` of reversals once their originals have numbers."""
    op = b.c["orig_pid"] >= 0
    b.c["orig_seq"][op] = planted_seq[b.c["orig_pid"][op]]
    b.c["orig_settled"][op] = planted_settled[b.c["orig_pid"][op]]
    ol = b.c["orig_local"] >= 0
    b.c["orig_seq"][ol] = seq0 + inv[b.c["orig_local"][ol]]
    b.c["orig_settled"][ol] = old.c["settled"][b.c["orig_local"][ol]]
    b.c["orig_local"][ol] = -1
    b.c["orig_pid"][op] = -1


def _members(w: World, rec: Record, strings: Strings) -> list[dict]:
    out = []
    for (kind, i), role in rec.members.items():
        ident = {"person": lambda: w.p_psn[i].as_py(), "card": lambda: w.card_str[i].as_py(),
                 "provider": lambda: w.prov_code[i], "doctor": lambda: w.doc_code[i],
                 "staff": lambda: w.staff_code[i]}[kind]()
        out.append({"kind": kind, "id": ident, "role": role})
    return sorted(out, key=lambda m: (m["kind"], m["id"]))


def generate(out_dir: Path, config: SynthConfig) -> dict:
    """Write a synthetic claims folder and its answer key.

    Parameters
    ----------
    out_dir : Path
        An existing (empty) folder. Receives ``claims``, ``items``, ``persons``,
        ``providers``, ``doctors`` and ``staff`` as ``<table>.<fmt>``, and ``truth.json``.
    config : SynthConfig
        The settings; the same settings give byte-identical files.

    Returns
    -------
    dict
        Rows per table, ``rings``, ``lookalikes`` (groups), ``planted_claims``, ``noise``
        counts and ``seconds`` (wall time; the only value that is not reproducible).

    Notes
    -----
    Claims are generated and written one month at a time (memory grows with the number of
    persons, not of claims). ``truth.json`` holds ``rings`` (truth_id, patterns, members by
    kind with roles, claim_ids, fund_paid, strength, description), ``lookalikes`` (kind,
    members, providers, claim_ids) and ``noise`` (reversal count, duplicated and malformed
    claim ids). Members are the entities that knowingly take part; providers a ring merely
    used (e.g. where professional patients collect drugs) are not members.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     s = generate(Path(d), SynthConfig(persons=1000, months=1, seed=3))
    >>> sorted(k for k in s if k in TABLE_NAMES)
    ['claims', 'doctors', 'items', 'persons', 'providers', 'staff']
    """
    t0 = time.perf_counter()
    config.validate()
    out = Path(out_dir)
    check_argument(out.is_dir(), f"{out}: the output folder must exist")
    cfg = config
    w = build_world(cfg, stream(cfg.seed, "world"))
    plan = Plan(w)
    plant_lookalikes(plan, cfg.seed, cfg.lookalikes)
    plant_rings(plan, cfg)
    text = cfg.fmt != "parquet"
    chinese = cfg.headers == "chinese"
    ext = cfg.fmt
    counts: dict[str, int] = {}
    refs = reference_tables(w, text=text, chinese=chinese)
    for name, tab in refs.items():
        if name == "persons" and not cfg.persons_table:
            continue
        counts[name] = write_table(out / f"{name}.{ext}", cfg.fmt, cfg.encoding,
                                   header_names(name, cfg.headers), tab,
                                   dates=("birth_date", "death_date"))
    strings = Strings(w)
    planted = Batch.concat(plan.batches)
    planted.c["pid"] = np.arange(planted.n)
    p_month = w.month_of(planted.c["settled"] // 86400)
    p_seq = np.full(planted.n, -1, np.int64)
    p_settled = np.full(planted.n, -1, np.int64)
    names_c = header_names("claims", cfg.headers)
    cw = TableWriter(out / f"claims.{ext}", cfg.fmt, cfg.encoding, names_c)
    iw = (TableWriter(out / f"items.{ext}", cfg.fmt, cfg.encoding, header_names("items", cfg.headers))
          if cfg.items else None)
    tally = _Tally(len(plan.rings), len(plan.looks))
    carry = Batch.empty()
    seq0, next_pack = 0, plan.next_pack
    nz: dict[str, Any] = {"reversals": 0, "duplicated_rows": 0, "malformed_rows": 0, "malformed": [],
          "duplicated_claim_ids": []}
    for m in range(cfg.months):
        rng = stream(cfg.seed, "month", m)
        b = Batch.concat([background_month(w, m, rng), planted.take(np.flatnonzero(p_month == m)),
                          carry])
        fresh = np.flatnonzero(b.l["trace"] == FRESH)
        b.l["trace"][fresh] = next_pack + np.arange(len(fresh))
        next_pack += len(fresh)
        end_s = int(w.month_starts[m + 1]) * 86400
        rev = N.reversals(b, rng, int(w.day1) * 86400) if cfg.noise else Batch.empty()
        later = rev.c["settled"] >= end_s
        allb = Batch.concat([b, rev.take(np.flatnonzero(~later))])
        order = np.lexsort((allb.c["person"], allb.c["provider"], allb.c["settled"]))
        inv = np.empty(len(order), np.int64)
        inv[order] = np.arange(len(order))
        s = allb.take(order)
        seq = seq0 + np.arange(s.n)
        pm = s.c["pid"] >= 0
        p_seq[s.c["pid"][pm]] = seq[pm]
        p_settled[s.c["pid"][pm]] = s.c["settled"][pm]
        _resolve(s, seq, inv, seq0, allb, p_seq, p_settled)
        carry = rev.take(np.flatnonzero(later))
        _resolve(carry, seq, inv, seq0, allb, p_seq, p_settled)
        seq0 += s.n
        nz["reversals"] += int((N.ordinary_reversal(s)).sum())
        ct = claims_table(w, strings, s.c, seq, text=text, chinese=chinese)
        cid = ct.column("claim_id").combine_chunks()
        tally.add("ring", s.c["ring"], cid, s.c["fund"])
        tally.add("look", s.c["look"], cid, s.c["fund"])
        if iw is not None:
            iw.write(items_table(s.l, cid, text=text), ("quantity", "unit_price", "amount"))
        if cfg.noise:
            bad = N.pick_rows(s, rng, N.MALFORMED_RATE, np.zeros(s.n, bool))
            ct, done = N.corrupt(ct, bad, {k: k for k in names_c}, rng, text)
            nz["malformed"] += [{"claim_id": cid[r].as_py(), "field": k} for r, k in done]
            dup = N.pick_rows(s, rng, N.DUPLICATE_RATE, np.isin(np.arange(s.n), bad))
            nz["duplicated_claim_ids"] += cid.take(pa.array(dup)).to_pylist()
            idx = np.sort(np.concatenate([np.arange(s.n), dup]))
            ct = ct.take(pa.array(idx))
        cw.write(ct, ("total_amount", "fund_paid"), ("settled_at", "admit_date", "discharge_date"))
    cw.close()
    counts["claims"] = cw.rows
    if iw is not None:
        iw.close()
        counts["items"] = iw.rows
    nz["malformed_rows"] = len(nz["malformed"])
    nz["duplicated_rows"] = len(nz["duplicated_claim_ids"])
    truth = _truth(w, plan, cfg, counts, tally, nz, strings)
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, sort_keys=True,
                                               indent=1) + "\n", encoding="utf-8")
    summary: dict[str, Any] = dict(counts)
    summary.update(rings=len(truth["rings"]), lookalikes=len(truth["lookalikes"]),
                   planted_claims=sum(r["claims"] for r in truth["rings"]),
                   noise={k: v for k, v in nz.items() if isinstance(v, int)},
                   seconds=round(time.perf_counter() - t0, 3))
    return summary


def _truth(w: World, plan: Plan, cfg: SynthConfig, counts: dict, tally: _Tally, nz: dict,
           strings: Strings) -> dict:
    rings = []
    for r in plan.rings:
        ids = sorted(tally.ids.get(("ring", r.index), []))
        members = _members(w, r, strings)
        rings.append({"truth_id": f"T{r.index + 1:03d}", "patterns": r.patterns,
                      "members": members, "size": len(members), "claim_ids": ids,
                      "claims": len(ids), "fund_paid": round(tally.fund[("ring", r.index)] / 100, 2),
                      **r.info})
    looks: list[dict] = []
    for g in plan.looks:
        ids = sorted(tally.ids.get(("look", g.index), []))
        if not ids:  # e.g. a family whose shared card was not used in the period
            continue
        members = _members(w, g, strings)
        looks.append({"lookalike_id": f"L{len(looks) + 1:04d}", "kind": g.name, "members": members,
                      "providers": sorted(m["id"] for m in members if m["kind"] == "provider"),
                      "claim_ids": ids, "claims": len(ids), **g.info})
    return {"generator": "graphfraud.synth", "config": cfg.to_dict(), "counts": counts,
            "rings": rings, "lookalikes": looks, "noise": nz}
