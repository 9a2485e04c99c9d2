"""The scaling benchmark's report: the BENCHMARKS.md section and the plot, from the figures.

Everything here is computed from ``bench/results/scale.json`` (written by ``bench_scale.py``):
the tables, the ratios, the growth from 1M to 10M claims, whether each target of issue 6 is
met, and ``bench/scaling.png``. Nothing is typed in. A run that did not finish (killed at its
time limit or the memory cap) gives a bound: its time and memory are at least what it had
reached, and so is a ratio it is the numerator of ("≥ 12×").
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

GIB = 1 << 30
GB = 10**9
START, END = "<!-- scale -->", "<!-- /scale -->"
ORDER = ("graphfraud", "analyst", "floor", "spark")
LABELS = {"graphfraud": "graphfraud", "analyst": "(a) analyst", "floor": "(b) floor",
          "spark": "(c) Spark"}
DNF = ("timeout", "out of memory")

# the targets of issue 6
TARGET_WALL_S = 600  # 10M claims in <= 10 min
TARGET_PEAK_BYTES = 10 * GB  # ... and <= 10 GB
TARGET_VS_ANALYST = 20.0  # >= 20x faster than (a) at 1M
TARGET_VS_FLOOR = 1.5  # within 1.5x of (b)
TARGET_GROWTH = 1.2  # 10x the claims in <= 12x the time
GROWTH_FROM, GROWTH_TO = "1M", "10M"

Bound = tuple[float, str]  # a value and "=", "≥" or "≤"


def _sizes(results: dict[str, Any]) -> list[str]:
    """The recorded sizes, smallest input first."""
    return sorted(results["runs"], key=lambda s: results["sizes"].get(s, {}).get("claims", 0))


def _run(results: dict[str, Any], size: str, variant: str) -> dict[str, Any] | None:
    return results["runs"].get(size, {}).get(variant)


def figure(run: dict[str, Any] | None, key: str) -> Bound | None:
    """A run's figure (``wall_s`` or ``peak_rss_bytes``): exact when it finished, a lower bound
    ("≥") when it was killed, nothing when it failed or was not run."""
    if run is None or run["status"] not in ("ok", *DNF):
        return None
    return float(run[key]), "=" if run["status"] == "ok" else "≥"


def ratio(num: Bound | None, den: Bound | None) -> Bound | None:
    """``num / den`` with its bound: a lower-bound numerator gives "≥", a lower-bound
    denominator "≤", both nothing."""
    if num is None or den is None or den[0] <= 0:
        return None
    kind = {("=", "="): "=", ("≥", "="): "≥", ("=", "≥"): "≤"}.get((num[1], den[1]))
    return None if kind is None else (num[0] / den[0], kind)


def growth(results: dict[str, Any], variant: str, a: str = GROWTH_FROM,
           b: str = GROWTH_TO) -> Bound | None:
    """(time at ``b`` / time at ``a``) / (claims at ``b`` / claims at ``a``): 1 is linear."""
    r = ratio(figure(_run(results, b, variant), "wall_s"), figure(_run(results, a, variant), "wall_s"))
    if r is None or a not in results["sizes"] or b not in results["sizes"]:
        return None
    claims = results["sizes"][b]["claims"] / results["sizes"][a]["claims"]
    return r[0] / claims, r[1]


def show(b: Bound | None, unit: str = "×", digits: int = 1) -> str:
    if b is None:
        return "—"
    return ("" if b[1] == "=" else b[1] + " ") + f"{b[0]:,.{digits}f}{unit}"


def verdict(b: Bound | None, limit: float, *, at_least: bool) -> str:
    """met / missed for a figure against a limit (``at_least``: the figure must reach it), or
    undetermined when a bound does not decide it, or not measured."""
    if b is None:
        return "not measured"
    value, kind = b
    ok = value >= limit if at_least else value <= limit
    if kind == "=":
        return "met" if ok else "missed"
    # "≥ v": the truth is v or more; "≤ v": v or less
    if (kind == "≥") == at_least:
        return "met" if ok else "undetermined"
    return "missed" if not ok else "undetermined"


def _secs(s: float) -> str:
    return f"{s:,.1f} s" if s < 600 else f"{s:,.0f} s ({s / 60:.1f} min)"


def _gib(b: float) -> str:
    return f"{b / GIB:.2f} GiB"


def _status(run: dict[str, Any]) -> str:
    if run["status"] == "ok":
        return "finished"
    if run["status"] in DNF:
        return f"did not finish: {run['status']} in {run['stage_reached']}"
    error = (run.get("error") or "")[:200]
    return f"failed (exit code {run['exit_code']}) in {run['stage_reached']}: {error}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _run_rows(results: dict[str, Any]) -> list[str]:
    rows = ["| size | claims | variant | wall | peak RSS | stages: wall / peak RSS | result |",
            "|---|---|---|---|---|---|---|"]
    for size in _sizes(results):
        claims = results["sizes"].get(size, {}).get("claims", 0)
        for v in ORDER:
            run = _run(results, size, v)
            if run is None:
                continue
            bound = "" if run["status"] == "ok" else "≥ "
            failed = run["status"] not in ("ok", *DNF)
            stages = ", ".join(f"{s['stage']} {s['wall_s']:,.1f} s / {s['peak_rss_bytes'] / GIB:.2f} GiB"
                               for s in run["stages"])
            found = run.get("result", {})
            extra = ""
            if run["status"] == "ok" and "rings" in found:
                extra = f"; {found['rings']:,} rings"
            elif run["status"] == "ok" and "communities" in found:
                extra = f"; {found['communities']:,} communities"
            rows.append("| " + " | ".join(_cell(c) for c in (
                size, f"{claims:,}", LABELS[v],
                "—" if failed else bound + _secs(run["wall_s"]),
                "—" if failed else bound + _gib(run["peak_rss_bytes"]),
                stages or "—", _status(run) + extra)) + " |")
    return rows


def _ratio_rows(results: dict[str, Any]) -> list[str]:
    rows = ["| size | (a) ÷ graphfraud, time | (a) ÷ graphfraud, peak RSS | graphfraud ÷ (b), time "
            "| graphfraud ÷ (b), peak RSS | (c) ÷ graphfraud, time | (c) ÷ graphfraud, peak RSS |",
            "|---|---|---|---|---|---|---|"]
    for size in _sizes(results):
        cells = [size]
        for num, den in (("analyst", "graphfraud"), ("graphfraud", "floor"), ("spark", "graphfraud")):
            for key in ("wall_s", "peak_rss_bytes"):
                cells.append(show(ratio(figure(_run(results, size, num), key),
                                        figure(_run(results, size, den), key))))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _growth_rows(results: dict[str, Any]) -> list[str]:
    a, b = GROWTH_FROM, GROWTH_TO
    rows = [f"| variant | time at {a} | time at {b} | time ratio | claims ratio | growth "
            "(time ratio ÷ claims ratio) |", "|---|---|---|---|---|---|"]
    have = a in results["sizes"] and b in results["sizes"]
    claims = results["sizes"][b]["claims"] / results["sizes"][a]["claims"] if have else None
    for v in ORDER:
        ta, tb = figure(_run(results, a, v), "wall_s"), figure(_run(results, b, v), "wall_s")
        if ta is None and tb is None:
            continue
        rows.append("| " + " | ".join([
            LABELS[v], show(ta, " s"), show(tb, " s"), show(ratio(tb, ta)),
            f"{claims:.2f}×" if claims else "—", show(growth(results, v), "", 2)]) + " |")
    return rows


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The targets of issue 6: (target, measured, met / missed / undetermined / not measured)."""
    out = []
    big = _run(results, GROWTH_TO, "graphfraud")
    wall, peak = figure(big, "wall_s"), figure(big, "peak_rss_bytes")
    failed = big is not None and wall is None
    out.append((f"{GROWTH_TO} claims in ≤ {TARGET_WALL_S // 60} min", show(wall, " s"),
                "missed (failed)" if failed else verdict(wall, TARGET_WALL_S, at_least=False)))
    gb = None if peak is None else (peak[0] / GB, peak[1])
    out.append((f"{GROWTH_TO} claims in ≤ {TARGET_PEAK_BYTES // GB} GB peak RSS", show(gb, " GB", 2),
                "missed (failed)" if failed else verdict(peak, TARGET_PEAK_BYTES, at_least=False)))
    for size in (GROWTH_FROM, f"{GROWTH_FROM}-nohospital"):
        if size != GROWTH_FROM and _run(results, size, "analyst") is None:
            continue
        speed = ratio(figure(_run(results, size, "analyst"), "wall_s"),
                      figure(_run(results, size, "graphfraud"), "wall_s"))
        out.append((f"≥ {TARGET_VS_ANALYST:g}× faster than (a) at {size}", show(speed),
                    verdict(speed, TARGET_VS_ANALYST, at_least=True)))
    for size in _sizes(results) or [GROWTH_FROM]:
        over = ratio(figure(_run(results, size, "graphfraud"), "wall_s"),
                     figure(_run(results, size, "floor"), "wall_s"))
        if over is not None or size == GROWTH_FROM:
            out.append((f"within {TARGET_VS_FLOOR:g}× of (b) at {size}", show(over, "×", 2),
                        verdict(over, TARGET_VS_FLOOR, at_least=False)))
    g = growth(results, "graphfraud")
    out.append((f"10× the claims in ≤ {TARGET_GROWTH * 10:g}× the time ({GROWTH_FROM} → "
                f"{GROWTH_TO}: growth ≤ {TARGET_GROWTH:g})", show(g, "", 2),
                verdict(g, TARGET_GROWTH, at_least=False)))
    huge = _run(results, "50M", "graphfraud")
    out.append(("50M claims complete",
                "not run" if huge is None else _status(huge) + (
                    f", {_secs(huge['wall_s'])}, {_gib(huge['peak_rss_bytes'])}"
                    if huge["status"] != "failed" else ""),
                "not measured" if huge is None else "met" if huge["status"] == "ok" else "missed"))
    return out


