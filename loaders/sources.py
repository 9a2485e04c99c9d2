"""Find the input files and stream their rows, as text, with their source row numbers.

Every reader yields Arrow record batches whose columns are the file's own columns as
strings (null where a cell is missing) plus ``_row``, the row number a person sees when
opening the file (the header is row 1 of a CSV or a sheet; a Parquet file counts its records
from 1). Lines that cannot be split into the header's number of fields are not dropped: they
go to :attr:`SourceReader.malformed` with their raw text, so that
``rows read = rows accepted + rows rejected`` holds for any input.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from graphfraud.engine import quote_literal as ql
from graphfraud.errors import InputError
from graphfraud.loaders.scan import FileFacts
from graphfraud.loaders.schema import TABLES

__all__ = [
    "EXTENSIONS",
    "InputFile",
    "Malformed",
    "SourceReader",
    "discover",
    "detect_encoding",
    "sha256_file",
]

#: file endings the loaders read, in the order they are tried
EXTENSIONS = ("csv.gz", "csv", "parquet", "xlsx")

ROW = "_row"
BATCH_ROWS = 65_536
_SAMPLE_BYTES = 1 << 20
_REPLACING = "graphfraud_replace_"


@dataclass(frozen=True)
class InputFile:
    """One input table's file."""

    table: str
    path: Path
    format: str  # csv | csv.gz | parquet | xlsx


@dataclass(frozen=True)
class Malformed:
    """A record the reader could not split into the header's columns."""

    row: int
    text: str
    reason: str


