"""The interactive network view (``graphfraud.viz``, ``graphfraud viz``) proves that:

* the page is one file that loads nothing from the network: no http(s) reference in it, and in
  headless Chromium no request other than file:/data:/blob: (with a canary page showing the
  check sees requests and scripts when there are some);
* it renders: vis-network draws every node (a marker set after drawing), the screenshot shows
  the kinds' colours, and a 2,000-node view draws too (positions from Python, physics off);
* every value from the data is text: providers named ``<img src=x onerror=alert(1)>`` and other
  payloads appear escaped in the file and as text in the browser's details panel, and no
  injected script or handler runs (in the masked and in the sealed edition);
* personal ids, card ids, names and id numbers are masked by default (and present in the sealed
  edition, so the check is not vacuous);
* the filter by pattern and by ring hides exactly the nodes of other rings;
* one ring by id or rank, English with ``lang="en"``, ``max_nodes`` truncation, bad input as
  InputError, atomic writes that replace a file only with ``force``, and the same bytes for the
  same input and options.
"""

from __future__ import annotations

import csv
import doctest
import json
import re
from pathlib import Path

import browserkit
import pytest

from graphfraud.analysis import analyze
from graphfraud.errors import InputError, OutputExistsError
from graphfraud.i18n import PATTERN_TEXT, pattern_text
from graphfraud.results import open_analysis, ring_claim_ids
from graphfraud.ringgraph import RingNetwork, ring_network
from graphfraud.synth import SynthConfig, generate
from graphfraud.viz import NODE_STYLE, ViewInfo, render_network, render_view, write_view