def _detector_rows(results: dict[str, Any]) -> list[str]:
    columns = [(s, v) for s in _sizes(results) for v in ORDER
               if (_run(results, s, v) or {}).get("status") == "ok"
               and (_run(results, s, v) or {}).get("result", {}).get("detectors")]
    if not columns:
        return []
    names = sorted({d for s, v in columns for d in results["runs"][s][v]["result"]["detectors"]})
    rows = ["| detector | " + " | ".join(f"{s} {LABELS[v]}" for s, v in columns) + " |",
            "|---|" + "---|" * len(columns)]
    for d in names:
        cells = [results["runs"][s][v]["result"]["detectors"].get(d) for s, v in columns]
        rows.append(f"| {d} | " + " | ".join("—" if c is None else f"{c:,.2f}" for c in cells) + " |")
    return rows


def _machines(results: dict[str, Any]) -> list[str]:
    seen: dict[str, list[str]] = {}
    for size in _sizes(results):
        for v in ORDER:
            run = _run(results, size, v)
            if run is None or "machine" not in run:
                continue
            m = run["machine"]
            text = (f"{m['cores']} cores, {m['memory_gib']} GiB, {m['cpu']}; Python {m['python']}, "
                    f"DuckDB {m['duckdb']}, pyspark {m['pyspark']}, pandas {m['pandas']}, "
                    f"networkx {m['networkx']}, igraph {m['igraph']}, leidenalg {m['leidenalg']}")
            seen.setdefault(text, []).append(f"{size} {LABELS[v]} {run.get('date', '')[:10]}")
    return [f"- {text} ({', '.join(runs)})" for text, runs in seen.items()]