def discover(input_path: Path) -> tuple[list[InputFile], list[str]]:
    """Return the table files of an input folder (or single claims file) and the ignored names.

    Raises
    ------
    InputError
        The path does not exist, holds no claims table, or holds two files for one table.
    """
    path = Path(input_path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder; give a claims file or a folder of tables")
    if path.is_file():
        fmt = _format_of(path.name)
        if fmt is None:
            raise InputError(
                f"{path}: cannot read this kind of file; use one of "
                + ", ".join("." + e for e in EXTENSIONS)
            )
        return [InputFile("claims", path, fmt)], []

    found: dict[str, list[InputFile]] = {}
    ignored: list[str] = []
    for entry in sorted(path.iterdir(), key=lambda p: p.name):
        fmt = _format_of(entry.name) if entry.is_file() else None
        stem = entry.name[: -(len(fmt) + 1)] if fmt else None
        if fmt is None or stem is None or stem.strip().lower() not in TABLES:
            if not entry.name.startswith("."):
                ignored.append(entry.name)
            continue
        found.setdefault(stem.strip().lower(), []).append(InputFile(stem.strip().lower(), entry, fmt))
    problems = [
        f"{path}: {len(files)} files for table '{table}' ({', '.join(f.path.name for f in files)}); "
        "keep one"
        for table, files in sorted(found.items())
        if len(files) > 1
    ]
    if "claims" not in found:
        problems.append(
            f"{path}: no claims table; the folder needs claims.csv, claims.csv.gz, "
            f"claims.parquet or claims.xlsx (found: {', '.join(ignored) or 'nothing'})"
        )
    if problems:
        raise InputError(problems[0] if len(problems) == 1 else "; ".join(problems), problems)
    order = list(TABLES)
    files = sorted((fs[0] for fs in found.values()), key=lambda f: order.index(f.table))
    return files, ignored


def _format_of(name: str) -> str | None:
    lower = name.lower()
    for ext in EXTENSIONS:
        if lower.endswith("." + ext):
            return ext
    return None


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _open_bytes(path: Path, fmt: str):
    return gzip.open(path, "rb") if fmt == "csv.gz" else open(path, "rb")


def detect_encoding(path: Path, fmt: str) -> str:
    """Name the text encoding of a CSV file: ``utf-8`` (with or without BOM) or ``gb18030``.

    The first MiB decides; bytes that turn out later to be invalid in that encoding make their
    rows rejected, never silently changed. Raises :class:`InputError` when neither fits.
    """
    with _open_bytes(path, fmt) as fh:
        try:
            sample = fh.read(_SAMPLE_BYTES)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: cannot read the file ({exc}); is it a valid {fmt}?") from exc
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    for candidate in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(candidate)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return candidate
    raise InputError(
        f"{path}: the text is neither UTF-8 nor GB18030; give the encoding with --encoding "
        "(for example --encoding big5)"
    )


def _replacing_codec(name: str) -> codecs.CodecInfo | None:
    """A codec that decodes with U+FFFD for invalid bytes, so that the row can be rejected."""
    name = name.replace("-", "_")  # Python hands search functions normalised names
    if not name.startswith(_REPLACING):
        return None
    base = codecs.lookup(name[len(_REPLACING):])

    class Decoder(base.incrementaldecoder):  # type: ignore[name-defined]
        def __init__(self, errors: str = "replace") -> None:
            super().__init__("replace")

    return codecs.CodecInfo(
        name=name, encode=base.encode, decode=lambda b, errors="replace": base.decode(b, "replace"),
        incrementalencoder=base.incrementalencoder, incrementaldecoder=Decoder,
        streamreader=base.streamreader, streamwriter=base.streamwriter,
    )


codecs.register(_replacing_codec)


@dataclass
class SourceReader:
    """Streams one input file as string batches with a ``_row`` column.

    Attributes
    ----------
    headers
        The file's column names, as written (trimmed of a BOM only).
    malformed
        Records that could not be split into ``len(headers)`` fields; filled while reading.
    encoding
        The text encoding used, for CSV files.
    facts
        What a scan of the file's bytes found (:mod:`graphfraud.loaders.scan`), once known;
        without them the reader checks the UTF-8 itself.
    """

    file: InputFile
    encoding: str | None = None
    headers: list[str] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    blank_lines: int = 0
    facts: FileFacts | None = None

    def __post_init__(self) -> None:
        if self.file.format in ("csv", "csv.gz"):
            self.encoding = (_normalise_encoding(self.encoding) if self.encoding is not None
                             else detect_encoding(self.file.path, self.file.format))
            self.headers = self._csv_headers()
        elif self.file.format == "parquet":
            import pyarrow.parquet as pq

            try:
                self.headers = list(pq.ParquetFile(self.file.path).schema_arrow.names)
            except (OSError, pa.ArrowException) as exc:
                raise InputError(f"{self.file.path}: not a readable Parquet file ({exc})") from exc
        else:
            self.headers = self._xlsx_headers()

    # -- CSV ---------------------------------------------------------------------------------
    def _csv_headers(self) -> list[str]:
        with _open_bytes(self.file.path, self.file.format) as raw:
            text = io.TextIOWrapper(raw, encoding=_REPLACING + str(self.encoding), newline="")
            first = text.readline()
        if not first.strip():
            raise InputError(f"{self.file.path}: the first line is empty; it must hold the column names")
        import csv

        return [h.lstrip("\ufeff") for h in next(csv.reader([first]))]

    def _csv_batches(self) -> Iterator[pa.RecordBatch]:
        names = [f"c{i}" for i in range(len(self.headers))]
        bad_lines: list[tuple[int, int]] = []  # (first line, number of lines)

        def on_invalid(row) -> str:
            number = int(row.number) if row.number is not None else -1
            span = row.text.count("\n") + 1
            bad_lines.append((number, span))
            if row.text.strip(" \t\r") == "":
                self.blank_lines += 1
            else:
                self.malformed.append(Malformed(
                    number, row.text,
                    f"row {number}: expected {row.expected_columns} fields, found "
                    f"{row.actual_columns}; fix the quoting or the separators of this line"))
            return "skip"

        read_options = pacsv.ReadOptions(
            use_threads=False, block_size=8 << 20, column_names=names, skip_rows=1,
            # valid UTF-8 takes Arrow's native path; anything else is transcoded by Python with
            # U+FFFD for bad bytes, so that their rows are rejected instead of the whole file
            encoding=("utf8" if self._native_utf8() else _REPLACING + str(self.encoding)),
        )
        parse_options = pacsv.ParseOptions(
            invalid_row_handler=on_invalid, ignore_empty_lines=False, newlines_in_values=False)
        convert_options = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False, check_utf8=False)
        source = gzip.open(self.file.path, "rb") if self.file.format == "csv.gz" else self.file.path
        try:
            reader = pacsv.open_csv(source, read_options=read_options,
                                    parse_options=parse_options, convert_options=convert_options)
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return
            if "Could not skip initial" in str(exc) and self.facts and self.facts.lines <= 1:
                return  # the header alone, without a line end
            raise InputError(f"{self.file.path}: cannot be read as CSV ({exc})") from exc
        next_line = 2  # the header is line 1
        pending = 0  # index into bad_lines of the first bad record not yet placed
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise InputError(f"{self.file.path}: cannot be read as CSV ({exc}); "
                                 "check the separators and quotes near that row") from exc
            want = batch.num_rows
            parts: list[np.ndarray] = []
            have = 0
            while have < want:
                while pending < len(bad_lines) and bad_lines[pending][0] < next_line:
                    pending += 1  # a record the handler could not place (no row number)
                if pending < len(bad_lines) and bad_lines[pending][0] == next_line:
                    next_line += bad_lines[pending][1]
                    pending += 1
                    continue
                stop = bad_lines[pending][0] if pending < len(bad_lines) else next_line + want
                take = min(want - have, stop - next_line)
                parts.append(np.arange(next_line, next_line + take, dtype=np.int64))
                have += take
                next_line += take
            rows = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
            yield _with_rows(batch, rows, names)

    def _native_utf8(self) -> bool:
        if self.encoding != "utf-8":
            return False
        return self.facts.utf8 if self.facts is not None else self._valid_utf8()

    def plain_csv_sql(self) -> str | None:
        """DuckDB's ``read_csv`` of this file, if the file is plain enough for it; else None.

        Plain: a ``.csv`` file of valid UTF-8 text with no quotes after the header line, no
        control bytes and one kind of line end (:class:`FileFacts`). Split on commas and line
        ends, such a file has only one reading, which DuckDB's reader (no Python in the loop,
        no Arrow batches to convert) and the Arrow reader agree on. Blank lines and lines
        with the wrong number of fields remain possible: DuckDB skips the first and fails on
        the second (``strict_mode``), so the caller must compare the rows read with the
        file's lines and fall back to :meth:`reader` when they differ or the read fails.
        """
        f = self.facts
        if (self.file.format != "csv" or f is None or not self._native_utf8() or f.quotes
                or f.controls or f.line_ends == "mixed" or not self.headers):
            return None
        columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(self.headers)))
        # no value holds a control byte, so none is the null string: empty cells stay ''
        return (f"read_csv({ql(str(self.file.path))}, columns = {{{columns}}}, header = false, "
                "skip = 1, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                f"strict_mode = true, nullstr = {ql(chr(1))})")

    def _valid_utf8(self) -> bool:
        decoder = codecs.getincrementaldecoder("utf-8")()
        with _open_bytes(self.file.path, self.file.format) as fh:
            try:
                for chunk in iter(lambda: fh.read(8 << 20), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return False
        return True

    # -- Parquet -----------------------------------------------------------------------------
    def _parquet_batches(self) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        names = [f"c{i}" for i in range(len(self.headers))]
        start = 1
        for batch in pq.ParquetFile(self.file.path).iter_batches(batch_size=BATCH_ROWS):
            columns = [_as_text(batch.column(i)) for i in range(batch.num_columns)]
            text = pa.RecordBatch.from_arrays(columns, names=names)
            yield _with_rows(text, range(start, start + batch.num_rows), names)
            start += batch.num_rows

    # -- Excel -------------------------------------------------------------------------------
    def _open_sheet(self):
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(self.file.path))
            return book.get_sheet_by_index(0)
        except Exception as exc:  # calamine raises its own error types
            raise InputError(f"{self.file.path}: not a readable Excel workbook ({exc})") from exc

    def _xlsx_headers(self) -> list[str]:
        sheet = self._open_sheet()
        for row in sheet.iter_rows():
            return [_cell_text(v) or "" for v in row]
        raise InputError(f"{self.file.path}: the first sheet is empty; it must hold a header row")

    def _xlsx_batches(self) -> Iterator[pa.RecordBatch]:
        names = [f"c{i}" for i in range(len(self.headers))]
        width = len(names)
        cols: list[list[str | None]] = [[] for _ in names]
        rows: list[int] = []
        number = 0
        for number, row in enumerate(self._open_sheet().iter_rows(), start=1):
            if number == 1:
                continue
            values = [_cell_text(v) for v in row]
            if all(v is None for v in values):
                self.blank_lines += 1
                continue
            extra = [v for v in values[width:] if v is not None]
            if extra:
                self.malformed.append(Malformed(
                    number, ",".join(v or "" for v in values),
                    f"row {number}: {len(extra)} value(s) beyond the last named column; "
                    "give every column a header"))
                continue
            values = (values + [None] * width)[:width]
            for col, v in zip(cols, values):
                col.append(v)
            rows.append(number)
            if len(rows) >= BATCH_ROWS:
                yield _with_rows(_text_batch(cols, names), rows, names)
                cols, rows = [[] for _ in names], []
        if rows:
            yield _with_rows(_text_batch(cols, names), rows, names)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the file's rows as string batches with ``_row``; fills :attr:`malformed`."""
        if self.file.format in ("csv", "csv.gz"):
            yield from self._csv_batches()
        elif self.file.format == "parquet":
            yield from self._parquet_batches()
        else:
            yield from self._xlsx_batches()

    def schema(self) -> pa.Schema:
        names = [f"c{i}" for i in range(len(self.headers))]
        return pa.schema([(ROW, pa.int64())] + [(n, pa.string()) for n in names])

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema(), self.batches())


