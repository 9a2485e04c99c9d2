"""The evidence workbook (XLSX, openpyxl) and the evidence catalogue as CSV (UTF-8 with BOM).

Every string cell goes through :func:`graphfraud.redact.neutralize_cell`, so a value starting
with ``= + - @`` is text in Excel, never a formula. Both files hold every evidence claim (the
PDF lists the first rows only). The workbook is made deterministic: document properties from
the packet date, and its zip entries rewritten with fixed timestamps.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from graphfraud.packet.content import CATALOGUE_COLUMNS, PacketContent
from graphfraud.packet.texts import words
from graphfraud.redact import neutralize_cell

__all__ = ["write_workbook", "write_csv", "normalize_zip"]

_NUMERIC = {"total_amount", "fund_paid"}
_MONEY_FORMAT = "#,##0.00"


def _cell(v: Any) -> Any:
    return neutralize_cell(v) if isinstance(v, str) else v


def write_workbook(c: PacketContent, path: Path) -> None:
    """The evidence workbook: about, claims, evidence groups, members, timeline."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    t = words(c.lang)
    wb = Workbook(write_only=True)
    stamp = dt.datetime.combine(c.date, dt.time())
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "graphfraud"
    wb.properties.lastModifiedBy = None
    wb.properties.title = _cell(c.case_name)
    bold = Font(bold=True)

    def sheet(title: str, headers: list[str], rows: list[list[Any]], widths: list[int],
              money_cols: frozenset[int] = frozenset()) -> None:
        ws = wb.create_sheet(title=title[:31])
        for i, w in enumerate(widths):
            ws.column_dimensions[_col(i)].width = w
        ws.freeze_panes = "A2"
        head = []
        for h in headers:
            cell = WriteOnlyCell(ws, value=_cell(h))
            cell.font = bold
            head.append(cell)
        ws.append(head)
        for row in rows:
            out: list[Any] = []
            for i, v in enumerate(row):
                if i in money_cols and isinstance(v, float):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = _MONEY_FORMAT
                    out.append(cell)
                else:
                    out.append(_cell(v))
            ws.append(out)

    edition = t["edition_masked"] if c.redact == "masked" else t["edition_sealed"]
    about: list[list[Any]] = [
        [t["ring"], c.ring_id], [t["report_title"], c.case_name], [t["date"], c.date.isoformat()],
        [t["draft"], edition], [t["fund_paid"], c.fund_paid],
        [t["sec_amount"], c.amount["band_text"]], [t["summary"], c.summary],
        [t["claims"], c.n_claims], [t["sec_caveats"], t["for_reference"]]]
    sheet(t["sheet_about"], [t["description"], ""], about, [22, 110], frozenset({1}))
    keys = [k for k, _ in CATALOGUE_COLUMNS]
    sheet(t["sheet_claims"], [t[h] for _, h in CATALOGUE_COLUMNS],
          [[r[k] for k in keys] for r in c.claims],
          [7, 22, 19, 9, 14, 26, 18, 10, 12, 15, 14, 10, 11, 11, 13, 13, 22, 12],
          frozenset(i for i, k in enumerate(keys) if k in _NUMERIC))
    sheet(t["sheet_groups"], [t["evidence_id"], t["pattern"], "pattern", t["strength"], t["claims"],
                              t["fund_paid"], t["summary"]],
          [[e["label"], e["pattern_text"], e["pattern"], e["strength"], e["claims"], e["fund_paid"],
            e["summary"]] for e in c.evidence],
          [8, 16, 22, 9, 10, 16, 100], frozenset({5}))
    sheet(t["sheet_members"],
          [t["kind"], t["id"], t["name"], t["id_number"], t["address"], t["role"], t["reason"],
           t["critical"], t["claims"], t["fund_paid"], t["period"], "", t["places"], t["summary"]],
          [[m["kind_text"], m["id"], m["name"], m["id_number"], m["address"], m["role_text"],
            m["reason"], t["yes"] if m["critical"] else t["no"], m["claims"], m["fund_paid"],
            m["first"], m["last"], m["places"], m["fact"]] for m in c.members],
          [12, 20, 24, 20, 30, 10, 40, 8, 9, 15, 11, 11, 8, 100], frozenset({9}))
    sheet(t["sheet_timeline"], [t["bucket"], t["claims"], t["persons"], t["fund_paid"]],
          [[r["bucket"], r["claims"], r["persons"], r["fund_paid"]] for r in c.timeline],
          [12, 10, 10, 16], frozenset({3}))
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    normalize_zip(tmp, c.date)
    os.replace(tmp, path)


def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(i + 1))


def write_csv(c: PacketContent, path: Path) -> None:
    """The evidence catalogue as CSV: UTF-8 with BOM (Excel reads it as UTF-8), neutralised."""
    t = words(c.lang)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([_cell(t[h]) for _, h in CATALOGUE_COLUMNS])
        for r in c.claims:
            w.writerow([_cell(r[k]) if not isinstance(r[k], float) else f"{r[k]:.2f}"
                        for k, _ in CATALOGUE_COLUMNS])
    os.replace(tmp, path)


def normalize_zip(path: Path, date: dt.date) -> None:
    """Rewrite a zip file (an XLSX) in place with every entry dated ``date`` and fixed
    permissions, entries in their original order, so the bytes depend on the content only."""
    stamp = (max(date.year, 1980), date.month, date.day, 0, 0, 0)
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    # openpyxl stamps the save time as the modification date whatever the properties say
    w3c = f"{date.isoformat()}T00:00:00Z".encode()
    entries = [(info, re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                             rb"\g<1>" + w3c + rb"\g<2>", data)
                if info.filename == "docProps/core.xml" else data) for info, data in entries]
    tmp = path.with_name(path.name + ".norm")
    with zipfile.ZipFile(tmp, "w") as dst:
        for info, data in entries:
            z = zipfile.ZipInfo(info.filename, date_time=stamp)
            z.compress_type = zipfile.ZIP_DEFLATED
            z.external_attr = 0o100644 << 16
            z.create_system = 3
            dst.writestr(z, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    os.replace(tmp, path)

