"""Loaders: every format, encoding, alias family and bad-input rule of the data contract §1."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from claimsfixtures import (CANONICAL_HEADER, good_claims, load_into, read_parquet_rows,
                            read_rejected, write_csv)

from graphfraud.errors import InputError
from graphfraud.loaders import load
from graphfraud.loaders.schema import TABLES


def _claims(out: Path) -> dict[str, dict]:
    return {r["claim_id"]: r for r in read_parquet_rows(out / "data" / "claims.parquet")}


def test_known_answer_canonical(tmp_path, canonical_claims):
    result, out = load_into(tmp_path, canonical_claims)
    s = result.tables["claims"]
    assert (s.read, s.accepted, s.rejected) == (5, 5, 0)
    claims = _claims(out)
    assert claims["S001"]["settled_at"] == dt.datetime(2024, 3, 1, 9, 5)
    assert claims["S001"]["total_amount"] == Decimal("120.50")
    assert claims["S002"]["provider_type"] == "pharmacy"  # inferred from P...
    assert claims["S001"]["provider_type"] == "hospital"  # inferred from H...
    assert claims["S002"]["card_id"] is None  # empty card: no value, never ""
    assert claims["S003"]["admit_date"] == dt.date(2024, 3, 3)
    # a negative amount is a reversal: accepted, and it nets out
    assert claims["S004"]["fund_paid"] == Decimal("-80.00")
    assert sum(c["fund_paid"] for c in claims.values()) == Decimal("6050.00")
    assert claims["S005"]["source_row"] == 6
    assert not (out / "rejected" / "claims.csv").exists()


CHINESE_HEADER = ["结算ID", "人员编号", "社会保障卡号", "定点医药机构编号", "医疗类别", "结算时间",
                  "入院日期", "出院日期", "医疗费总额", "统筹基金支出"]
PLATFORM_HEADER = ["setl_id", "psn_no", "mdtrt_cert_no", "fixmedins_code", "med_type", "setl_time",
                   "adm_time", "dscg_time", "medfee_sumamt", "hifp_pay"]


@pytest.mark.parametrize("header", [CANONICAL_HEADER, CHINESE_HEADER, PLATFORM_HEADER,
                                    [h.upper() + "  " for h in CANONICAL_HEADER]],
                         ids=["canonical", "chinese", "platform", "case-and-space"])
def test_alias_families_give_the_same_tables(tmp_path, header):
    reference, ref_out = load_into(tmp_path / "ref", write_csv(
        tmp_path / "ref.csv", CANONICAL_HEADER, good_claims()))
    _, out = load_into(tmp_path, write_csv(tmp_path / "claims.csv", header, good_claims()))
    assert _claims(out) == _claims(ref_out)


@pytest.mark.parametrize("column", [c for c in TABLES["claims"].columns if c.aliases])
def test_every_claims_alias_is_recognised(tmp_path, column):
    """Each alias of each claims column maps to that column (one file per alias)."""
    for alias in column.aliases:
        header = [alias if h == column.name else h for h in CANONICAL_HEADER]
        rows = good_claims()
        if column.name not in CANONICAL_HEADER:
            header.append(alias)
            rows = [r + ["X1" if column.type == "id" else ""] for r in rows]
        result, _ = load_into(tmp_path / alias, write_csv(tmp_path / alias / "c.csv", header, rows))
        assert result.tables["claims"].columns[column.name] == alias, alias
        assert alias not in result.tables["claims"].unknown_columns


def test_gb18030_chinese_headers_and_dates(tmp_path):
    rows = [
        ["S1", "P1", "", "H33010200001", "门诊", "2024/3/1 9:05", "", "", "100", "60"],
        ["S2", "P2", "", "P33010200002", "药店购药", "2024年3月2日", "", "", "50", "20"],
        ["S3", "P3", "", "H33010200001", "住院", "20240310", "2024年3月3日", "2024/3/10", "8000", "6000"],
        ["S4", "P4", "", "H33010200001", "普通门诊", "45352", "", "", "10", "5"],
        ["S5", "P5", "", "H33010200001", "急诊", "2024-03-05T08:30:00", "", "", "10", "5"],
        ["S6", "张三", "", "H33010200001", "21", "20240306101500", "", "", "10", "5"],
    ]
    path = write_csv(tmp_path / "claims.csv", CHINESE_HEADER, rows, encoding="gb18030")
    path.read_bytes().decode("gb18030")  # really GB18030, and not UTF-8:
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    result, out = load_into(tmp_path, path)
    assert result.inputs[0].encoding == "gb18030"
    c = _claims(out)
    assert result.tables["claims"].accepted == 6
    assert c["S1"]["settled_at"] == dt.datetime(2024, 3, 1, 9, 5)
    assert c["S2"]["settled_at"] == dt.datetime(2024, 3, 2)
    assert c["S3"]["admit_date"] == dt.date(2024, 3, 3)
    assert c["S3"]["discharge_date"] == dt.date(2024, 3, 10)
    assert c["S4"]["settled_at"] == dt.datetime(2024, 3, 1)  # Excel serial 45352
    assert c["S5"]["emergency"] is True and c["S1"]["emergency"] is False
    assert c["S6"]["settled_at"] == dt.datetime(2024, 3, 6, 10, 15)
    assert c["S6"]["person_id"] == "张三"
    assert [c[k]["visit_type"] for k in sorted(c)] == [
        "outpatient", "pharmacy", "inpatient", "outpatient", "outpatient", "inpatient"]


def test_utf8_bom_and_forced_encoding(tmp_path):
    path = write_csv(tmp_path / "claims.csv", CHINESE_HEADER, [
        ["S1", "P1", "", "H33010200001", "门诊", "2024-03-01", "", "", "1", "1"]], bom=True)
    result, _ = load_into(tmp_path, path)
    assert result.inputs[0].encoding == "utf-8"
    assert result.tables["claims"].columns["claim_id"] == "结算ID"  # BOM not part of the name
    gb = write_csv(tmp_path / "gb" / "claims.csv", CHINESE_HEADER, [
        ["S1", "P1", "", "H33010200001", "门诊", "2024-03-01", "", "", "1", "1"]], encoding="gb18030")
    result, _ = load_into(tmp_path / "gb", gb, encoding="GB18030")
    assert result.tables["claims"].accepted == 1


def test_undecodable_bytes_reject_the_row_not_the_file(tmp_path):
    good = "S1,P1,,H33010200001,outpatient,2024-03-01,,,1,1\n".encode()
    bad = "S2,P\xff\xfe1,,H33010200001,outpatient,2024-03-01,,,1,1\n".encode("latin-1")
    path = tmp_path / "claims.csv"
    path.write_bytes((",".join(CANONICAL_HEADER) + "\n").encode() + good * 1 + bad)
    result, out = load_into(tmp_path, path, encoding="utf-8")
    s = result.tables["claims"]
    assert (s.read, s.accepted, s.rejected) == (2, 1, 1)
    assert "not valid in the file encoding" in read_rejected(out / "rejected" / "claims.csv")[0]["reason"]


def test_unknown_encoding_is_a_clear_error(tmp_path, canonical_claims):
    with pytest.raises(InputError, match="--encoding klingon: unknown text encoding"):
        load_into(tmp_path, canonical_claims, encoding="klingon")


def test_csv_gz_and_parquet(tmp_path, canonical_claims):
    gz = tmp_path / "gz" / "claims.csv.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(canonical_claims.read_bytes()))
    result_gz, out_gz = load_into(tmp_path / "gz", gz)
    assert result_gz.tables["claims"].accepted == 5

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = good_claims()
    table = pa.table({h: [r[i] or None for r in rows] for i, h in enumerate(CANONICAL_HEADER)})
    table = table.set_column(8, "total_amount", pa.array([float(r[8]) for r in rows]))
    table = table.set_column(5, "settled_at", pa.array(
        [dt.datetime.fromisoformat(r[5]) for r in rows], type=pa.timestamp("s")))
    pq.write_table(table, tmp_path / "claims.parquet")
    result_pq, out_pq = load_into(tmp_path / "pq", tmp_path / "claims.parquet")
    assert result_pq.tables["claims"].accepted == 5
    assert _claims(out_pq) == {k: {**v, "source_row": v["source_row"] - 1}
                               for k, v in _claims(out_gz).items()}


def test_excel_with_date_cells_and_serials(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(CHINESE_HEADER + ["备注"])
    sheet.append(["S1", "P1", "C1", "H33010200001", "门诊", dt.datetime(2024, 3, 1, 9, 5), None, None,
                  120.5, 80, "x"])
    sheet.append(["S2", 330102001, None, "P33010200002", "药店购药", 45352, None, None, 56, 30, None])
    sheet.append([None] * 11)  # an empty row is not a row
    sheet.append(["S3", "P3", None, "H33010200001", "住院", "2024年3月10日", dt.date(2024, 3, 3),
                  "2024/3/10", 8000, 6000, None])
    path = tmp_path / "claims.xlsx"
    book.save(path)
    result, out = load_into(tmp_path, path)
    s = result.tables["claims"]
    assert (s.read, s.accepted, s.rejected, s.blank_lines) == (3, 3, 0, 1)
    c = _claims(out)
    assert c["S1"]["settled_at"] == dt.datetime(2024, 3, 1, 9, 5)
    assert c["S1"]["total_amount"] == Decimal("120.50")
    assert c["S2"]["person_id"] == "330102001"  # a numeric cell is not "330102001.0"
    assert c["S2"]["settled_at"] == dt.datetime(2024, 3, 1)
    assert c["S3"]["admit_date"] == dt.date(2024, 3, 3)
    assert c["S3"]["source_row"] == 5  # the sheet's own row number
    assert result.tables["claims"].unknown_columns == ["备注"]


def test_empty_ids_never_become_values(tmp_path):
    rows = [["S1", "nan", "NA", "H33010200001", "outpatient", "2024-03-01", "", "", "1", "1"],
            ["S2", "None", "", "H33010200001", "outpatient", "2024-03-01", "", "", "1", "1"],
            ["S3", "  ", "null", "H33010200001", "outpatient", "2024-03-01", "", "", "1", "1"],
            ["S4", " P4 ", " None ", "H33010200001", "outpatient", "2024-03-01", "", "", "1", "1"]]
    result, out = load_into(tmp_path, write_csv(tmp_path / "claims.csv", CANONICAL_HEADER, rows))
    assert result.tables["claims"].accepted == 1
    only = _claims(out)["S4"]
    assert only["person_id"] == "P4" and only["card_id"] is None  # trimmed; "None" is no card
    reasons = [r["reason"] for r in read_rejected(out / "rejected" / "claims.csv")]
    assert reasons == ["person_id is empty"] * 3


def test_duplicate_claim_id_keeps_first(tmp_path):
    rows = good_claims() + [good_claims()[0], ["S002", "P9", "", "H33010200001", "outpatient",
                                               "2024-03-09", "", "", "1", "1"]]
    result, out = load_into(tmp_path, write_csv(tmp_path / "claims.csv", CANONICAL_HEADER, rows))
    assert (result.tables["claims"].accepted, result.tables["claims"].rejected) == (5, 2)
    assert _claims(out)["S002"]["person_id"] == "P002"
    rejected = read_rejected(out / "rejected" / "claims.csv")
    assert [r["reason"] for r in rejected] == ["duplicate claim_id 'S001': row 2 is kept",
                                               "duplicate claim_id 'S002': row 3 is kept"]
    assert [r["source_row"] for r in rejected] == ["7", "8"]
    assert rejected[1]["person_id"] == "P9"  # unchanged


def test_every_problem_of_a_row_is_collected_and_the_row_kept_unchanged(tmp_path):
    rows = [["S1", "P1", "C1", "H33010200001", "checkup", "2024-02-30", "2024-03-05", "2024-03-01",
             "12a", "-5"],
            ["S2", "P2", "C2", "X99", "", "2024-03-01", "", "", "10", "20"],
            ["S3", "P3", "C3", "H33010200001", "outpatient", "2024-03-01", "", "", "-10", "5"]]
    result, out = load_into(tmp_path, write_csv(tmp_path / "claims.csv", CANONICAL_HEADER, rows))
    assert result.tables["claims"].rejected == 3
    r = read_rejected(out / "rejected" / "claims.csv")
    assert r[0]["visit_type"] == "checkup" and r[0]["total_amount"] == "12a"
    for expected in ("visit_type: 'checkup' is not a visit type", "settled_at: '2024-02-30' is not a date",
                     "total_amount: '12a' is not a number", "discharge_date 2024-03-01 is before admit_date"):
        assert expected in r[0]["reason"]
    for expected in ("visit_type is empty", "fund_paid 20.00 exceeds total_amount 10.00",
                     "cannot be inferred from provider_id 'X99'"):
        assert expected in r[1]["reason"]
    assert "opposite signs" in r[2]["reason"]


def test_malformed_lines_are_rejected_with_their_text(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text(",".join(CANONICAL_HEADER) + "\n"
                    "S1,P1,,H33010200001,outpatient,2024-03-01,,,1,1\n"
                    "S2,P2,too,few\n"
                    "\n"
                    "S3,P3,,H33010200001,outpatient,2024-03-01,,,1,1,extra\n"
                    "S4,P4,,H33010200001,outpatient,2024-03-01,,,1,1\n", encoding="utf-8")
    result, out = load_into(tmp_path, path)
    s = result.tables["claims"]
    assert (s.read, s.accepted, s.rejected, s.blank_lines) == (4, 2, 2, 1)
    assert _claims(out)["S4"]["source_row"] == 6
    r = read_rejected(out / "rejected" / "claims.csv")
    assert [x["raw_line"] for x in r] == ["S2,P2,too,few",
                                          "S3,P3,,H33010200001,outpatient,2024-03-01,,,1,1,extra"]
    assert [x["source_row"] for x in r] == ["3", "5"]
    assert "expected 10 fields, found 4" in r[0]["reason"]


def test_folder_with_every_table(tmp_path):
    d = tmp_path / "in"
    write_csv(d / "claims.csv", CANONICAL_HEADER + ["doctor_id", "staff_id"],
              [r + ["D330102000001", "S01"] for r in good_claims()] +
              [["S009", "", "", "H33010200009", "outpatient", "2024-03-01", "", "", "1", "1", "", ""]])
    write_csv(d / "items.csv", ["结算ID", "医疗目录编码", "数量", "金额", "追溯码"], [
        ["S001", "XA01ABD075A002010100483", "1", "120.50", "81234567890123456789"],
        ["S002", "XA01ABD075A002010100483", "2", "56", "8123"],
        ["S009", "001201000010000", "1", "1", ""],  # its claim was rejected
        ["NOPE", "001201000010000", "1", "1", ""]])
    write_csv(d / "persons.csv", ["人员编号", "姓名", "证件号码", "出生日期", "性别", "死亡日期"], [
        ["P001", "张三", "11010519491231002X", "1949-12-31", "女", ""],
        ["P002", "李四", "110105194912310021", "1949-12-31", "男", ""],
        ["P003", "王五", "", "1950-01-01", "1", "2024-03-20"],
        ["P003", "王五", "", "1950-01-01", "1", ""]])
    write_csv(d / "providers.csv", ["定点医药机构编号", "机构名称", "机构类型", "医院等级", "所有制", "双通道"], [
        ["H33010200001", "第一人民医院", "医院", "三级甲等", "公立", "否"],
        ["H33010200003", "仁和诊所", "诊所", "", "民营", "否"],
        ["P33010200002", "大药房", "零售药店", "", "民营", "是"]])
    write_csv(d / "doctors.csv", ["doctor_id", "name", "provider_id"], [["D330102000001", "赵医生", "H33010200001"]])
    write_csv(d / "staff.csv", ["staff_id", "name", "office"], [["S01", "钱", "上城区医保中心"]])
    (d / "notes.txt").write_text("not a table", encoding="utf-8")
    result, out = load_into(tmp_path, d)
    t = result.tables
    assert {k: (v.read, v.accepted, v.rejected) for k, v in t.items()} == {
        "providers": (3, 3, 0), "persons": (4, 2, 2), "doctors": (1, 1, 0), "staff": (1, 1, 0),
        "claims": (6, 5, 1), "items": (4, 1, 3)}
    assert result.ignored_files == ["notes.txt"]
    claims = _claims(out)
    assert claims["S005"]["provider_type"] == "clinic"  # from the providers table, not the H
    providers = {r["provider_id"]: r for r in read_parquet_rows(out / "data" / "providers.parquet")}
    assert providers["H33010200001"]["level"] == 3
    assert providers["H33010200001"]["ownership"] == "public"
    assert providers["P33010200002"]["dual_channel"] is True
    persons = {r["person_id"]: r for r in read_parquet_rows(out / "data" / "persons.parquet")}
    assert persons["P001"]["gender"] == "female" and persons["P003"]["death_date"] == dt.date(2024, 3, 20)
    reasons = " | ".join(r["reason"] for r in read_rejected(out / "rejected" / "persons.csv"))
    assert "fails the GB 11643 check digit" in reasons and "duplicate person_id 'P003'" in reasons
    item_reasons = [r["reason"] for r in read_rejected(out / "rejected" / "items.csv")]
    assert item_reasons == ["trace_code '8123' is not a 20-digit traceability code",
                            "claim_id 'S009' is not an accepted claim (see rejected/claims.csv)",
                            "claim_id 'NOPE' is not an accepted claim (see rejected/claims.csv)"]


def test_mapping_file(tmp_path):
    header = ["流水", "人员", "卡", "机构", "类别", "时间", "入院", "出院", "总额", "统筹"]
    path = write_csv(tmp_path / "claims.csv", header, good_claims())
    mapping = tmp_path / "map.yaml"
    mapping.write_text("claims:\n" + "".join(f"  {h}: {c}\n" for h, c in zip(header, CANONICAL_HEADER)),
                       encoding="utf-8")
    result, out = load_into(tmp_path, path, mapping=mapping)
    assert result.tables["claims"].accepted == 5
    assert result.tables["claims"].columns["claim_id"] == "流水"
    bad = tmp_path / "bad.yaml"
    bad.write_text("claims:\n  流水: settlement\nclaimz:\n  a: b\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_into(tmp_path / "x", path, mapping=bad)
    assert len(err.value.problems) == 2
    assert "'claims.流水' maps to 'settlement', which is not a column of claims" in str(err.value)
    assert "unknown table 'claimz'" in str(err.value)


def test_missing_required_columns_are_all_named(tmp_path):
    path = write_csv(tmp_path / "claims.csv", ["结算ID", "人员编号", "医疗费总额"], [["S1", "P1", "1"]])
    with pytest.raises(InputError) as err:
        load_into(tmp_path, path)
    problems = err.value.problems
    assert [p.split("'")[1] for p in problems] == ["provider_id", "visit_type", "settled_at", "fund_paid"]
    first = problems[0]
    assert str(path) in first
    assert "定点医药机构编号, 定点机构编码, 机构编码, fixmedins_code" in first
    assert "'结算ID', '人员编号', '医疗费总额'" in first
    assert "--mapping" in first


def test_input_errors_name_what_to_do(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        load(tmp_path / "nothing", tmp_path / "o")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no claims table"):
        load(tmp_path / "empty", tmp_path / "o")
    two = tmp_path / "two"
    write_csv(two / "claims.csv", CANONICAL_HEADER, good_claims())
    (two / "claims.parquet").write_bytes(b"x")
    with pytest.raises(InputError, match="2 files for table 'claims'"):
        load(two, tmp_path / "o")
    (tmp_path / "claims.json").write_text("{}")
    with pytest.raises(InputError, match="cannot read this kind of file"):
        load(tmp_path / "claims.json", tmp_path / "o")
    (tmp_path / "blank.csv").write_text("\n\n")
    with pytest.raises(InputError, match="first line is empty"):
        load(tmp_path / "blank.csv", tmp_path / "o")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        load(tmp_path / "broken.parquet", tmp_path / "o")
    (tmp_path / "broken.xlsx").write_bytes(b"PK not really")
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        load(tmp_path / "broken.xlsx", tmp_path / "o")
    (tmp_path / "latin.csv").write_bytes(b"claim_id\n\xff\xfe\xfd\x80\x81\n" * 3)
    with pytest.raises(InputError, match="neither UTF-8 nor GB18030"):
        load(tmp_path / "latin.csv", tmp_path / "o")


def test_header_only_file_loads_zero_rows(tmp_path):
    path = write_csv(tmp_path / "claims.csv", CANONICAL_HEADER, [])
    result, out = load_into(tmp_path, path)
    assert (result.tables["claims"].read, result.tables["claims"].accepted) == (0, 0)
    assert read_parquet_rows(out / "data" / "claims.parquet") == []
