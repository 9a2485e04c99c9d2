"""The packet's pictures: the ring's network and its timeline, as PNG (matplotlib).

Both are deterministic (fixed size and DPI, layout from :func:`graphfraud.ringgraph.ring_network`,
no software or date metadata), drawn with a Chinese font (Noto CJK, Debian ``fonts-noto-cjk``),
and show only masked labels in the masked edition.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from graphfraud.errors import GraphFraudError
from graphfraud.packet.content import PacketContent
from graphfraud.packet.texts import text
from graphfraud.redact import Redactor
from graphfraud.results import Analysis

__all__ = ["CJK_FAMILIES", "require_cjk_font", "network_png", "timeline_png"]

#: the CJK font families the packet uses, first found first
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC")
_DPI = 150
_KIND_COLOUR = {"person": "#4c78a8", "card": "#72b7b2", "provider": "#e45756", "doctor": "#f58518",
                "staff": "#b279a2"}
_KIND_MARKER = {"person": "o", "card": "s", "provider": "H", "doctor": "D", "staff": "^"}
_EDGE_COLOUR = {"uses_card": "#72b7b2", "visits": "#9d9d9d", "works_at": "#f58518",
                "approves": "#b279a2", "co_visit": "#4c78a8"}


def require_cjk_font(families: tuple[str, ...] | None = None) -> str:
    """The first of ``families`` (default :data:`CJK_FAMILIES`) installed, for matplotlib and
    for WeasyPrint (fontconfig).

    Raises
    ------
    GraphFraudError
        None is installed: the PDF would show empty boxes instead of Chinese, so nothing is
        written; the message names the Debian package to install.
    """
    from matplotlib import font_manager

    families = CJK_FAMILIES if families is None else families
    for family in families:
        try:
            font_manager.findfont(font_manager.FontProperties(family=family),
                                  fallback_to_default=False)
        except ValueError:
            path = _fontconfig_file(family)
            if path is None:
                continue
            font_manager.fontManager.addfont(path)  # installed after matplotlib cached its list
        return family
    raise GraphFraudError(
        f"no Chinese font found (looked for {', '.join(families)}): the packet's PDF and "
        "pictures need one. Install the Debian package fonts-noto-cjk (run "
        "scripts/install-system, or: apt-get install fonts-noto-cjk) and try again")


def _fontconfig_file(family: str) -> str | None:
    """The font file fontconfig has for ``family`` exactly, or None."""
    if shutil.which("fc-match") is None:
        return None
    out = subprocess.run(["fc-match", "-f", "%{family}\n%{file}", family], capture_output=True,
                         text=True, check=False).stdout.split("\n")
    if len(out) >= 2 and family in out[0].split(","):
        return out[1]
    return None


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=_DPI, format="png", metadata={"Software": None})


def network_png(analysis: Analysis, ring: dict[str, Any], content: PacketContent, path: Path, *,
                font: str) -> None:
    """Draw the ring's network (members coloured by kind, masked labels) to ``path``."""
    from graphfraud.ringgraph import EDGE_TEXT, KIND_TEXT, ring_network

    plt = _pyplot()
    lang = content.lang
    net = ring_network(analysis, [ring], redactor=Redactor(content.redact), lang=lang)
    with plt.rc_context({"font.family": [font], "axes.unicode_minus": False,
                         "text.parse_math": False}):
        fig, ax = plt.subplots(figsize=(10, 8))
        try:
            pos = {n["index"]: (n["x"], n["y"]) for n in net.nodes}
            for e in net.edges:
                (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
                ax.plot([x0, x1], [y0, y1], color=_EDGE_COLOUR.get(e["kind"], "#999999"),
                        linewidth=0.6 + min(2.0, 0.25 * e["days"]), alpha=0.55, zorder=1)
            kinds_present = []
            for kind in ("person", "card", "provider", "doctor", "staff"):
                nodes = [n for n in net.nodes if n["kind"] == kind]
                if not nodes:
                    continue
                kinds_present.append(kind)
                ax.scatter([n["x"] for n in nodes], [n["y"] for n in nodes],
                           s=[60 + min(240.0, 6.0 * n["claims"] ** 0.5) for n in nodes],
                           c=_KIND_COLOUR[kind], marker=_KIND_MARKER[kind],
                           edgecolors=["#000000" if n["critical"] else "#ffffff" for n in nodes],
                           linewidths=[1.6 if n["critical"] else 0.6 for n in nodes],
                           label=KIND_TEXT[kind][1 if lang == "en" else 0], zorder=2)
            many = len(net.nodes) > 40
            unlabelled = 0
            for n in net.nodes:
                if many and n["kind"] in ("person", "card") and n["role"] in (None, "member") \
                        and not n["critical"]:
                    unlabelled += 1
                    continue
                ax.annotate(n["label"], (n["x"], n["y"]), xytext=(4, 4), textcoords="offset points",
                            fontsize=6.5 if many else 8, zorder=3)
            if unlabelled:
                ax.text(0.01, 0.01, text("fig_more_nodes", lang, n=unlabelled),
                        transform=ax.transAxes, fontsize=8, color="#555555")
            ax.set_title(text("fig_network", lang, ring=content.ring_id))
            if kinds_present:
                from matplotlib.lines import Line2D

                handles, labels = ax.get_legend_handles_labels()
                for kind in sorted({e["kind"] for e in net.edges}, key=list(EDGE_TEXT).index):
                    handles.append(Line2D([0], [0], color=_EDGE_COLOUR[kind], linewidth=1.5))
                    labels.append(EDGE_TEXT[kind][1 if lang == "en" else 0])
                ax.legend(handles, labels, loc="upper right", fontsize=8, markerscale=0.7,
                          frameon=False)
            ax.set_axis_off()
            ax.margins(0.08)
            fig.tight_layout()
            _save(fig, path)
        finally:
            plt.close(fig)


def timeline_png(content: PacketContent, path: Path, *, font: str) -> None:
    """Fund paid (bars) and settlements (line) per week or month, to ``path``."""
    plt = _pyplot()
    lang = content.lang
    rows = content.timeline
    with plt.rc_context({"font.family": [font], "axes.unicode_minus": False,
                         "text.parse_math": False}):
        fig, ax = plt.subplots(figsize=(10, 4.5))
        try:
            xs = list(range(len(rows)))
            ax.bar(xs, [r["fund_paid"] for r in rows], color="#4c78a8", alpha=0.8,
                   label=text("fig_fund_axis", lang))
            ax.set_ylabel(text("fig_fund_axis", lang))
            ax2 = ax.twinx()
            ax2.plot(xs, [r["claims"] for r in rows], color="#e45756", marker="o", markersize=3,
                     linewidth=1.2, label=text("fig_claims_axis", lang))
            ax2.set_ylabel(text("fig_claims_axis", lang))
            ax2.set_ylim(bottom=0)
            step = max(1, len(rows) // 12)
            ax.set_xticks(xs[::step])
            ax.set_xticklabels([r["bucket"] for r in rows][::step], rotation=45, ha="right",
                               fontsize=8)
            ax.set_title(text("fig_timeline", lang, ring=content.ring_id))
            ax.set_xlabel(content.timeline_unit)
            fig.tight_layout()
            _save(fig, path)
        finally:
            plt.close(fig)