def render_section(results: dict[str, Any], plot_link: str) -> str:
    """The text between the markers (markers included)."""
    limits = [r.get("limits", {}) for s in results["runs"].values() for r in s.values()]
    timeouts = sorted({lim["timeout_s"] for lim in limits if lim.get("timeout_s")})
    caps = sorted({lim["memory_cap_gib"] for lim in limits if lim.get("memory_cap_gib")})
    sizes = ["| size | synthetic input (seed 2024) | claims | item lines |", "|---|---|---|---|"]
    for size in _sizes(results):
        info = results["sizes"][size]
        text = f"{info['persons']:,} persons × {info['months']} months"
        if info.get("big_hospital_daily"):
            text += f", `--big-hospital-daily {info['big_hospital_daily']}`"
        if info.get("format", "csv") != "csv":
            text += f", `--format {info['format']}`"
        sizes.append(f"| {size} | {text} | {info['claims']:,} | {info['items']:,} |")
    growth_rows = _growth_rows(results)
    lines = [
        START,
        "## Scaling (`python bench/bench_scale.py`)",
        "",
        "One command: `python bench/bench_scale.py --record` (sizes 100k, 1M, 1M-nohospital and 10M; "
        "`--sizes 50M --variants graphfraud` adds 50M, `--variants graphfraud,floor,analyst,spark` chooses "
        "the variants). It writes `bench/results/scale.json` (per size and variant, so sizes can be "
        "re-run one at a time) and redraws this section and the plot from it.",
        "",
        "- **graphfraud**: `graphfraud.analysis.analyze` with the DuckDB engine: the loaders "
        "(validation, quarantine, the Parquet copy), every detector, rings (evidence graph, "
        "Leiden, scores, roles, amounts) and the analysis folder.",
        "- **(a) analyst**: what an analyst would write instead, in pandas and networkx "
        "(`bench/run_analyst.py`): persons sharing a card, pairs of persons at the same provider "
        "on the same day on 3 days or more (a same-day self-join), Louvain communities of 3 or "
        "more: two of graphfraud's patterns, roughly.",
        "- **(b) floor**: the same detector SQL straight in DuckDB (`bench/run_floor.py`): "
        "tables read by `read_csv`/`read_parquet` into the canonical columns with no validation, "
        "quarantine or Parquet copy, graphfraud's threads and memory limit, then one igraph "
        "`community_leiden` call on the entity-evidence graph; no scores, no outputs.",
        "- **(c) Spark**: `analyze` with `engine=\"spark\"`.",
        "",
        "Each variant runs in its own process and marks its stages; the parent adds up the "
        "resident memory of the process and all its descendants (Spark's JVM) every 0.1 s, so a "
        "stage's peak RSS is the highest sample within it and the total peak also counts the "
        "kernel's own peak of the largest process (pages shared between processes, such as "
        "forked Python workers', count once per process: an upper bound). `start` is the "
        "interpreter and imports, `exit` what follows the work (freeing memory, stopping a "
        "JVM); the wall time is the whole process. "
        + (f"The analyst's script is stopped after {', '.join(f'{t:,.0f}' for t in timeouts)} s; "
           if timeouts else "")
        + (f"any run whose processes pass {', '.join(f'{c:g}' for c in caps)} GiB is killed as "
           "out of memory. " if caps else "")
        + "A run that did not finish is shown with the time and memory it had reached (≥) and "
        "the stage it was in.",
        "",
        "Sizes: synthetic claims from `graphfraud synth --seed 2024`, made once and reused. A "
        "level-3 hospital with 5,000 patients a day (`--big-hospital-daily 5000`) is about 150k "
        "claims a month: 1M is a quarter of a city with one, 10M a year of a city with one; "
        "100k cannot hold one.",
        "",
        *sizes,
        "",
        "Measured on:",
        "",
        *_machines(results),
        "",
        "### Wall time and peak RSS",
        "",
        *_run_rows(results),
        "",
        "### Ratios",
        "",
        "Time and peak RSS of one variant divided by another's, at each size: "
        "(a) ÷ graphfraud is graphfraud's speed-up over the analyst's script, graphfraud ÷ (b) "
        "its cost over the bare floor, (c) ÷ graphfraud the Spark engine against DuckDB.",
        "",
        *_ratio_rows(results),
        "",
        f"### Growth from {GROWTH_FROM} to {GROWTH_TO} claims",
        "",
        "The time ratio over the claims ratio: 1 is linear, 1.2 is 10× the claims in 12× the time.",
        "",
        *(growth_rows if len(growth_rows) > 2 else
          [f"Not measured: it needs runs at both {GROWTH_FROM} and {GROWTH_TO}."]),
        "",
        "### Targets (issue 6)",
        "",
        f"Computed from the figures above ({TARGET_PEAK_BYTES // GB} GB = "
        f"{TARGET_PEAK_BYTES / GIB:.2f} GiB).",
        "",
        "| target | measured | |",
        "|---|---|---|",
        *[f"| {_cell(t)} | {_cell(m)} | {v} |" for t, m, v in targets(results)],
        "",
    ]
    detectors = _detector_rows(results)
    if detectors:
        lines += ["### Seconds per detector", "", *detectors, ""]
    lines += [f"![Wall time and peak RSS against claims, per variant]({plot_link})", "", END]
    return "\n".join(lines)


