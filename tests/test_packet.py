"""The referral packet (移送材料) of one ring: what it holds, what it hides, and that it is sealed.

Proves, on a synthetic analysis built here (3,000 persons, 3 months, seed 5):

* the PDFs show Chinese: rendered to PNG (pdftoppm) the pages are not blank, their text
  (pdftotext) holds the titles and a member's masked name, and the CJK font is embedded
  (pdffonts);
* the masked edition holds no person id, card id, id number, address or full name anywhere
  (HTML, PDF text, XLSX cells, CSV, manifest, zip); the sealed edition shows them and is written
  to the workspace's audit log (``packet.sealed`` with the manifest's hash);
* data values are text, never markup or formulas: a provider named
  ``<img src=x onerror=alert(1)>`` is escaped in HTML and printed in the PDF, and spreadsheet and
  CSV cells starting with ``= + - @`` are neutralised;
* ``verify_packet`` finds a changed byte in any file and anywhere in the zip, missing, added
  files and an edited manifest; the same inputs and date give the same bytes;
* the English edition has English names and headings; amount bands and the major-case
  report follow the settings.

The PDF tools (poppler-utils) and the CJK font (fonts-noto-cjk) are skipped when absent locally,
and required when GRAPHFRAUD_REQUIRE_TOOLS=1 (CI).
"""

from __future__ import annotations

import csv
import doctest
import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

import graphfraud.packet.content
import graphfraud.packet.figures
from graphfraud.errors import GraphFraudError, InputError, OutputExistsError
from graphfraud.packet import PacketSettings, amount_band, make_packet, verify_packet
from graphfraud.redact import mask_id, mask_name
from graphfraud.results import open_analysis
from graphfraud.workspace import Workspace

DATE = "2024-07-01"
TOOLS = ("pdftoppm", "pdftotext", "pdffonts")
XSS = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","x")'


def _require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    problem = f"missing PDF tools {missing} (Debian package poppler-utils)" if missing else None
    if problem is None:
        try:
            graphfraud.packet.figures.require_cjk_font()
        except GraphFraudError as exc:
            problem = str(exc)
    if problem:
        if os.environ.get("GRAPHFRAUD_REQUIRE_TOOLS") == "1":
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="module")
def analysis_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from graphfraud.analysis import analyze
    from graphfraud.synth import SynthConfig, generate

    _require_tools()
    root = tmp_path_factory.mktemp("packet")
    (root / "in").mkdir()
    generate(root / "in", SynthConfig(persons=3000, months=3, seed=5))
    analyze(root / "in", root / "an")
    return root / "an"


def _persons(ring: dict[str, Any]) -> int:
    return sum(m["kind"] == "person" for m in ring["members"])


@pytest.fixture(scope="module")
def big_ring(analysis_dir: Path) -> dict[str, Any]:
    """The ring with the most insured persons (their names and ids are what must be hidden)."""
    a = open_analysis(analysis_dir)
    return max(a.rings, key=lambda r: (_persons(r), r["ring_id"]))


