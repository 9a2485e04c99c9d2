"""One pass over an input file's bytes: its SHA-256 and the facts that make loading cheaper.

The manifest needs every input file's SHA-256, and the CSV reader needs to know whether the
text is valid UTF-8 before it starts. :func:`scan_file` reads each file once for both and
also notes what the bytes rule out, so that the validation SQL can leave out work that could
not change anything: with no control byte in the file no value holds a control character;
with no white space next to a separator or line end (and no non-ASCII space) no value needs
trimming; a plain file (one record per line, no quotes) can be read by the engine's own CSV
reader. The scans run on a background thread (:class:`Scanner`) while earlier tables load;
hashing, NumPy's counting and Arrow's UTF-8 and RE2 passes release the GIL."""

from __future__ import annotations

import gzip
import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FileFacts", "Scanner", "Stopped", "scan_file"]

_CHUNK = 8 << 20


@dataclass(frozen=True)
class FileFacts:
    """What one pass over a file found.

    Attributes
    ----------
    sha256
        Of the file's bytes as stored (a ``.csv.gz`` file's compressed bytes).
    utf8
        The text is valid UTF-8 (CSV only; False for other formats).
    lines
        Lines of text: line feeds, plus one for a last line without one.
    controls
        A byte below 0x20 other than a line feed or a carriage return (tabs count). Without
        one, no value can hold a control character (a CSV reader ends a line at either).
    line_ends
        ``lf``, ``crlf`` (every line ends so) or ``mixed`` (anything else).
    quotes
        A double quote after the first line.
    spaces
        A value after the first line may begin or end with white space (a space or tab next
        to a separator, quote or line end), or holds a non-ASCII space; always for text
        that is not UTF-8. Without it no value needs trimming.
    """

    sha256: str
    utf8: bool = False
    lines: int = 0
    controls: bool = True
    line_ends: str = "mixed"
    quotes: bool = True
    spaces: bool = True


class Stopped(Exception):
    """A scan given up because its result is no longer wanted."""


def scan_file(path: Path, fmt: str, stop: threading.Event | None = None) -> FileFacts:
    """Read ``path`` once: its SHA-256 and, for CSV text, the :class:`FileFacts`.

    Raises :class:`Stopped` between chunks once ``stop`` is set.
    """
    stop = stop or threading.Event()
    if fmt == "csv":
        with open(path, "rb", buffering=0) as fh:
            return _scan_text(fh, stop, hashed=True)
    digest = _sha256(path, stop)
    if fmt == "csv.gz":
        with gzip.open(path, "rb") as fh:
            facts = _scan_text(fh, stop, hashed=False)
        return FileFacts(digest, facts.utf8, facts.lines, facts.controls, facts.line_ends,
                         facts.quotes, facts.spaces)
    return FileFacts(digest)


def _sha256(path: Path, stop: threading.Event) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(_CHUNK):
            if stop.is_set():
                raise Stopped(path)
            digest.update(chunk)
    return digest.hexdigest()


#: a white space at either end of a value (next to a separator, a quote or a line end), or a
#: non-ASCII space anywhere; RE2 runs it over the UTF-8 text at hundreds of MB/s
_EDGE_SPACE = ("(?:^|[,\\n\"])[ \\t]|[ \\t](?:[,\\r\\n\"]|$)"
               "|[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff]")


def _scan_text(fh, stop: threading.Event, *, hashed: bool) -> FileFacts:
    digest = hashlib.sha256()
    utf8, spaces = True, False
    lf = cr = crlf = 0
    controls = quotes = False
    first_line = True
    tail = b""  # an unfinished line, carried into the next chunk
    last = b""
    pieces = 0  # complete-line pieces seen; the first holds the header
    while chunk := fh.read(_CHUNK):
        if stop.is_set():
            raise Stopped(fh.name)
        if hashed:
            digest.update(chunk)
        a = np.frombuffer(chunk, np.uint8)
        n_lf = int(np.count_nonzero(a == 10))
        n_low = int(np.count_nonzero(a < 32))
        if n_low > n_lf:  # carriage returns or other control bytes: look closer
            n_cr = chunk.count(b"\r")
            n_crlf = chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            cr, crlf = cr + n_cr, crlf + n_crlf
            controls = controls or n_low - n_lf - n_cr > 0
        lf += n_lf
        start = 0
        if first_line and n_lf:
            start = chunk.index(b"\n") + 1
            first_line = False
        if not first_line:
            quotes = quotes or b'"' in (chunk[start:] if start else chunk)
        if utf8:
            complete, tail = _lines(tail, chunk)
            for piece in complete:
                text = _text(piece)
                utf8 = utf8 and _valid(text)
                if utf8 and not spaces and pieces:
                    spaces = _edge_space(text)
                elif utf8 and not spaces:  # the first piece: skip the header line
                    cut = bytes(piece).index(b"\n") + 1  # bytes already: no copy
                    spaces = cut < len(piece) and _edge_space(_text(memoryview(piece)[cut:]))
                pieces += 1
        last = chunk[-1:]
    if utf8 and tail:
        text = _text(tail)
        utf8 = _valid(text)
        spaces = spaces or (utf8 and pieces > 0 and _edge_space(text))
    if first_line:  # one line only: nothing after it
        quotes = False
    lines = lf + (1 if last not in (b"", b"\n") else 0)
    ends = "lf" if cr == 0 else "crlf" if cr == crlf == lf else "mixed"
    return FileFacts(digest.hexdigest() if hashed else "", utf8=utf8, lines=lines,
                     controls=controls, line_ends=ends, quotes=quotes,
                     spaces=spaces or not utf8)


def _lines(tail: bytes, chunk: bytes) -> tuple[list[bytes | memoryview], bytes]:
    """The complete lines of ``tail + chunk`` as (at most two) buffers, and the rest.

    A line feed never sits inside a UTF-8 sequence, so complete lines can be checked alone.
    """
    end = chunk.rfind(b"\n") + 1
    if not end:
        return [], tail + chunk
    first = chunk.index(b"\n") + 1
    complete: list[bytes | memoryview] = [tail + chunk[:first]]
    if first < end:
        complete.append(memoryview(chunk)[first:end])
    return complete, chunk[end:]


def _text(data: bytes | memoryview) -> pa.Array:
    """One buffer as a one-value Arrow string array, without copying it (not validated)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    return pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])


def _valid(text: pa.Array) -> bool:
    """Arrow's UTF-8 validation (vectorised)."""
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _edge_space(text: pa.Array) -> bool:
    return bool(pc.match_substring_regex(text, _EDGE_SPACE)[0].as_py())


class Scanner:
    """Scans files on one background thread, in the order given; :meth:`facts` waits.

    :meth:`close` stops a scan under way at its next chunk and drops those not started.
    """

    def __init__(self, files: list[tuple[str, Path, str]]) -> None:
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphfraud-scan")
        self._futures: dict[str, Future[FileFacts]] = {
            key: self._pool.submit(scan_file, path, fmt, self._stop) for key, path, fmt in files}

    def facts(self, key: str) -> FileFacts:
        return self._futures[key].result()

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