def update_benchmarks(path: Path, section: str) -> None:
    """Replace the text between the markers (or append it below the rest), atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START in text and END in text.split(START, 1)[1]:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def plot(results: dict[str, Any], path: Path) -> None:
    """Wall time and peak RSS against claims, log-log, one line per variant; a run that did not
    finish is an open marker where it was stopped."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    markers = {"graphfraud": "o", "analyst": "s", "floor": "^", "spark": "D"}
    for ax, key, scale, unit in ((axes[0], "wall_s", 1, "wall time (s)"),
                                 (axes[1], "peak_rss_bytes", GIB, "peak RSS (GiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        for v in ORDER:
            done, cut = [], []
            for size in _sizes(results):
                if "-" in size:  # a side size (1M-nohospital): another kind of data, not on the line
                    continue
                run, claims = _run(results, size, v), results["sizes"].get(size, {}).get("claims")
                if run is None or not claims:
                    continue
                if run["status"] == "ok":
                    done.append((claims, run[key] / scale))
                elif run["status"] in DNF:
                    cut.append((claims, run[key] / scale, f"{run['status']} in {run['stage_reached']}"))
            if not done and not cut:
                continue
            label: str | None = LABELS[v]
            color = None
            if done:
                (line,) = ax.plot(*zip(*done), marker=markers[v], label=label)
                color, label = line.get_color(), None
            for x, y, why in cut:
                (pts,) = ax.plot([x], [y], marker=markers[v], markerfacecolor="none", linestyle="none",
                                 color=color, markersize=9,
                                 label=None if label is None else f"{label} (did not finish)")
                color, label = pts.get_color(), None
                ax.annotate(f"{LABELS[v]}: did not finish\n({why})", (x, y), textcoords="offset points",
                            xytext=(-8, 4), ha="right", fontsize=7, color=color)
        if key == "wall_s":
            target, text = float(TARGET_WALL_S), f"{TARGET_WALL_S // 60} min"
        else:
            target, text = TARGET_PEAK_BYTES / GIB, f"{TARGET_PEAK_BYTES // GB} GB"
        text = f"target at {GROWTH_TO}: {text}"
        ax.axhline(target, color="grey", linestyle=":", linewidth=1)
        ax.text(0.01, target, text, transform=ax.get_yaxis_transform(), fontsize=7, color="grey",
                va="bottom")
        ax.margins(0.1, 0.15)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(_two_and_five))
        ax.set_xlabel("claims")
        ax.set_ylabel(unit)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("wall time")
    axes[1].set_title("peak RSS of the process tree")
    fig.suptitle("graphfraud scaling (bench/bench_scale.py); open markers: stopped, did not finish")
    failed = [f"{LABELS[v]} at {size}" for size in _sizes(results) for v in ORDER
              if (_run(results, size, v) or {}).get("status") == "failed"]
    if failed:
        fig.text(0.01, 0.01, "failed, not drawn: " + ", ".join(failed), fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.03 if failed else 0, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def _two_and_five(y: float, _pos: int) -> str:
    """Minor tick labels of a log axis: 2 and 5 of each decade, in plain numbers."""
    if y <= 0:
        return ""
    return f"{y:g}" if round(y / 10 ** math.floor(math.log10(y))) in (2, 5) else ""


def write_report(results: dict[str, Any], benchmarks: Path, plot_path: Path) -> None:
    """Redraw the plot and the BENCHMARKS.md section from the figures."""
    plot(results, plot_path)
    link = Path(os.path.relpath(plot_path.resolve(), benchmarks.resolve().parent)).as_posix()
    update_benchmarks(benchmarks, render_section(results, link))