def _normalise_encoding(name: str) -> str:
    try:
        canonical = codecs.lookup(name).name
    except LookupError as exc:
        raise InputError(f"--encoding {name}: unknown text encoding; use utf-8 or gb18030") from exc
    return "utf-8" if canonical in ("utf-8", "utf-8-sig") else canonical


def _with_rows(batch: pa.RecordBatch, rows, names: list[str]) -> pa.RecordBatch:
    arrays = [pa.array(rows, type=pa.int64())] + [batch.column(i) for i in range(len(names))]
    return pa.RecordBatch.from_arrays(arrays, names=[ROW] + names)


def _text_batch(cols: list[list[str | None]], names: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(c, type=pa.string()) for c in cols], names=names)


def _as_text(array: pa.Array) -> pa.Array:
    if pa.types.is_string(array.type):
        return array
    if pa.types.is_large_string(array.type):
        return array.cast(pa.string())
    if pa.types.is_floating(array.type):
        return pa.array([_cell_text(v) for v in array.to_pylist()], type=pa.string())
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        return pa.array([None if v is None else str(v) for v in array.to_pylist()],
                        type=pa.string())
    return array.cast(pa.string())


def _cell_text(value) -> str | None:
    """One spreadsheet or Parquet cell as the text a person would read."""
    import datetime as _dt

    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat()
    if isinstance(value, _dt.time):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None