@pytest.fixture(scope="module")
def packet(analysis_dir: Path, big_ring: dict[str, Any], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("masked") / "pkt"
    return make_packet(analysis_dir, big_ring["ring_id"], out, date=DATE)


def _pdftext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")


def _forbidden(analysis_dir: Path, ring: dict[str, Any]) -> set[str]:
    """Every personal identifier of the ring: person and card ids, id numbers, addresses, the
    full names of insured persons, doctors and staff."""
    a = open_analysis(analysis_dir)
    claims = a.claims(ring).to_pylist()
    persons = {m["id"] for m in ring["members"] if m["kind"] == "person"}
    persons |= {c["person_id"] for c in claims if c["person_id"]}
    cards = {m["id"] for m in ring["members"] if m["kind"] == "card"}
    cards |= {c["card_id"] for c in claims if c["card_id"]}
    out = set(persons) | cards
    for kind, col in (("person", "person_id"), ("doctor", "doctor_id"), ("staff", "staff_id")):
        ids = sorted({c[col] for c in claims if c[col]} | {m["id"] for m in ring["members"]
                                                             if m["kind"] == kind})
        for row in a.details(kind, ids).values():
            out |= {str(row[k]) for k in ("name", "id_number", "address") if row.get(k)}
    providers = a.details("provider", sorted({c["provider_id"] for c in claims}))
    # a full name inside a provider's name (江州市王建诊所) is the provider's, which stays
    shown = " ".join(str(p.get("name")) for p in providers.values())
    return {s for s in out if len(s) >= 2 and s not in shown}


def _all_text(folder: Path) -> dict[str, str]:
    """The text of every file of a packet: HTML/CSV/JSON as read, PDF via pdftotext, XLSX as its
    XML parts (shared strings and sheets)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(folder).as_posix()
        if p.suffix == ".pdf":
            out[rel] = _pdftext(p)
        elif p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                out[rel] = "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
        elif p.suffix in (".html", ".csv", ".json"):
            out[rel] = p.read_text(encoding="utf-8-sig")
    return out


def _dark_share(png: Path) -> float:
    from PIL import Image

    im = Image.open(png).convert("L")
    hist = im.histogram()
    return sum(hist[:200]) / (im.width * im.height)


# --- the PDF shows Chinese ---------------------------------------------------------------------

def test_packet_layout_and_chinese_pdf(packet, big_ring, analysis_dir, tmp_path):
    folder = packet.folder
    assert packet.ring_id == big_ring["ring_id"] and packet.redact == "masked"
    assert packet.zip == folder.with_name(folder.name + ".zip") and packet.zip.is_file()
    expected = {"01_涉嫌犯罪案件移送书.pdf", "01_涉嫌犯罪案件移送书.html", "02_案件调查报告.pdf",
                "02_案件调查报告.html", "03_证据目录.pdf", "03_证据目录.html", "03_证据目录.xlsx",
                "03_证据目录.csv", "figures/network.png", "figures/timeline.png", "manifest.json"}
    assert expected <= set(packet.files)
    assert ("04_要情报告.pdf" in packet.files) == packet.major
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == \
        sorted(packet.files)

    for pdf in sorted(folder.glob("*.pdf")):
        prefix = tmp_path / pdf.stem
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(prefix)], check=True)
        pages = sorted(tmp_path.glob(f"{pdf.stem}*.png"))
        assert pages, pdf
        for page in pages:
            assert _dark_share(page) > 0.003, f"{page.name} looks blank"
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        cjk = [line for line in fonts if "CJK" in line]
        assert cjk, f"{pdf.name}: no CJK font listed\n" + "\n".join(fonts)
        # columns: name type encoding emb sub uni ...: every CJK font embedded
        assert all(line.split()[-5] == "yes" for line in cjk), "\n".join(cjk)

    referral = _pdftext(folder / "01_涉嫌犯罪案件移送书.pdf").replace("\n", "")
    assert "涉嫌犯罪案件移送书" in referral and "草稿" in referral
    assert "第二百六十六条" in referral and "法发〔2024〕6号" in referral
    assert big_ring["ring_id"] in referral and "建议参考" in referral
    report = _pdftext(folder / "02_案件调查报告.pdf").replace("\n", "")
    for heading in ("案件调查报告", "发现过程", "违约违规违法事实", "时间线", "涉案金额",
                    "法律依据", "医疗保障基金使用监督管理条例", "刑法", "数额较大"):
        assert heading in report, heading
    a = open_analysis(analysis_dir)
    person = next(m["id"] for m in big_ring["members"] if m["kind"] == "person")
    name = a.details("person", [person])[person]["name"]
    assert mask_name(name) in report and mask_id(person) in report
    assert verify_packet(folder) == [] and verify_packet(packet.zip) == []


def test_timeline_and_network_pictures_are_drawn(packet):
    from PIL import Image

    for name in ("network.png", "timeline.png"):
        png = packet.folder / "figures" / name
        im = Image.open(png)
        assert im.format == "PNG" and im.width >= 1000
        assert "Software" not in im.info  # no tool or date metadata: same content, same bytes
        assert _dark_share(png) > 0.005


# --- masking ----------------------------------------------------------------------------------

def test_masked_edition_hides_every_identifier(packet, big_ring, analysis_dir):
    forbidden = _forbidden(analysis_dir, big_ring)
    assert len(forbidden) > 50  # the ring has persons with names, id numbers and cards
    texts = _all_text(packet.folder)
    leaks = {(f, s) for f, t in texts.items() for s in forbidden if s in t}
    assert not leaks, sorted(leaks)[:10]
    with zipfile.ZipFile(packet.zip) as z:
        for info in z.infolist():
            rel = info.filename.split("/", 1)[1]
            assert z.read(info) == (packet.folder / rel).read_bytes(), rel
    # what is shown instead: masked ids in the catalogue
    persons = {m["id"] for m in big_ring["members"] if m["kind"] == "person"}
    shown = texts["03_证据目录.csv"]
    assert any(mask_id(p) in shown for p in persons)


def test_sealed_edition_shows_identifiers_and_is_audited(analysis_dir, tmp_path):
    a = open_analysis(analysis_dir)
    ring = next(r for r in a.rings if "deceased_claim" in r["patterns"])
    ws_path = tmp_path / "ws"
    res = make_packet(analysis_dir, ring["ring_id"], tmp_path / "sealed", redact="none",
                      workspace=ws_path, date=DATE, settings={"pdf_rows": 50})
    report = _pdftext(res.folder / "02_案件调查报告.pdf").replace("\n", "")
    person = next(m["id"] for m in ring["members"] if m["kind"] == "person")
    row = a.details("person", [person])[person]
    assert person in report and row["name"] in report and row["id_number"] in report
    assert "死亡" in report  # the deceased-claim facts: date of death, claims after it
    assert "未脱敏版" in report

    raw = (res.folder / "manifest.json").read_bytes()
    assert res.manifest_sha256 == hashlib.sha256(raw).hexdigest()
    assert json.loads(raw)["edition"] == "sealed"
    log = Workspace(ws_path).audit_log(ring["ring_id"])
    assert [e["action"] for e in log] == ["packet.sealed"]
    assert log[0]["details"]["manifest_sha256"] == res.manifest_sha256
    assert log[0]["details"]["out"] == str(res.folder.resolve())
    assert Workspace(ws_path).verify_audit() == []
    assert verify_packet(res.zip, manifest_sha256=log[0]["details"]["manifest_sha256"]) == []


# --- injection --------------------------------------------------------------------------------

def _poisoned_copy(analysis_dir: Path, dest: Path, ring: dict[str, Any]) -> None:
    """The analysis with a provider of the ring named like markup and claim values like formulas."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    shutil.copytree(analysis_dir, dest)
    a = open_analysis(dest)
    claims = a.claims(ring)
    provider = claims.column("provider_id")[0].as_py()
    pt = pq.read_table(dest / "data" / "providers.parquet")
    names = [XSS if p == provider else n for p, n in zip(pt.column("provider_id").to_pylist(),
                                                         pt.column("name").to_pylist())]
    pq.write_table(pt.set_column(pt.schema.get_field_index("name"), "name",
                                 pa.array(names, pa.string())), dest / "data" / "providers.parquet")
    ct = pq.read_table(dest / "data" / "claims.parquet")
    ids = claims.column("claim_id").to_pylist()
    first, second = ids[0], ids[1]
    diag = pc.if_else(pc.equal(ct.column("claim_id"), first), FORMULA,
                      pc.if_else(pc.equal(ct.column("claim_id"), second), "-2+3",
                                 ct.column("diagnosis_code")))
    ct = ct.set_column(ct.schema.get_field_index("diagnosis_code"), "diagnosis_code", diag)
    pq.write_table(ct, dest / "data" / "claims.parquet")


def test_values_are_text_never_markup_or_formulas(analysis_dir, big_ring, tmp_path):
    from openpyxl import load_workbook

    _poisoned_copy(analysis_dir, tmp_path / "an", big_ring)
    res = make_packet(tmp_path / "an", big_ring["ring_id"], tmp_path / "pkt", date=DATE,
                      settings={"pdf_rows": 20, "transferred": True})
    html = (res.folder / "03_证据目录.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    # the PDF prints it (a narrow column may wrap it over lines)
    assert XSS.replace(" ", "") in "".join(_pdftext(res.folder / "03_证据目录.pdf").split())
    report_html = (res.folder / "02_案件调查报告.html").read_text(encoding="utf-8")
    assert "<img src=x" not in report_html

    dangerous = ("=", "+", "-", "@")
    wb = load_workbook(res.folder / "03_证据目录.xlsx")
    strings = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
               if isinstance(c.value, str)]
    assert "'" + FORMULA in strings and "'-2+3" in strings
    assert not [s for s in strings if s.startswith(dangerous)]
    claims_sheet = wb["证据目录"]
    assert claims_sheet.max_row - 1 == big_ring["claims"]

    with open(res.folder / "03_证据目录.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert len(body) == big_ring["claims"]  # every claim, though the PDF lists 20
    money = {header.index("医疗费总额（元）"), header.index("统筹基金支付（元）")}
    for row in body:
        for i, cell in enumerate(row):
            if i in money:
                float(cell)  # amounts stay numbers (a negative one is a reversal, not a formula)
            else:
                assert not cell.startswith(dangerous), cell
    assert any(cell == "'" + FORMULA for row in body for cell in row)

    catalogue = _pdftext(res.folder / "03_证据目录.pdf")
    assert "前 20 笔" in catalogue and "03_证据目录.xlsx" in catalogue
    # transferred: a major case report with its three parts
    assert res.major and "04_要情报告.pdf" in res.files
    major = _pdftext(res.folder / "04_要情报告.pdf").replace("\n", "")
    for heading in ("要情报告", "发现过程", "违约违规违法事实", "处理结果及处理依据"):
        assert heading in major, heading


# --- verification -----------------------------------------------------------------------------

def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("rel", ["01_涉嫌犯罪案件移送书.pdf", "03_证据目录.xlsx", "03_证据目录.csv",
                                 "figures/network.png", "02_案件调查报告.html"])
def test_verify_finds_a_changed_byte_in_any_file(packet, tmp_path, rel):
    copy = tmp_path / "pkt"
    shutil.copytree(packet.folder, copy)
    _flip(copy / rel, (copy / rel).stat().st_size // 2)
    problems = verify_packet(copy)
    assert len(problems) == 1 and rel in problems[0] and "changed" in problems[0]


def test_verify_finds_missing_added_files_and_an_edited_manifest(packet, tmp_path):
    copy = tmp_path / "pkt"
    shutil.copytree(packet.folder, copy)
    (copy / "figures" / "timeline.png").unlink()
    (copy / "notes.txt").write_text("added later", encoding="utf-8")
    problems = verify_packet(copy)
    assert any("figures/timeline.png is missing" in p for p in problems)
    assert any("notes.txt is not in the manifest" in p for p in problems)

    shutil.rmtree(copy)
    shutil.copytree(packet.folder, copy)
    m = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    m["parameters"]["redact"] = "none"
    (copy / "manifest.json").write_text(json.dumps(m, ensure_ascii=False, indent=2) + "\n",
                                        encoding="utf-8")
    assert any("manifest.json was changed" in p for p in verify_packet(copy))
    # a manifest rewritten with a matching seal is caught against the recorded hash
    from graphfraud.packet.build import manifest_seal

    m["seal"] = manifest_seal(m)
    (copy / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    assert verify_packet(copy) == []
    assert any("not the one recorded" in p
               for p in verify_packet(copy, manifest_sha256=packet.manifest_sha256))


def test_verify_finds_a_changed_byte_anywhere_in_the_zip(packet, tmp_path):
    with zipfile.ZipFile(packet.zip) as z:
        infos = z.infolist()
    pdf = next(i for i in infos if i.filename.endswith("02_案件调查报告.pdf"))
    data_start = pdf.header_offset + 30 + len(pdf.filename.encode("utf-8"))
    size = packet.zip.stat().st_size
    offsets = {"file data": data_start + pdf.file_size // 2,
               "local header date": pdf.header_offset + 10,
               "central directory": size - 22 - 20,
               "end record": size - 6}
    for what, offset in offsets.items():
        copy = tmp_path / f"{what.replace(' ', '_')}.zip"
        shutil.copy(packet.zip, copy)
        _flip(copy, offset)
        assert verify_packet(copy), f"a changed byte in the {what} went unnoticed"


def test_same_inputs_and_date_give_the_same_bytes(packet, analysis_dir, big_ring, tmp_path):
    res = make_packet(analysis_dir, big_ring["ring_id"], tmp_path / "again" / "pkt", date=DATE)
    assert res.files == packet.files
    for rel in res.files:
        assert (res.folder / rel).read_bytes() == (packet.folder / rel).read_bytes(), rel
    assert res.zip.read_bytes() == packet.zip.read_bytes()
    with pytest.raises(OutputExistsError, match="--force"):
        make_packet(analysis_dir, big_ring["ring_id"], res.folder, date=DATE)


# --- English edition, settings, bad input -----------------------------------------------------

def test_english_edition(analysis_dir, tmp_path):
    a = open_analysis(analysis_dir)
    ring = min(a.rings, key=lambda r: (r["claims"], r["ring_id"]))
    res = make_packet(analysis_dir, ring["ring_id"], tmp_path / "en", lang="en", date=DATE,
                      workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()  # a masked edition is not audited
    manifest = json.loads((res.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["edition"] == "masked" and manifest["parameters"]["lang"] == "en"
    assert {"01_referral_letter.pdf", "02_investigation_report.pdf", "03_evidence_catalogue.xlsx",
            "03_evidence_catalogue.csv"} <= set(res.files)
    assert not [f for f in res.files if any("\u4e00" <= ch <= "\u9fff" for ch in f)]
    referral = _pdftext(res.folder / "01_referral_letter.pdf")
    assert "Referral of a suspected criminal case" in referral
    report = " ".join(_pdftext(res.folder / "02_investigation_report.pdf").split())
    for heading in ("Investigation report", "How the ring surfaced", "Facts per member",
                    "Timeline", "Amount involved", "Legal references", "Criminal Law art. 266"):
        assert heading in report, heading
    with open(res.folder / "03_evidence_catalogue.csv", encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f))[:3] == ["no.", "claim id", "settled at"]
    assert verify_packet(res.folder) == []


def test_amount_bands_follow_the_settings():
    assert doctest.testmod(graphfraud.packet.content).failed == 0
    s = PacketSettings()
    assert amount_band(9999.99, s) == "large" and amount_band(100000, s) == "huge"
    strict = PacketSettings(band_large=10000, band_huge=100000)
    assert amount_band(9999.99, strict) == "none" and amount_band(99999, strict) == "large"
    with pytest.raises(InputError, match="3,000 and 10,000"):
        PacketSettings.from_mapping({"band_large": 2000})
    with pytest.raises(InputError, match="unknown colour"):
        PacketSettings.from_mapping({"colour": "red"})


def test_bad_requests_fail_before_writing(analysis_dir, tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no ring"):
        make_packet(analysis_dir, "R-00000000", tmp_path / "a", date=DATE)
    with pytest.raises(InputError, match="--lang"):
        make_packet(analysis_dir, "1", tmp_path / "a", lang="fr", date=DATE)
    with pytest.raises(InputError, match="--redact"):
        make_packet(analysis_dir, "1", tmp_path / "a", redact="partial", date=DATE)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        make_packet(analysis_dir, "1", tmp_path / "a", date="1 July")
    monkeypatch.setattr(graphfraud.packet.figures, "CJK_FAMILIES", ("No Such Font CJK XX",))
    with pytest.raises(GraphFraudError, match="fonts-noto-cjk"):
        make_packet(analysis_dir, "1", tmp_path / "a", date=DATE)
    assert not (tmp_path / "a").exists() and not (tmp_path / "a.zip").exists()


def test_verify_refuses_what_is_not_a_packet(tmp_path):
    with pytest.raises(InputError, match="no such packet"):
        verify_packet(tmp_path / "nothing")
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    assert "not a readable zip" in verify_packet(tmp_path / "x.zip")[0]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "x")
    (tmp_path / "y.zip").write_bytes(buf.getvalue())
    assert "one packet folder" in verify_packet(tmp_path / "y.zip")[0]
    (tmp_path / "folder").mkdir()
    assert "manifest.json is missing" in verify_packet(tmp_path / "folder")[0]
