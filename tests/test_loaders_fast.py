"""Loaders' fast paths: the byte scan, DuckDB's own CSV reader, and that both change nothing.

A plain UTF-8 CSV file is read by DuckDB's ``read_csv``; anything else by the Arrow reader.
The outputs must not depend on which reader ran: the property below loads the same text
both ways and compares the Parquet rows, the rejected CSV byte for byte, and the accounting.
"""

from __future__ import annotations

import dataclasses
import hashlib

import pyarrow.parquet as pq
import pytest
from claimsfixtures import CANONICAL_HEADER, good_claims, load_into, write_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphfraud.loaders import scan
from graphfraud.loaders.scan import scan_file
from graphfraud.loaders.sources import SourceReader


def _facts(tmp_path, data: bytes, fmt: str = "csv"):
    path = tmp_path / "claims.csv"
    path.write_bytes(data)
    return scan_file(path, fmt)


def test_scan_hashes_and_counts_lines(tmp_path):
    data = b"a,b\n1,2\n3,4"
    f = _facts(tmp_path, data)
    assert f.sha256 == hashlib.sha256(data).hexdigest()
    assert (f.utf8, f.lines, f.controls, f.line_ends, f.quotes) == (True, 3, False, "lf", False)
    assert _facts(tmp_path, b"a,b\r\n1,2\r\n").line_ends == "crlf"
    assert _facts(tmp_path, b"a,b\r\n1,2\n").line_ends == "mixed"
    assert _facts(tmp_path, b"a,b\n1\r2\n").line_ends == "mixed"
    assert _facts(tmp_path, b"a,b\n1,\t2\n").controls  # a tab counts
    assert not _facts(tmp_path, b"a, b\n1,2 3\n").spaces  # in the header, inside a value
    for data in (b"a,b\n1, 2\n", b"a,b\n1 ,2\n", b"a,b\n 1,2\n", b"a,b\n1,2 ", b"a,b\n1,2 \r\n",
                 b'a,b\n1," 2"\n', "a,b\n1,2\u30003\n".encode(), b"a,b\n1,\t2\n"):
        assert _facts(tmp_path, data).spaces, data
    assert _facts(tmp_path, "a,b\n1,2\n".encode("gb18030") + "张".encode("gb18030")).spaces
    assert _facts(tmp_path, b"a,b\n1,\x012\n").controls
    assert not _facts(tmp_path, b'"a","b"\n1,2\n').quotes  # quotes in the header only
    assert _facts(tmp_path, b'a,b\n1,"2"\n').quotes


def test_scan_utf8_across_chunks(tmp_path, monkeypatch):
    """A character split by a chunk boundary is valid; a bad byte anywhere is found."""
    monkeypatch.setattr(scan, "_CHUNK", 7)
    text = "名称,金额\n张三丰,1\n李四,2\n" * 5
    assert _facts(tmp_path, text.encode("utf-8")).utf8
    assert _facts(tmp_path, text.encode("utf-8") + "王".encode("utf-8")[:2]).utf8 is False
    assert not _facts(tmp_path, text.encode("gb18030")).utf8
    assert _facts(tmp_path, text.encode("utf-8")).lines == 15


def test_scan_gzip_hashes_the_compressed_file(tmp_path):
    import gzip

    raw = gzip.compress(b"a,b\n1,2\n")
    path = tmp_path / "claims.csv.gz"
    path.write_bytes(raw)
    f = scan_file(path, "csv.gz")
    assert f.sha256 == hashlib.sha256(raw).hexdigest() and f.utf8 and f.lines == 2


def test_plain_file_takes_duckdb_reader(tmp_path, canonical_claims):
    from graphfraud.loaders.sources import discover

    [file], _ = discover(canonical_claims)
    reader = SourceReader(file)
    assert reader.plain_csv_sql() is None  # not scanned yet
    reader.facts = scan_file(file.path, file.format)
    assert reader.plain_csv_sql() is not None
    result, _ = load_into(tmp_path, canonical_claims)
    assert result.inputs[0].sha256 == hashlib.sha256(canonical_claims.read_bytes()).hexdigest()


