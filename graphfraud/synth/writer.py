"""Writing tables: header names from the contract's schema, and the four file formats.

Every writer streams: a table is written chunk by chunk (a month at a time for claims and
items), so ten million claims never sit in memory at once. Files are byte-identical for the
same content: no time stamps (gzip ``mtime=0``; the xlsx zip and its document properties
carry a fixed date).
"""

from __future__ import annotations

from typing import Any

import datetime as dt
import gzip
import io
import re
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from graphfraud.errors import InputError
from graphfraud.loaders.schema import TABLES

_CJK = re.compile(r"[\u4e00-\u9fff]")
_PLATFORM = re.compile(r"^[a-z][a-z0-9_]*$")
XLSX_MAX_ROWS = 1_048_575
_FIXED_DATE = (2024, 1, 1, 0, 0, 0)
_ISO = re.compile(r"\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d)?")


def header_names(table: str, mode: str) -> dict[str, str]:
    """Canonical column name -> written name, from ``graphfraud.loaders.schema``.

    ``chinese``: the first alias with Chinese characters; ``platform``: the first lower-case
    platform field code; a column without one (or whose name would repeat) keeps its
    canonical name.

    Examples
    --------
    >>> header_names("claims", "platform")["claim_id"]
    'setl_id'
    >>> header_names("claims", "chinese")["visit_type"]
    '医疗类别'
    """
    out: dict[str, str] = {}
    for col in TABLES[table].columns:
        name = col.name
        if mode == "chinese":
            name = next((a for a in col.aliases if _CJK.search(a)), col.name)
        elif mode == "platform":
            name = next((a for a in col.aliases if _PLATFORM.match(a)), col.name)
        out[col.name] = name if name not in out.values() else col.name
    return out


class TableWriter:
    """Streams one table to ``path`` in ``fmt`` (csv, csv.gz, parquet, xlsx)."""

    def __init__(self, path: Path, fmt: str, encoding: str, names: dict[str, str]) -> None:
        self.path, self.fmt, self.encoding, self.names = Path(path), fmt, encoding, names
        self.rows = 0
        self._started = False
        self._fh = None
        self._pq: pq.ParquetWriter | None = None
        self._wb = None
        self._ws: Any = None
        self._numeric: set[int] = set()
        self._dates: set[int] = set()
        if fmt in ("csv", "csv.gz"):
            raw = open(self.path, "wb")
            self._raw = raw
            self._fh = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                     compresslevel=5) if fmt == "csv.gz" else raw
            if encoding == "utf-8-sig":
                self._fh.write(b"\xef\xbb\xbf")
        elif fmt == "xlsx":
            import openpyxl

            self._wb = openpyxl.Workbook(write_only=True)
            self._ws = self._wb.create_sheet(self.path.stem)

    def write(self, table: pa.Table, numeric: tuple[str, ...] = (),
              dates: tuple[str, ...] = ()) -> None:
        """Append rows (columns in canonical names; renamed here). In Excel, ``numeric``
        columns become numbers and ISO ``dates`` become Excel dates where they parse."""
        table = table.rename_columns([self.names.get(c, c) for c in table.column_names])
        first = not self._started
        self._started = True
        self.rows += table.num_rows
        if self._fh is not None:
            buf = pa.BufferOutputStream()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False,
                                                           quoting_style="none"))
            data = buf.getvalue().to_pybytes()
            if first:  # names never hold commas or quotes; written plain, like the values
                data = (",".join(table.column_names) + "\n").encode("utf-8") + data
            if self.encoding == "gb18030":
                data = data.decode("utf-8").encode("gb18030")
            self._fh.write(data)
        elif self.fmt == "parquet":
            if self._pq is None:
                self._pq = pq.ParquetWriter(str(self.path), table.schema, compression="snappy")
            self._pq.write_table(table.cast(self._pq.schema))
        else:
            self._xlsx(table, first, numeric, dates)

    def _xlsx(self, table: pa.Table, first: bool, numeric: tuple[str, ...],
              dates: tuple[str, ...]) -> None:
        if self.rows > XLSX_MAX_ROWS:
            raise InputError(f"{self.path.name}: {self.rows} rows do not fit in one Excel sheet "
                             f"(at most {XLSX_MAX_ROWS}); use fmt='csv' or 'parquet'")
        if first:
            self._ws.append(table.column_names)
            self._numeric = {i for i, c in enumerate(table.column_names)
                             if c in {self.names.get(n, n) for n in numeric}}
            self._dates = {i for i, c in enumerate(table.column_names)
                           if c in {self.names.get(n, n) for n in dates}}
        cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
        for i in self._numeric:  # amounts as numbers where they parse (malformed stay text)
            cols[i] = [_num(v) for v in cols[i]]
        for i in self._dates:  # Excel date serials; other forms stay text
            cols[i] = [_date(v) for v in cols[i]]
        for row in zip(*cols):
            self._ws.append(list(row))

    def close(self) -> None:
        """Finish the file (an empty table still gets its header)."""
        if self._fh is not None:
            if self.fmt == "csv.gz":
                self._fh.close()
            self._raw.close()
        elif self._pq is not None:
            self._pq.close()
        elif self._wb is not None:
            self._wb.save(self.path)
            _normalize_zip(self.path)


def _num(v):
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        return v


def _date(v):
    if v is None or not _ISO.fullmatch(v):
        return v
    try:
        d = dt.datetime.fromisoformat(v)
    except ValueError:
        return v
    return d.date() if len(v) == 10 else d


def _normalize_zip(path: Path) -> None:
    """Rewrite an xlsx with fixed entry dates and document-property times."""
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                              rb"\g<1>2024-01-01T00:00:00Z", data)
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    path.write_bytes(out.getvalue())


def write_table(path: Path, fmt: str, encoding: str, names: dict[str, str], table: pa.Table,
                numeric: tuple[str, ...] = (), dates: tuple[str, ...] = ()) -> int:
    """Write one whole table; return its rows."""
    tw = TableWriter(path, fmt, encoding, names)
    tw.write(table, numeric, dates)
    tw.close()
    return tw.rows
