"""The interactive network of rings: one HTML file that opens offline (``graphfraud viz``).

The page draws the rings' network (:func:`graphfraud.ringgraph.ring_network`) with
vis-network, inlined, at the positions computed in Python and with physics off, so that a
2,000-node view shows at once. Node shape and colour tell the kind of entity (and the type of
provider), node size the fund paid (log scale), a thick black border a critical member;
edge labels give co-visit days and card uses; tooltips and the details panel give the
evidence; the side panel has a legend, a filter by pattern and ring, a search, and every ring
with its evidence. Chinese by default, English with ``lang="en"``; personal identifiers masked
by default (``redact="none"`` is the sealed edition).

Why not pyvis's own page: pyvis (0.3.2) writes its template without escaping (the heading goes
in raw), switches to a popup that sets ``innerHTML`` from a node's title as soon as any title
contains the text ``href`` (a provider named ``<a href=...>`` would run as HTML), always links
Bootstrap from a CDN, and has no place for a legend, a filter or a Content-Security-Policy;
importing it also imports IPython (seconds). So the page is written here with Jinja2
(autoescape on), and only vis-network's script and style are taken from pyvis's package files
(vis-network 9.1.2, which shows string titles as text), found without importing pyvis.

Safety of the page:

* every value from the data is escaped: markup through Jinja2's autoescape, the data block as
  JSON with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped (no ``</script>`` breakout), read
  with ``JSON.parse``; the page's script only sets ``textContent``;
* a Content-Security-Policy allows only the page's own two inline scripts (by SHA-256),
  inline styles and ``data:`` images: no outside request, no injected script or handler runs
  even if something slipped through;
* no ``http(s)`` URL is loaded: there is none in any ``src``, ``href`` or ``url()``.

Examples
--------
>>> write_view("graphfraud-demo/analysis", "rings.html")              # doctest: +SKIP
PosixPath('rings.html')
>>> write_view("graphfraud-demo/analysis", "ring1.html", ring=1, lang="en")  # doctest: +SKIP
PosixPath('ring1.html')
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphfraud import __version__
from graphfraud.errors import InputError, OutputExistsError, check_argument
from graphfraud.i18n import PROVIDER_TYPE_TEXT, check_lang, pattern_text
from graphfraud.redact import Redactor
from graphfraud.results import Analysis, open_analysis, ring_claim_ids
from graphfraud.ringgraph import EDGE_TEXT, KIND_TEXT, RingNetwork, ring_network
from graphfraud.rings import ROLE_TEXT

__all__ = ["write_view", "render_view", "render_network", "ViewInfo", "VIS_NETWORK_VERSION",
           "NODE_STYLE", "EDGE_STYLE"]

#: the vis-network build taken from pyvis's package files (9.x shows string titles as text)
VIS_NETWORK_VERSION = "9.1.2"
_FONT = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
         '"WenQuanYi Micro Hei", sans-serif')
#: node category (kind, or provider type) -> (vis-network shape, fill colour)
NODE_STYLE: dict[str, tuple[str, str]] = {
    "person": ("dot", "#4e79a7"),
    "card": ("square", "#f28e2b"),
    "hospital": ("hexagon", "#e15759"),
    "clinic": ("triangle", "#b07aa1"),
    "pharmacy": ("star", "#59a14f"),
    "provider": ("hexagon", "#bab0ac"),  # provider of unknown type
    "doctor": ("triangleDown", "#76b7b2"),
    "staff": ("diamond", "#9c755f"),
}
_CATEGORIES = ("person", "card", "hospital", "clinic", "pharmacy", "provider", "doctor", "staff")
#: edge kind -> (colour, dashed)
EDGE_STYLE: dict[str, tuple[str, bool]] = {
    "uses_card": ("#f28e2b", False), "visits": ("#9aa7b8", False), "works_at": ("#76b7b2", False),
    "approves": ("#9c755f", False), "co_visit": ("#4e79a7", True),
}
_CRITICAL_BORDER = "#111111"
_MAX_EVIDENCE = 50  # evidence groups listed per ring; the rest are counted

#: user-facing text: key -> (zh, en)
_TEXT: dict[str, tuple[str, str]] = {
    "page_title": ("团伙关系网络", "Ring network"),
    "heading": ("医保基金欺诈团伙关系网络", "Suspected fraud rings: network"),
    "heading_ring": ("团伙 #{rank} {ring}（风险评分 {score}）关系网络",
                     "Ring #{rank} {ring} (risk score {score}): network"),
    "counts": ("本分析共识别可疑团伙 {total} 个，本图显示 {shown} 个（节点 {nodes} 个、连线 {edges} 条）。",
               "The analysis found {total} suspected rings; this view shows {shown} "
               "({nodes} nodes, {edges} links)."),
    "period": ("数据期间：{first} 至 {last}", "Data period: {first} to {last}"),
    "masked": ("个人身份信息已脱敏：姓名、个人编号、卡号仅显示部分字符。",
               "Personal identifiers are masked: names, person and card numbers are partly shown."),
    "sealed": ("未脱敏版本（密封件）：含完整个人身份信息，仅限授权人员查阅，须按规定登记、保管。",
               "Unmasked (sealed) edition: full personal identifiers; for authorised recipients "
               "only, to be registered and kept under seal."),
    "truncated": ("为保证显示速度，另有 {n} 个节点（风险较低的团伙）未显示；可用 --ring 单独查看。",
                  "{n} more nodes (of lower-risk rings) are left out to keep the view fast; "
                  "view those rings one by one with --ring."),
    "footer": ("由 graphfraud {version} 生成", "Made by graphfraud {version}"),
    "footer_hash": ("；输入结算数据 SHA-256 {sha}…", "; claims input SHA-256 {sha}…"),
    "filter_patterns": ("按模式筛选", "Filter by pattern"),
    "ring": ("团伙", "Ring"),
    "all_rings": ("全部团伙", "All rings"),
    "search": ("查找", "Find"),
    "search_placeholder": ("名称或编号", "name or id"),
    "find": ("查找", "Find"),
    "fit": ("适应窗口", "Fit"),
    "reset": ("重置", "Reset"),
    "details": ("详情", "Details"),
    "hint": ("点击节点或连线查看证据。", "Click a node or a link to see its evidence."),
    "legend": ("图例", "Legend"),
    "critical": ("关键节点（移除后团伙分裂）", "critical member (removing it splits the ring)"),
    "size_note": ("节点大小：统筹基金支付金额（对数刻度）", "node size: fund paid (log scale)"),
    "rings_evidence": ("团伙与证据", "Rings and evidence"),
    "no_rings": ("本分析未识别出可疑团伙。", "The analysis found no suspected rings."),
    "only_ring": ("只看此团伙", "Show only this ring"),
    "colon": ("：", ": "),
    "visible": ("显示节点 {n} 个、连线 {m} 条", "{n} nodes and {m} links shown"),
    "found": ("找到 {n} 个节点", "{n} nodes found"),
    "not_found": ("没有找到匹配的节点", "No matching node"),
    "ring_summary": ("#{rank} {ring} · 风险 {score} · {patterns}",
                     "#{rank} {ring} · risk {score} · {patterns}"),
    "ring_option": ("#{rank} {ring}（{patterns}）", "#{rank} {ring} ({patterns})"),
    "ring_facts": ("成员 {members} 个；证据结算 {claims} 笔；涉案金额（统筹基金）{fund} 元；期间 {first} 至 {last}",
                   "{members} members; {claims} evidence claims; fund paid {fund} yuan; "
                   "{first} to {last}"),
    "more_evidence": ("另有 {n} 组证据未列出。", "{n} more evidence groups not listed."),
    "role": ("角色：{role}", "Role: {role}"),
    "critical_line": ("关键节点：移除后团伙分裂", "Critical: removing it splits the ring"),
    "in_rings": ("所属团伙：{rings}", "Rings: {rings}"),
    "patterns": ("模式：{patterns}", "Patterns: {patterns}"),
    "node_money": ("证据结算 {claims} 笔，统筹基金支付 {fund} 元",
                   "{claims} evidence claims, fund paid {fund} yuan"),
    "reason": ("认定理由：{reason}", "Why: {reason}"),
    "edge_co_visit": ("同日同院就诊 {days} 天", "at one provider on the same day, {days} days"),
    "edge_money": ("结算 {claims} 笔（{days} 天），统筹基金支付 {fund} 元",
                   "{claims} claims ({days} days), fund paid {fund} yuan"),
    "label_days": ("{days}天", "{days} d"),
    "label_claims": ("{claims}笔", "{claims} cl."),
    "sep": ("、", ", "),
    "list_sep": ("；", "; "),
}


@dataclass(frozen=True)
class ViewInfo:
    """What the page says about the analysis it comes from.

    Attributes
    ----------
    total_rings
        Rings in the analysis (the view may show fewer).
    ranks
        Ring id -> rank (1 = riskiest); rings not in it are numbered in the order given.
    period
        First and last settlement day of the data, or None.
    claims_sha256
        SHA-256 of the claims input file, shown (first 12 characters) in the footer.
    heading_ring
        The one ring the view was asked for (its id), for the heading; None for a view of many.
    """

    total_rings: int
    ranks: Mapping[str, int] = field(default_factory=dict)
    period: tuple[str, str] | None = None
    claims_sha256: str | None = None
    heading_ring: str | None = None


# --------------------------------------------------------------------------- public functions

def render_view(analysis: str | Path | Analysis, *, ring: str | int | None = None,
                lang: str = "zh", redact: str = "masked", max_nodes: int = 2000) -> str:
    """The HTML page of the network of one ring, or of the riskiest rings.

    Parameters
    ----------
    analysis
        An analysis folder (contract §2) or an opened :class:`~graphfraud.results.Analysis`.
    ring
        A ring id (``R-3f9a1c2e``) or rank (``1`` = riskiest); None: all rings, riskiest
        first, whole rings until ``max_nodes``.
    lang
        ``zh`` (default) or ``en``.
    redact
        ``masked`` (default) or ``none`` (the sealed edition; the caller records it in the audit
        log).
    max_nodes
        At most this many nodes (whole rings, riskiest first; the page says how many were left
        out).

    Raises
    ------
    InputError
        Not an analysis folder, no such ring, or a bad option.
    """
    check_lang(lang)
    redactor = Redactor(redact)
    check_argument(isinstance(max_nodes, int) and max_nodes >= 1,
                   f"max_nodes={max_nodes!r}: give a whole number of nodes, 1 or more")
    a = analysis if isinstance(analysis, Analysis) else open_analysis(analysis)
    chosen = [a.ring(ring)] if ring is not None else list(a.rings)
    net = ring_network(a, chosen, redactor=redactor, lang=lang, max_nodes=max_nodes)
    shown_ids = {r for n in net.nodes for r in n["rings"]}
    shown = [r for r in chosen if r["ring_id"] in shown_ids]
    info = ViewInfo(total_rings=len(a.rings), ranks={r["ring_id"]: a.rank(r) for r in shown},
                    period=_data_period(a), claims_sha256=_claims_hash(a),
                    heading_ring=chosen[0]["ring_id"] if ring is not None else None)
    return render_network(net, shown, info=info, lang=lang, redactor=redactor,
                          scrub=redactor.scrubber(_people(a, shown)))


def write_view(analysis: str | Path | Analysis, out_html: str | Path, *,
               ring: str | int | None = None, lang: str = "zh", redact: str = "masked",
               max_nodes: int = 2000, force: bool = False) -> Path:
    """Write the network page (:func:`render_view`) to ``out_html``; return its path.

    The file is written under a temporary name and renamed into place, readable by its owner
    only (it describes persons); an existing file is replaced only with ``force``.

    Raises
    ------
    InputError
        Bad analysis folder, ring or option, or ``out_html`` is a folder.
    OutputExistsError
        ``out_html`` exists and ``force`` is false.
    """
    out = Path(out_html)
    check_argument(not out.is_dir(), f"--out {out}: is a folder; give a file name such as "
                                     f"{out / 'rings.html'}")
    if out.exists() and not force:
        raise OutputExistsError(f"--out {out}: the file exists; choose another name or add "
                                f"--force to replace it")
    html = render_view(analysis, ring=ring, lang=lang, redact=redact, max_nodes=max_nodes)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def render_network(net: RingNetwork, rings: Sequence[dict[str, Any]], *,
                   info: ViewInfo | None = None, lang: str = "zh",
                   redactor: Redactor | None = None,
                   scrub: Callable[[str], str] | None = None) -> str:
    """The HTML page of a :class:`~graphfraud.ringgraph.RingNetwork` already built.

    Parameters
    ----------
    net
        Nodes and edges with positions (labels already masked by ``ring_network``).
    rings
        The ring dicts shown (as in ``rings.json``), riskiest first: their patterns drive the
        filter, their evidence the side panel, their members' reasons the tooltips.
    info
        What the header says of the analysis; default: these rings only.
    lang
        ``zh`` or ``en``.
    redactor
        Only its mode is used here (the notice in the header; masking is done upstream).
    scrub
        Masks personal ids and names in free text (evidence summaries, reasons); default: the
        redactor's scrubber over the rings' members.
    """
    check_lang(lang)
    red = redactor or Redactor("masked")
    if scrub is None:
        scrub = red.scrubber((m["kind"], m["id"], None) for r in rings for m in r["members"])
    info = info or ViewInfo(total_rings=len(rings))
    en = lang == "en"

    def t(key: str, **kw: Any) -> str:
        return _TEXT[key][1 if en else 0].format(**kw)

    ranks = {r["ring_id"]: info.ranks.get(r["ring_id"], i) for i, r in enumerate(rings, 1)}
    ring_pos = {r["ring_id"]: i for i, r in enumerate(rings)}
    reasons = _reasons(rings, en)
    top = max((float(n["fund_paid"] or 0) for n in net.nodes), default=0.0)
    spread = _spread(net)
    nodes = [_vis_node(n, top, spread, t, en, ranks, ring_pos, reasons, scrub) for n in net.nodes]
    labels = {n["index"]: n["label"] for n in net.nodes}
    edges = [_vis_edge(i, e, t, labels) for i, e in enumerate(net.edges)]
    data = {
        "text": {k: _TEXT[k][1 if en else 0] for k in ("hint", "visible", "found", "not_found")},
        "options": _vis_options(len(nodes)),
        "nodes": nodes,
        "edges": edges,
        "rings": [{"id": r["ring_id"], "patterns": sorted(r["patterns"])} for r in rings],
    }

    heading = t("heading")
    asked = next((r for r in rings if r["ring_id"] == info.heading_ring), None)
    if asked is not None:
        heading = t("heading_ring", rank=ranks[asked["ring_id"]], ring=asked["ring_id"],
                    score=f"{asked['score']:.2f}")
    header_lines = [t("counts", total=info.total_rings, shown=len(rings), nodes=len(nodes),
                      edges=len(edges))]
    if info.period:
        header_lines.append(t("period", first=info.period[0], last=info.period[1]))
    footer = t("footer", version=__version__)
    if info.claims_sha256:
        footer += t("footer_hash", sha=info.claims_sha256[:12])
    ring_count = Counter(p for r in rings for p in r["patterns"])
    return _page(
        data, lang_tag="en" if en else "zh-CN", page_title=t("page_title"), heading=heading,
        header_lines=header_lines, notice=t("masked") if red.masked else t("sealed"),
        notice_class="viz-notice-masked" if red.masked else "viz-notice-sealed",
        truncated_notice=t("truncated", n=net.truncated) if net.truncated else "",
        t={k: v[1 if en else 0] for k, v in _TEXT.items()},
        patterns=[{"name": p, "text": pattern_text(p, lang), "rings": ring_count[p]}
                  for p in sorted(ring_count)],
        rings=[_ring_row(r, ranks[r["ring_id"]], t, lang, scrub) for r in rings],
        legend_nodes=_legend_nodes(net, t, en),
        legend_edges=[{"color": EDGE_STYLE[k][0], "dashes": "4 3" if EDGE_STYLE[k][1] else "",
                       "text": EDGE_TEXT[k][1 if en else 0], "count": c}
                      for k, c in sorted(Counter(e["kind"] for e in net.edges).items())],
        footer=footer)


def _page(data: dict[str, Any], **context: Any) -> str:
    """The page from ``viz_page.html`` (Jinja2, autoescape on), with vis-network, the page's
    script and style, and ``data`` inlined, and a CSP that lets only these two scripts run."""
    import jinja2

    vis_js, vis_css = _vis_assets()
    page_js = _static("viz_page.js")
    csp = ("default-src 'none'; script-src " + " ".join(_csp_hash(s) for s in (vis_js, page_js))
           + "; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; "
           "form-action 'none'")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_templates_dir())),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    return env.get_template("viz_page.html").render(
        **context, csp=csp, version=__version__,
        vis_css=_inline(vis_css, "style"), page_css=_inline(_static("viz_page.css"), "style"),
        vis_js=_inline(vis_js, "script"), page_js=_inline(page_js, "script"),
        data_json=_inline(_script_json(data), "script"))


def _ring_row(r: dict[str, Any], rank: int, t: Callable[..., str], lang: str,
              scrub: Callable[[str], str]) -> dict[str, Any]:
    """One ring of the side panel: summary, facts and its evidence (personal ids masked)."""
    names = t("sep").join(pattern_text(p, lang) for p in r["patterns"])
    period = r.get("period") or [None, None]
    key = "summary_en" if lang == "en" else "summary"
    evidence = [{"pattern": pattern_text(str(ev.get("pattern", "")), lang),
                 "summary": scrub(str(ev.get(key) or ev.get("summary") or ""))}
                for ev in r.get("evidence", [])[:_MAX_EVIDENCE]]
    extra = len(r.get("evidence", [])) - len(evidence)
    return {
        "ring_id": r["ring_id"],
        "summary": t("ring_summary", rank=rank, ring=r["ring_id"], score=f"{r['score']:.2f}",
                     patterns=names),
        "option": t("ring_option", rank=rank, ring=r["ring_id"], patterns=names),
        "facts": t("ring_facts", members=len(r["members"]), claims=r.get("claims", 0),
                   fund=_money(r.get("fund_paid")), first=period[0] or "?", last=period[1] or "?"),
        "evidence": evidence,
        "more": t("more_evidence", n=extra) if extra > 0 else "",
    }


# --------------------------------------------------------------------------- nodes and edges

def _category(node: dict[str, Any]) -> str:
    if node["kind"] != "provider":
        return str(node["kind"])
    ptype = node.get("provider_type")
    if ptype in ("hospital", "clinic", "pharmacy"):
        return str(ptype)
    code = str(node.get("id") or "")[:1].upper()  # contract §1: H... institution, P... pharmacy
    return {"H": "hospital", "P": "pharmacy"}.get(code, "provider")


def _darker(colour: str, f: float = 0.7) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(int(r * f), int(g * f), int(b * f))


def _money(x: Any) -> str:
    return f"{float(x or 0):,.2f}"


def _vis_node(n: dict[str, Any], top: float, spread: float, t: Callable[..., str], en: bool,
              ranks: Mapping[str, int], ring_pos: Mapping[str, int],
              reasons: Mapping[tuple[str, str, str], list[str]],
              scrub: Callable[[str], str]) -> dict[str, Any]:
    cat = _category(n)
    shape, fill = NODE_STYLE[cat]
    fund = float(n["fund_paid"] or 0)
    size = 8.0 + (22.0 * math.log1p(max(fund, 0.0)) / math.log1p(top) if top > 0 else 0.0)
    kind_line = str(n["kind_text"])
    if n["kind"] == "provider" and cat in PROVIDER_TYPE_TEXT:
        kind_line += f" · {PROVIDER_TYPE_TEXT[cat][1 if en else 0]}"
    lines = [str(n["label"]), kind_line]
    if n.get("role"):
        role = ROLE_TEXT.get(n["role"], (n["role"], n["role"]))
        lines.append(t("role", role=role[1 if en else 0]))
    if n.get("critical"):
        lines.append(t("critical_line"))
    ring_ids = [r for r in n["rings"] if r in ring_pos]
    lines.append(t("in_rings", rings=t("sep").join(f"#{ranks[r]} {r}" for r in ring_ids)))
    lines.append(t("patterns", patterns=t("sep").join(pattern_text(p, "en" if en else "zh")
                                                    for p in n["patterns"])))
    lines.append(t("node_money", claims=n["claims"], fund=_money(fund)))
    why: list[str] = []
    for r in ring_ids:
        for text in reasons.get((r, n["kind"], n["id"]), []):
            if text and scrub(text) not in why:
                why.append(scrub(text))
    if why:
        lines.append(t("reason", reason=t("list_sep").join(why)))
    border = _CRITICAL_BORDER if n.get("critical") else _darker(fill)
    return {
        "id": n["index"], "x": round(n["x"] * spread, 1), "y": round(n["y"] * spread, 1),
        "label": str(n["label"]),
        "title": "\n".join(lines), "shape": shape, "size": round(size, 1),
        "borderWidth": 4 if n.get("critical") else 1,
        "borderWidthSelected": 5 if n.get("critical") else 3,
        "color": {"background": fill, "border": border,
                  "highlight": {"background": fill, "border": "#000000"},
                  "hover": {"background": fill, "border": "#000000"}},
        "rings": sorted(ring_pos[r] for r in ring_ids),
    }


def _vis_edge(i: int, e: dict[str, Any], t: Callable[..., str],
              labels: Mapping[int, str]) -> dict[str, Any]:
    colour, dashed = EDGE_STYLE.get(e["kind"], ("#999999", False))
    head = f"{e['kind_text']}{t('colon')}{labels[e['source']]} — {labels[e['target']]}"
    if e["kind"] == "co_visit":
        body = t("edge_co_visit", days=e["days"])
        label = t("label_days", days=e["days"])
        weight = e["days"]
    else:
        body = t("edge_money", claims=e["claims"], days=e["days"], fund=_money(e["fund_paid"]))
        label = t("label_claims", claims=e["claims"]) if e["kind"] == "uses_card" else ""
        weight = e["claims"]
    out: dict[str, Any] = {
        "id": i, "from": e["source"], "to": e["target"], "title": f"{head}\n{body}",
        "color": {"color": colour, "highlight": "#000000", "hover": "#000000", "opacity": 0.8},
        "dashes": dashed, "width": round(1.0 + min(math.log1p(max(weight, 0)), 5.0), 2),
    }
    if label:
        out["label"] = label
    return out


def _spread(net: RingNetwork, *, gap: float = 60.0, most: float = 25.0) -> float:
    """How much to stretch the layout so that the median distance from a node to its nearest
    neighbour is ``gap`` canvas units (nodes are 16 to 60 units wide): clusters (a co-visit
    clique) no longer hide their members; the view zooms out to fit, and labels show on zooming
    in. Never shrinks; at most ``most`` times."""
    import numpy as np

    if len(net.nodes) < 2:
        return 1.0
    xy = np.array([[float(n["x"]), float(n["y"])] for n in net.nodes])
    nearest = np.empty(len(xy))
    for start in range(0, len(xy), 512):  # blocks of rows keep memory small
        block = xy[start:start + 512]
        d = np.hypot(block[:, None, 0] - xy[None, :, 0], block[:, None, 1] - xy[None, :, 1])
        d[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        nearest[start:start + len(block)] = d.min(axis=1)
    median = float(np.median(nearest))
    if median <= 0:
        return most
    return float(min(max(gap / median, 1.0), most))


def _vis_options(n_nodes: int) -> dict[str, Any]:
    return {
        "autoResize": True,
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False},
        "interaction": {"hover": True, "tooltipDelay": 150, "multiselect": True,
                        "hideEdgesOnDrag": n_nodes > 300, "keyboard": False},
        "nodes": {"font": {"face": _FONT, "size": 14, "color": "#222222"},
                  "scaling": {"label": {"drawThreshold": 8}}},
        "edges": {"smooth": False, "selectionWidth": 2,
                  "font": {"face": _FONT, "size": 11, "align": "middle", "color": "#444444",
                           "strokeWidth": 3}},
    }


def _legend_nodes(net: RingNetwork, t: Callable[..., str], en: bool) -> list[dict[str, Any]]:
    counts = Counter(_category(n) for n in net.nodes)
    items = []
    for cat in _CATEGORIES:
        if not counts[cat]:
            continue
        shape, fill = NODE_STYLE[cat]
        if cat in PROVIDER_TYPE_TEXT:
            text = (f"{KIND_TEXT['provider'][1 if en else 0]} · "
                    f"{PROVIDER_TYPE_TEXT[cat][1 if en else 0]}")
        else:
            text = KIND_TEXT[cat][1 if en else 0]
        items.append({"shape": shape, "fill": fill, "stroke": _darker(fill), "width": 1,
                      "text": text, "count": counts[cat]})
    crit = sum(1 for n in net.nodes if n.get("critical"))
    if crit:
        items.append({"shape": "dot", "fill": "#ffffff", "stroke": _CRITICAL_BORDER, "width": 3,
                      "text": t("critical"), "count": crit})
    return items


def _reasons(rings: Sequence[dict[str, Any]], en: bool) -> dict[tuple[str, str, str], list[str]]:
    out: dict[tuple[str, str, str], list[str]] = {}
    for r in rings:
        for m in r["members"]:
            text = m.get("reason_en" if en else "reason") or m.get("reason")
            if text:
                out.setdefault((r["ring_id"], m["kind"], m["id"]), []).append(str(text))
    return out


# --------------------------------------------------------------------------- from the analysis

def _data_period(a: Analysis) -> tuple[str, str] | None:
    totals = a.manifest.get("claims_totals") or {}
    first, last = totals.get("first_settlement"), totals.get("last_settlement")
    if first and last:
        return str(first)[:10], str(last)[:10]
    days = [d for r in a.rings for d in (r.get("period") or []) if d]
    return (min(days), max(days)) if days else None


def _claims_hash(a: Analysis) -> str | None:
    for f in a.manifest.get("inputs", []):
        if f.get("table") == "claims" and f.get("sha256"):
            return str(f["sha256"])
    return None


def _people(a: Analysis, rings: Sequence[dict[str, Any]]) -> Iterable[tuple[str, str, str | None]]:
    """Everyone whose id or name free text may mention: the rings' members (with names and id
    numbers) and the persons and cards of their evidence claims."""
    people: list[tuple[str, str, str | None]] = []
    by_kind: dict[str, set[str]] = {}
    for r in rings:
        for m in r["members"]:
            by_kind.setdefault(m["kind"], set()).add(m["id"])
    for kind, ids in sorted(by_kind.items()):
        rows = a.details(kind, sorted(ids)) if kind != "provider" else {}
        for i in sorted(ids):
            row = rows.get(i, {})
            people.append((kind, i, row.get("name")))
            if row.get("id_number"):
                people.append(("id_number", str(row["id_number"]), None))
    claim_ids = sorted({c for r in rings for c in ring_claim_ids(r)})
    if claim_ids:
        t = a.table("claims", columns=["claim_id", "person_id", "card_id"],
                    filter_ids=("claim_id", claim_ids))
        if t is not None:
            for kind, col in (("person", "person_id"), ("card", "card_id")):
                for v in sorted({v for v in t.column(col).to_pylist() if v}):
                    people.append((kind, str(v), None))
    return people


# --------------------------------------------------------------------------- assets and escaping

def _templates_dir() -> Path:
    return Path(__file__).resolve().parent / "templates"


def _static(name: str) -> str:
    return (_templates_dir() / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _vis_assets() -> tuple[str, str]:
    """vis-network's script and style from pyvis's package files, found without importing
    pyvis (whose import pulls in IPython). Newlines are normalised as an HTML parser does, so
    the script's CSP hash matches what the browser runs."""
    spec = importlib.util.find_spec("pyvis")
    where = list(spec.submodule_search_locations or []) if spec else []
    for base in where:
        folder = Path(base) / "templates" / "lib" / f"vis-{VIS_NETWORK_VERSION}"
        js, css = folder / "vis-network.min.js", folder / "vis-network.css"
        if js.is_file() and css.is_file():
            return (js.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\r", "\n"),
                    css.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\r", "\n"))
    raise InputError(f"vis-network {VIS_NETWORK_VERSION} not found in the pyvis package "
                     f"({', '.join(where) or 'pyvis is not installed'}); install it with: "
                     f"pip install 'pyvis>=0.3,<0.4'")


def _inline(text: str, tag: str) -> Any:
    """Our own script or style (or the escaped data block), as Markup to go inside <tag>: it
    must not contain its end tag or ``<!--`` (which changes how a script's end is found)."""
    import markupsafe

    if f"</{tag}" in text.lower() or "<!--" in text:
        raise RuntimeError(f"cannot inline this {tag}: it contains </{tag} or <!--")
    return markupsafe.Markup(text)


def _script_json(obj: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: deterministic, and with the
    characters that could end the block or a JS string escaped."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
