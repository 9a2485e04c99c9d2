"""Loading benchmark: a large claims CSV through ``graphfraud analyze``; wall time and peak RSS.

Target (issue 2): 10M claims rows load in <= 90 s with peak RSS <= 4 GB on a 2-core machine.

    python bench/bench_load.py                      # 10M rows, UTF-8
    python bench/bench_load.py --rows 1000000 --encoding gb18030
    python bench/bench_load.py --record             # also writes the figures to BENCHMARKS.md

The input is made by DuckDB (seconds, not minutes): every claims column of the contract,
realistic shapes, 0.1% rows with an unparseable date and 0.1% repeated claim ids, so the
rejection path is measured too. The analysis runs in a child process; its peak RSS comes
from ``wait4``'s rusage, its wall time from the clock.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, run_child, upsert_row  # noqa: E402


def make_claims(path: Path, rows: int, encoding: str) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    query = f"""
        SELECT
          'S' || lpad(CAST(CASE WHEN i % 1000 = 7 THEN i - 1 ELSE i END AS VARCHAR), 12, '0') AS claim_id,
          'V' || lpad(CAST(i // 2 AS VARCHAR), 12, '0') AS visit_id,
          '33' || lpad(CAST(hash(i) % {max(rows // 12, 1)} AS VARCHAR), 14, '0') AS person_id,
          CASE WHEN i % 5 = 0 THEN '' ELSE 'A' || lpad(CAST(hash(i) % {max(rows // 12, 1)} AS VARCHAR), 8, '0') END AS card_id,
          CASE WHEN i % 4 = 0 THEN 'P' ELSE 'H' END || '3301020' || lpad(CAST(hash(i * 7) % 3000 AS VARCHAR), 4, '0') AS provider_id,
          '' AS provider_type,
          'D330102' || lpad(CAST(hash(i * 11) % 20000 AS VARCHAR), 6, '0') AS doctor_id,
          CASE WHEN i % 10 = 0 THEN 'JB' || CAST(hash(i) % 200 AS VARCHAR) ELSE '' END AS staff_id,
          'T' || CAST(hash(i * 13) % 9000 AS VARCHAR) AS terminal_id,
          CASE WHEN i % 4 = 0 THEN '药店购药' WHEN i % 20 = 1 THEN '住院' ELSE '门诊' END AS visit_type,
          CASE WHEN i % 1000 = 500 THEN '2024-13-45'
               ELSE strftime(TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i) % 31536000 AS BIGINT)),
                             '%Y-%m-%d %H:%M:%S') END AS settled_at,
          CASE WHEN i % 20 = 1 THEN strftime(DATE '2024-01-01' + CAST(hash(i) % 300 AS INTEGER), '%Y-%m-%d') ELSE '' END AS admit_date,
          CASE WHEN i % 20 = 1 THEN strftime(DATE '2024-01-01' + CAST(hash(i) % 300 AS INTEGER) + 5, '%Y-%m-%d') ELSE '' END AS discharge_date,
          (['J06.900','I10.x00','E11.900','K29.700','M54.500'])[1 + CAST(hash(i) % 5 AS INTEGER)] AS diagnosis_code,
          CAST(round(CASE WHEN i % 20 = 1 THEN 3000 + hash(i) % 20000 ELSE 20 + hash(i) % 500 END
                     + (hash(i * 3) % 100) / 100.0, 2) AS DECIMAL(12,2)) AS total_amount,
          CAST(round((CASE WHEN i % 20 = 1 THEN 3000 + hash(i) % 20000 ELSE 20 + hash(i) % 500 END) * 0.6, 2)
               AS DECIMAL(12,2)) AS fund_paid
        FROM range({rows}) t(i)
    """
    tmp = path.with_suffix(".utf8.csv")
    con.execute(f"COPY ({query}) TO '{tmp}' (FORMAT csv, HEADER true)")
    con.close()
    if encoding == "utf-8":
        os.replace(tmp, path)
        return
    with open(tmp, encoding="utf-8") as src, open(path, "w", encoding=encoding) as dst:
        for chunk in iter(lambda: src.read(1 << 22), ""):
            dst.write(chunk)
    tmp.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--record", action="store_true", help="write the figures to BENCHMARKS.md")
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    src = args.workdir / f"claims-{args.rows}-{args.encoding}.csv"
    if not src.exists():
        t0 = time.perf_counter()
        make_claims(src, args.rows, args.encoding)
        print(f"made {src.name} ({src.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t0:.1f} s")
    out = args.workdir / f"analysis-{args.rows}-{args.encoding}"
    wall, rss, code = run_child([sys.executable, "-m", "graphfraud", "analyze", str(src),
                                 "--out", str(out), "--force"])
    if code != 0:
        sys.exit(f"analyze failed with exit code {code}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    t = manifest["tables"]["claims"]
    figures = {
        "rows": args.rows, "encoding": args.encoding, "file_gb": round(src.stat().st_size / 1e9, 2),
        "wall_s": round(wall, 1), "load_stage_s": manifest["timings"]["load"],
        "peak_rss_gib": round(rss, 2), "read": t["read"], "accepted": t["accepted"],
        "rejected": t["rejected"], "cpus": os.cpu_count(), "python": platform.python_version(),
    }
    print(json.dumps(figures, indent=2))
    ok = wall <= 90 and rss <= 4
    print(f"target (10M rows: <= 90 s, <= 4 GiB): {'met' if ok else 'MISSED'}")
    if args.record:
        record(figures)


def record(f: dict) -> None:
    upsert_row("Loading (`python bench/bench_load.py`)",
               ["rows", "encoding", "file", "wall (process)", "load stage", "peak RSS",
                "read = accepted + rejected"],
               [f"{f['rows']:,}", f["encoding"], f"{f['file_gb']} GB", f"{f['wall_s']} s",
                f"{f['load_stage_s']} s", f"{f['peak_rss_gib']} GiB",
                f"{f['read']:,} = {f['accepted']:,} + {f['rejected']:,}"], key_cells=2)

if __name__ == "__main__":
    main()