def _load_both(tmp_path, data: bytes, monkeypatch):
    """Load ``data`` as it comes, then through the Arrow reader with every check in force
    (the scan's facts replaced by the ones that rule nothing out)."""
    path = tmp_path / "in" / "claims.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    fast = load_into(tmp_path / "fast", path)

    def nothing_ruled_out(*args, **kwargs):
        facts = scan_file(*args, **kwargs)
        return dataclasses.replace(facts, controls=True, quotes=True, spaces=True)

    with monkeypatch.context() as m:
        m.setattr(scan, "scan_file", nothing_ruled_out)
        m.setattr(SourceReader, "plain_csv_sql", lambda self: None)
        slow = load_into(tmp_path / "slow", path)
    return fast, slow


def _same_outputs(fast, slow) -> None:
    (rf, of), (rs, os_) = fast, slow
    assert rf.tables["claims"] == rs.tables["claims"]
    assert pq.read_table(of / "data" / "claims.parquet").equals(pq.read_table(os_ / "data" / "claims.parquet"))
    rej_f, rej_s = of / "rejected" / "claims.csv", os_ / "rejected" / "claims.csv"
    assert rej_f.exists() == rej_s.exists()
    if rej_f.exists():
        assert rej_f.read_bytes() == rej_s.read_bytes()


@pytest.mark.parametrize("text", [
    "S1,P1,,H33010200001,outpatient,2024-03-01,,,1,1\n\nS2,P2,,H33010200001,outpatient,2024-03-01,,,1,1\n",
    "S1,P1,,H33010200001,outpatient,2024-03-01,,,1,1\nS2,too,few\n",
    "S1,P1,,H33010200001,outpatient,2024-03-01,,,1,1\r\nS2,P2,,H1,outpatient,2024-03-01,,,1,1\r\n",
    "S1,P1,,H33010200001,outpatient,2024-03-01,,,1,1\r\nS2,P2,,H1,outpatient,2024-03-01,,,1,1\n",
    "S1, P1 ,,H33010200001,outpatient,2024-03-01,,,1,1\n,,,,,,,,,\nS1,P1,,P1,住院,2024/3/1,,,1,1",
    "S1,P1,,H33010200001,\"outpatient\",2024-03-01,,,1,1\n",
], ids=["blank-line", "malformed", "crlf", "mixed-ends", "spaces-empty-row-dup", "quotes"])
def test_duckdb_and_arrow_readers_agree(tmp_path, monkeypatch, text):
    data = (",".join(CANONICAL_HEADER) + "\n" + text).encode("utf-8")
    _same_outputs(*_load_both(tmp_path, data, monkeypatch))


_cell = st.one_of(
    st.sampled_from(["", " ", "nan", "None", "S1", "S2", " S3", "P1", "H33010200001", "P33010200002",
                     "outpatient", "住院", "药店购药", "2024-03-01", "2024/3/1 9:00", "20240301",
                     "2024年3月1日", "45352", "2024-02-30", "100.5", "-20", "1234.00", "abc", "张三",
                     "\u3000x", "x\u3000", "\ufeffS1", "\tS4", "S5\t", "a\x01b", "1 ", " 2"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='",'),
            max_size=8),
)


_W = len(CANONICAL_HEADER)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.lists(_cell, min_size=_W, max_size=_W), max_size=30),
       odd=st.one_of(st.none(), st.tuples(st.integers(0, 30), st.sampled_from(["", " ", "x,y"]))),
       crlf=st.booleans(), final_newline=st.booleans())
def test_readers_agree_on_any_unquoted_text(tmp_path_factory, monkeypatch, rows, odd, crlf,
                                            final_newline):
    """Seeded by hypothesis (derandomize=True); a failure prints the minimal example.

    ``odd`` puts a blank, blank-looking or malformed line somewhere (DuckDB's read then
    does not account for every line, and the Arrow reader takes over).
    """
    end = "\r\n" if crlf else "\n"
    lines = [",".join(r) for r in rows]
    if odd is not None:
        lines.insert(min(odd[0], len(lines)), odd[1])
    text = end.join([",".join(CANONICAL_HEADER)] + lines) + (end if final_newline else "")
    tmp = tmp_path_factory.mktemp("readers")
    _same_outputs(*_load_both(tmp, text.encode("utf-8"), monkeypatch))


def test_same_result_through_both_readers_on_good_claims(tmp_path, monkeypatch):
    rows = good_claims() + [good_claims()[0]]
    data = write_csv(tmp_path / "c.csv", CANONICAL_HEADER, rows).read_bytes()
    _same_outputs(*_load_both(tmp_path, data, monkeypatch))