ALERT = "<img src=x onerror=alert(1)>"
PAYLOADS = [
    ALERT,
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">",
    "</script><script>document.documentElement.setAttribute('data-pwned','script');"
    "document.title='PWNED'</script>",
    "\"><svg onload=\"document.documentElement.setAttribute('data-pwned','svg')\">",
    "药店\u2028<!-- & --> <b>bold</b> ' \"",
]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def analysis_dir(tmp_path_factory) -> Path:
    """Synthetic claims (seed 5) whose planted rings' providers carry script payloads as names."""
    base = tmp_path_factory.mktemp("viz")
    inp = base / "in"
    inp.mkdir()
    generate(inp, SynthConfig(persons=3000, months=3, seed=5))
    truth = json.loads((inp / "truth.json").read_text(encoding="utf-8"))
    planted = sorted({m["id"] for r in truth["rings"] for m in r["members"]
                      if m["kind"] == "provider"})
    names = {pid: PAYLOADS[i % len(PAYLOADS)] for i, pid in enumerate(planted)}
    with open(inp / "providers.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["name"] = names.get(row["provider_id"], row["name"])
    with open(inp / "providers.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    analyze(inp, base / "an")
    return base / "an"


@pytest.fixture(scope="module")
def page(analysis_dir, tmp_path_factory) -> Path:
    """The default view (all rings, Chinese, masked)."""
    return write_view(analysis_dir, tmp_path_factory.mktemp("page") / "rings.html")


def page_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="viz-data">(.*?)</script>', html, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def personal_values(analysis_dir: Path) -> set[str]:
    """Ids of persons and cards, names of persons, doctors and staff, and id numbers, of every
    ring's members and evidence claims."""
    a = open_analysis(analysis_dir)
    values: set[str] = set()
    by_kind: dict[str, set[str]] = {}
    for r in a.rings:
        for m in r["members"]:
            by_kind.setdefault(m["kind"], set()).add(m["id"])
    claim_ids = sorted({c for r in a.rings for c in ring_claim_ids(r)})
    claims = a.table("claims", columns=["person_id", "card_id"], filter_ids=("claim_id", claim_ids))
    persons = by_kind.get("person", set()) | {v for v in claims.column("person_id").to_pylist()
                                              if v}
    cards = by_kind.get("card", set()) | {v for v in claims.column("card_id").to_pylist() if v}
    values |= persons | cards
    for kind, ids in (("person", persons), ("doctor", by_kind.get("doctor", set())),
                      ("staff", by_kind.get("staff", set()))):
        for row in a.details(kind, sorted(ids)).values():
            values |= {str(row[c]) for c in ("name", "id_number") if row.get(c)}
    return {v for v in values if len(v) >= 2}


# --------------------------------------------------------------------------- the file

def test_page_is_one_file_that_references_nothing_outside(page):
    html = page.read_text(encoding="utf-8")
    assert browserkit.outside_references(html) == []
    assert not re.search(r"<script[^>]*\ssrc=", html) and "<link" not in html
    csp = [a["content"] for t, a in browserkit.parse_dom(html).tags
           if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1 and csp[0].startswith("default-src 'none'; script-src 'sha256-")
    assert "vis-network" in html and "@version 9.1.2" in html  # inlined, pinned
    for cdn in ("bootstrap", "jsdelivr", "cdnjs", "unpkg"):
        assert cdn not in html.lower()


def test_values_from_the_data_are_escaped_in_the_file(page):
    html = page.read_text(encoding="utf-8")
    data = page_data(html)
    labels = {n["label"] for n in data["nodes"]}
    assert ALERT in labels and len(labels & set(PAYLOADS)) >= 3  # the payloads are in the view
    for p in PAYLOADS:
        assert p not in html
    # the data block cannot end early: no <, > or & in it, and it parses back to the values
    block = re.search(r'id="viz-data">(.*?)</script>', html, re.S).group(1)
    assert not set("<>&\u2028\u2029") & set(block)
    dom = browserkit.parse_dom(html)
    assert dom.count("script") == 3 and dom.count("img") == 0  # vis-network, the page, the data
    assert not any(k.startswith("on") for _, attrs in dom.tags for k in attrs)


def test_masked_by_default_and_sealed_on_request(analysis_dir, page, tmp_path):
    html = page.read_text(encoding="utf-8")
    secrets = personal_values(analysis_dir)
    assert len(secrets) > 100
    leaked = sorted(v for v in secrets if v in html)
    assert leaked == []
    assert "个人身份信息已脱敏" in html
    sealed = write_view(analysis_dir, tmp_path / "sealed.html", redact="none").read_text("utf-8")
    shown = {v for v in secrets if v in sealed}
    assert len(shown) > len(secrets) // 2  # the check above can see them
    assert "未脱敏版本" in sealed


def test_evidence_summaries_are_masked(analysis_dir, page):
    a = open_analysis(analysis_dir)
    html = page.read_text(encoding="utf-8")
    persons = {m["id"] for r in a.rings for m in r["members"] if m["kind"] in ("person", "card")}
    mentioned = [(ev["summary"], pid) for r in a.rings for ev in r["evidence"] for pid in persons
                 if pid in ev["summary"]]
    assert mentioned, "the synthetic evidence names no person or card (fixture changed?)"
    from graphfraud.redact import mask_id

    for _, pid in mentioned:
        assert pid not in html and mask_id(pid) in html


def test_same_input_and_options_give_the_same_bytes(analysis_dir, page, tmp_path):
    again = write_view(analysis_dir, tmp_path / "again.html")
    assert again.read_bytes() == page.read_bytes()
    a = open_analysis(analysis_dir)
    assert render_view(a, ring=2, lang="en") == render_view(analysis_dir, ring="2", lang="en")


def test_nodes_and_edges_come_from_the_ring_network(analysis_dir, page):
    a = open_analysis(analysis_dir)
    net = ring_network(a, a.rings)
    data = page_data(page.read_text(encoding="utf-8"))
    assert len(data["nodes"]) == len(net.nodes) and len(data["edges"]) == len(net.edges)
    assert data["options"]["physics"] == {"enabled": False}
    assert all(isinstance(n["x"], (int, float)) and isinstance(n["y"], (int, float))
               for n in data["nodes"])
    by_index = {n["index"]: n for n in net.nodes}
    for vn in data["nodes"]:
        n = by_index[vn["id"]]
        assert vn["label"] == n["label"]
        kind = n["kind"] if n["kind"] != "provider" else n["provider_type"] or "provider"
        assert (vn["shape"], vn["color"]["background"]) == NODE_STYLE[kind]
        assert vn["borderWidth"] == (4 if n["critical"] else 1)
        assert n["kind_text"] in vn["title"]
    # size grows with the fund paid
    pairs = sorted((by_index[v["id"]]["fund_paid"], v["size"]) for v in data["nodes"])
    assert [s for _, s in pairs] == sorted(s for _, s in pairs)
    co = [e for e in data["edges"] if e["dashes"]]
    assert co and all(re.fullmatch(r"\d+天", e["label"]) for e in co)
    assert any(re.fullmatch(r"\d+笔", e.get("label", "")) for e in data["edges"])


def test_one_ring_by_id_or_rank(analysis_dir, tmp_path):
    a = open_analysis(analysis_dir)
    ring = a.ring(2)
    by_rank = write_view(analysis_dir, tmp_path / "r2.html", ring=2).read_text("utf-8")
    by_id = write_view(analysis_dir, tmp_path / "rid.html", ring=ring["ring_id"]).read_text("utf-8")
    assert by_rank == by_id
    data = page_data(by_rank)
    assert [r["id"] for r in data["rings"]] == [ring["ring_id"]]
    assert len(data["nodes"]) == len({(m["kind"], m["id"]) for m in ring["members"]})
    assert f"团伙 #2 {ring['ring_id']}" in by_rank
    assert f"本分析共识别可疑团伙 {len(a.rings)} 个，本图显示 1 个" in by_rank


def test_chinese_by_default_english_on_request(analysis_dir, page):
    zh = page.read_text(encoding="utf-8")
    en = render_view(analysis_dir, lang="en")
    a = open_analysis(analysis_dir)
    patterns = sorted({p for r in a.rings for p in r["patterns"]})
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    assert "医保基金欺诈团伙关系网络" in zh and "数据期间" in zh and "图例" in zh
    assert "Suspected fraud rings" in en and "Data period" in en and "医保基金" not in en
    for p in patterns:
        assert pattern_text(p, "zh") in zh and pattern_text(p, "en") in en


def test_max_nodes_keeps_whole_riskiest_rings_and_says_so(analysis_dir):
    a = open_analysis(analysis_dir)
    first = len({(m["kind"], m["id"]) for m in a.rings[0]["members"]})
    html = render_view(a, max_nodes=first)
    data = page_data(html)
    assert data["rings"][0]["id"] == a.rings[0]["ring_id"]
    assert len(data["nodes"]) <= first
    assert "为保证显示速度，另有" in html and "--ring" in html


def test_bad_input_is_an_input_error_and_writes_nothing(analysis_dir, tmp_path):
    out = tmp_path / "v.html"
    with pytest.raises(InputError, match="R-00000000"):
        write_view(analysis_dir, out, ring="R-00000000")
    with pytest.raises(InputError, match="out of range"):
        write_view(analysis_dir, out, ring=999)
    with pytest.raises(InputError, match="not an analysis folder"):
        write_view(tmp_path, out)
    with pytest.raises(InputError, match="--lang"):
        write_view(analysis_dir, out, lang="fr")
    with pytest.raises(InputError, match="--redact"):
        write_view(analysis_dir, out, redact="some")
    with pytest.raises(InputError, match="max_nodes"):
        write_view(analysis_dir, out, max_nodes=0)
    with pytest.raises(InputError, match="is a folder"):
        write_view(analysis_dir, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_replaces_a_file_only_with_force(analysis_dir, tmp_path):
    out = tmp_path / "sub" / "v.html"
    write_view(analysis_dir, out, ring=3)
    before = out.read_bytes()
    with pytest.raises(OutputExistsError, match="--force"):
        write_view(analysis_dir, out, ring=1)
    assert out.read_bytes() == before
    write_view(analysis_dir, out, ring=1, force=True)
    assert out.read_bytes() != before
    assert sorted(p.name for p in out.parent.iterdir()) == ["v.html"]  # no temporary left


def test_static_check_finds_outside_references():
    """The static half of the no-network check sees what pyvis's own page links."""
    pyvis_head = ('<link href="https://cdn.jsdelivr.net/npm/bootstrap@5.0.0-beta3/dist/css/'
                  'bootstrap.min.css" rel="stylesheet"><script src="https://cdn.jsdelivr.net/'
                  'npm/bootstrap@5.0.0-beta3/dist/js/bootstrap.bundle.min.js"></script>')
    assert len(browserkit.outside_references(pyvis_head)) >= 2
    assert browserkit.outside_references("<style>a{background:url( 'https://x.org/a.png')}</style>")
    assert browserkit.outside_references('<img srcset="//x.org/a.png 2x">')
    assert browserkit.outside_references('<link rel=preconnect href="/">')
    assert browserkit.outside_references('<img src="data:image/png;base64,AAAA">') == []


def test_a_view_without_rings_says_so():
    html = render_network(RingNetwork(), [], info=ViewInfo(total_rings=0))
    assert "本分析未识别出可疑团伙" in html and page_data(html)["nodes"] == []


def test_doctests():
    import graphfraud.i18n

    assert doctest.testmod(graphfraud.i18n).failed == 0


def test_every_detector_pattern_has_short_names():
    from graphfraud.detectors import describe

    for d in describe():
        zh, en = PATTERN_TEXT[d["pattern"]]
        assert zh and en and len(zh) <= 8


# --------------------------------------------------------------------------- in the browser

def test_browser_sees_requests_and_scripts_of_a_page_that_has_them(tmp_path):
    """The canary: the checks below would notice an outside request or a running script."""
    canary = tmp_path / "canary.html"
    canary.write_text('<html><body><img src="https://example.invalid/x.png">'
                      "<script>document.documentElement.setAttribute('data-pwned','1')</script>"
                      "</body></html>", encoding="utf-8")
    run = browserkit.load(canary, budget_ms=2000)
    assert run.outside_requests == ["https://example.invalid/x.png"]
    assert run.html_attribute("data-pwned") == "1"
    assert all(not r.from_page for r in run.requests if "example.invalid" not in r.url)


def test_browser_renders_the_view_without_outside_requests(page, tmp_path):
    data = page_data(page.read_text(encoding="utf-8"))
    run = browserkit.load(page)
    assert run.html_attribute("data-rendered") == str(len(data["nodes"]))
    assert run.html_attribute("data-csp-violation") is None
    assert run.outside_requests == []
    dom = run.parsed()
    visible = [a for t, a in dom.tags if t == "div" and a.get("id") == "viz-network"][0]
    assert visible["data-visible"] == str(len(data["nodes"]))
    assert visible["data-visible-edges"] == str(len(data["edges"]))
    png = browserkit.screenshot(page, tmp_path / "view.png")
    for kind in ("person", "hospital"):
        assert browserkit.colour_pixels(png, NODE_STYLE[kind][1]) > 50, kind


@pytest.mark.parametrize("redact", ["masked", "none"])
def test_browser_runs_no_injected_script(analysis_dir, tmp_path, redact):
    out = write_view(analysis_dir, tmp_path / f"{redact}.html", redact=redact)
    data = page_data(out.read_text(encoding="utf-8"))
    target = next(n for n in data["nodes"] if n["label"] == ALERT)
    run = browserkit.load(out, fragment=f"node={target['id']}")
    dom = run.parsed()
    assert run.html_attribute("data-rendered") == str(len(data["nodes"]))
    assert run.html_attribute("data-pwned") is None
    assert run.html_attribute("data-csp-violation") is None
    title = re.search(r"<title>(.*?)</title>", run.dom, re.S)
    assert title and title.group(1) == "团伙关系网络"
    # the payload is text in the details panel: escaped in the DOM, no element made from it
    assert dom.text("viz-detail").startswith(ALERT)
    assert "&lt;img src=x onerror=alert(1)&gt;" in run.dom
    assert dom.count("img") == 0 and not any("onerror" in a or "onload" in a for _, a in dom.tags)
    assert run.outside_requests == []


def test_browser_filter_by_pattern_and_ring(analysis_dir, page):
    a = open_analysis(analysis_dir)
    data = page_data(page.read_text(encoding="utf-8"))
    rings = {r["ring_id"]: r for r in a.rings}
    ring_ids = [r["id"] for r in data["rings"]]
    pattern = sorted({p for r in a.rings for p in r["patterns"]}, key=lambda p: (
        sum(p in r["patterns"] for r in a.rings), p))[0]
    want = sum(1 for n in data["nodes"]
               if any(pattern in rings[ring_ids[i]]["patterns"] for i in n["rings"]))
    assert 0 < want < len(data["nodes"])
    run = browserkit.load(page, fragment=f"patterns={pattern}")
    net = [a for t, a in run.parsed().tags if t == "div" and a.get("id") == "viz-network"][0]
    assert net["data-visible"] == str(want)
    third = ring_ids[2]
    want = sum(1 for n in data["nodes"] if 2 in n["rings"])
    run = browserkit.load(page, fragment=f"ring={third}")
    net = [a for t, a in run.parsed().tags if t == "div" and a.get("id") == "viz-network"][0]
    assert net["data-visible"] == str(want)


def tiny_network(label: str) -> RingNetwork:
    net = RingNetwork()
    ends = [("person", "331200199001011234"), ("provider", "H33120000001")]
    for i, (kind, ident) in enumerate(ends):
        net.nodes.append({"index": i, "key": f"{kind}:{ident}", "kind": kind, "id": ident,
                          "shown_id": ident, "label": label if kind == "provider" else "张*",
                          "kind_text": kind, "role": "member", "critical": False,
                          "rings": ["R-1"], "patterns": [PAYLOADS[3]], "claims": 1,
                          "fund_paid": 10.0, "provider_type": None, "x": 100.0 * i, "y": 0.0})
    net.edges.append({"source": 0, "target": 1, "kind": "visits", "kind_text": "就诊/购药",
                      "claims": 1, "days": 1, "fund_paid": 10.0, "label": "1 天"})
    return net


def test_markup_escapes_pattern_names_summaries_and_ids(tmp_path):
    """Ring ids, pattern names (a new detector's) and evidence summaries go into the markup:
    they are escaped there too, and run nothing in the browser."""
    ring = {"ring_id": "R-1\"><b>", "score": 0.5, "patterns": [PAYLOADS[3]], "fund_paid": 10,
            "claims": 1, "period": ["2024-01-01", "2024-01-02"],
            "members": [{"kind": "person", "id": "331200199001011234", "role": "member",
                         "reason": PAYLOADS[1]},
                        {"kind": "provider", "id": "H33120000001", "role": "member"}],
            "evidence": [{"pattern": PAYLOADS[3], "summary": PAYLOADS[2] + " 331200199001011234"}]}
    net = tiny_network(ALERT)
    for n in net.nodes:
        n["rings"] = [ring["ring_id"]]
    html = render_network(net, [ring, {**ring, "ring_id": "R-2", "members": []}])
    for p in PAYLOADS[1:4] + ['R-1"><b>']:
        assert p not in html
    assert "331200199001011234" not in html and "331200********1234" in html
    out = tmp_path / "tiny.html"
    out.write_text(html, encoding="utf-8")
    run = browserkit.load(out, fragment="node=1", budget_ms=2000)
    assert run.html_attribute("data-rendered") == "2"
    assert run.html_attribute("data-pwned") is None
    assert run.html_attribute("data-csp-violation") is None
    dom = run.parsed()
    assert dom.count("img") == 0 and dom.count("b") == 0
    assert dom.text("viz-detail").startswith(ALERT)


def test_browser_draws_a_2000_node_view_at_once(tmp_path):
    """40 rings of 50 members (45 persons, a card, a provider, 2 doctors, a staff member),
    laid out on a grid: the page draws all 2,000 nodes within the first moments."""
    net = RingNetwork()
    rings = []
    for r in range(40):
        rid = f"R-{r:08x}"
        members = ([("person", f"33120000{r:03d}{k:05d}") for k in range(45)]
                   + [("card", f"C{r:03d}00001"), ("provider", f"H3312{r:07d}"),
                      ("doctor", f"D3312{r:03d}01"), ("doctor", f"D3312{r:03d}02"),
                      ("staff", f"YB3312{r:04d}")])
        rings.append({"ring_id": rid, "score": 1 - r / 100, "patterns": ["co_visit"],
                      "fund_paid": 1000.0, "claims": 45, "period": ["2024-01-01", "2024-03-31"],
                      "members": [{"kind": k, "id": i, "role": "member", "reason": "成员",
                                   "critical": k == "provider"} for k, i in members],
                      "evidence": [{"pattern": "co_visit", "summary": "45 人同日就诊"}]})
        cx, cy = (r % 8) * 900.0, (r // 8) * 900.0
        base = len(net.nodes)
        for k, (kind, ident) in enumerate(members):
            net.nodes.append({
                "index": base + k, "key": f"{kind}:{ident}", "kind": kind, "id": ident,
                "shown_id": ident, "label": f"{kind} {k}", "kind_text": kind, "role": "member",
                "critical": kind == "provider", "rings": [rid], "patterns": ["co_visit"],
                "claims": 3, "fund_paid": 100.0 * (k + 1),
                "provider_type": "hospital" if kind == "provider" else None,
                "x": cx + 300 * (k % 7), "y": cy + 120 * (k // 7)})
            if kind == "person":
                net.edges.append({"source": base + k, "target": base + 46, "kind": "visits",
                                  "kind_text": "就诊", "claims": 3, "days": 2,
                                  "fund_paid": 50.0, "label": "2 天"})
    html = render_network(net, rings)
    out = tmp_path / "big.html"
    out.write_text(html, encoding="utf-8")
    data = page_data(html)
    assert len(data["nodes"]) == 2000 and data["options"]["physics"] == {"enabled": False}
    run = browserkit.load(out, budget_ms=5000)
    assert run.html_attribute("data-rendered") == "2000"
    assert run.html_attribute("data-csp-violation") is None
    assert run.outside_requests == []
