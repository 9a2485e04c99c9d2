"""The input tables of the data contract, as data.

Everything the loaders know about the contract's section 1 lives here: the tables, their
columns, types, whether a column is required, and the aliases (Chinese labels of typical
settlement exports and field codes of the national medical-security platform interface).
Columns marked ``extension`` are additions of this project to contract version 1; they are
optional, so every version-1 input keeps working (see ``docs/contract-extensions.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ColumnSpec", "TableSpec", "TABLES", "ID_TYPES", "table_spec"]

#: column types understood by the validator
TEXT = "text"  # free text, kept as given (trimmed)
ID = "id"  # identifier: trimmed; "", "nan", "NA", "None", "null" ... are missing
DATETIME = "datetime"
DATE = "date"
DECIMAL = "decimal"
INTEGER = "integer"
VISIT_TYPE = "visit_type"
PROVIDER_TYPE = "provider_type"
OWNERSHIP = "ownership"
GENDER = "gender"
LEVEL = "level"
BOOLEAN = "boolean"

ID_TYPES = frozenset({ID})


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of an input table."""

    name: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    meaning: str = ""
    extension: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One input table: its columns and the column that must be unique, if any."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: str | None = None
    required: bool = False
    meaning: str = ""
    #: canonical columns whose values must be among the accepted keys of another table
    references: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def required_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, type_: str, req: bool = False, aliases: str = "", meaning: str = "",
       extension: bool = False) -> ColumnSpec:
    return ColumnSpec(name, type_, req, tuple(a for a in aliases.split(",") if a), meaning,
                      extension)


CLAIMS = TableSpec(
    "claims",
    (
        _c("claim_id", ID, True, "结算ID,结算流水号,setl_id", "settlement id, unique"),
        _c("visit_id", ID, False, "就诊ID,就诊流水号,mdtrt_id", "encounter id"),
        _c("person_id", ID, True, "人员编号,个人编号,psn_no", "insured person id"),
        _c("card_id", ID, False, "社会保障卡号,卡号,凭证号,mdtrt_cert_no",
           "card or credential used; empty means person_id"),
        _c("provider_id", ID, True, "定点医药机构编号,定点机构编码,机构编码,fixmedins_code",
           "designated provider code (H/P + 11 digits)"),
        _c("provider_type", PROVIDER_TYPE, False, "机构类型",
           "hospital, clinic or pharmacy; inferred from the code when empty"),
        _c("doctor_id", ID, False,
           "医师代码,医保医师代码,主诊医师代码,atddr_no,chfpdr_code,bilg_dr_codg",
           "doctor code; on a pharmacy claim the prescribing doctor"),
        _c("staff_id", ID, False, "经办人,经办人ID,医保机构经办人,opter_id,hsorg_opter",
           "agency staff who reviewed or approved the claim"),
        _c("terminal_id", ID, False, "终端编号,刷卡终端", "terminal that read the card"),
        _c("visit_type", VISIT_TYPE, True, "医疗类别,就诊类型,med_type",
           "outpatient, inpatient or pharmacy"),
        _c("settled_at", DATETIME, True, "结算时间,setl_time", "settlement time"),
        _c("admit_date", DATE, False, "入院日期,入院时间,adm_time,begntime", "admission date"),
        _c("discharge_date", DATE, False, "出院日期,出院时间,dscg_time,endtime",
           "discharge date"),
        _c("diagnosis_code", TEXT, False, "主诊断编码,诊断代码,diag_code,dscg_maindiag_code",
           "main diagnosis, ICD-10 national insurance edition"),
        _c("total_amount", DECIMAL, True, "医疗费总额,medfee_sumamt", "total medical cost, yuan"),
        _c("fund_paid", DECIMAL, True, "统筹基金支出,基金支付总额,hifp_pay,fund_pay_sumamt",
           "paid by the pooled fund, yuan"),
        _c("orig_claim_id", ID, False, "原结算ID,原结算流水号,init_setl_id",
           "for a reversal: the settlement it reverses", extension=True),
    ),
    key="claim_id",
    required=True,
    meaning="one row per settlement (结算记录)",
)

ITEMS = TableSpec(
    "items",
    (
        _c("claim_id", ID, True, "结算ID,setl_id", "settlement it belongs to"),
        _c("line_no", INTEGER, False, "明细序号", "line number"),
        _c("item_code", ID, True, "医疗目录编码,医保目录编码,med_list_codg",
           "national catalogue code"),
        _c("item_name", TEXT, False, "项目名称,医疗目录名称,med_list_name", "name"),
        _c("quantity", DECIMAL, True, "数量,cnt", "quantity"),
        _c("unit_price", DECIMAL, False, "单价,pric", "unit price"),
        _c("amount", DECIMAL, True, "金额,明细项目费用总额,det_item_fee_sumamt", "line amount"),
        _c("trace_code", ID, False, "追溯码,药品追溯码,drug_trac_codg",
           "20-digit drug traceability code"),
    ),
    meaning="one row per charged line",
    references={"claim_id": ("claims", "claim_id")},
)

PERSONS = TableSpec(
    "persons",
    (
        _c("person_id", ID, True, "人员编号,个人编号,psn_no"),
        _c("name", TEXT, False, "姓名,psn_name"),
        _c("id_number", ID, False, "证件号码,身份证号,certno"),
        _c("birth_date", DATE, False, "出生日期,brdy"),
        _c("gender", GENDER, False, "性别,gend"),
        _c("address", TEXT, False, "住址,地址,addr"),
        _c("death_date", DATE, False, "死亡日期,die_date"),
    ),
    key="person_id",
)

PROVIDERS = TableSpec(
    "providers",
    (
        _c("provider_id", ID, True, "定点医药机构编号,定点机构编码,机构编码,fixmedins_code"),
        _c("name", TEXT, False, "机构名称,定点医药机构名称,fixmedins_name"),
        _c("provider_type", PROVIDER_TYPE, False, "机构类型"),
        _c("level", LEVEL, False, "医院等级,机构等级,hosp_lv"),
        _c("ownership", OWNERSHIP, False, "所有制,经营性质,公立民营"),
        _c("region", ID, False, "行政区划,所属区划,admdvs"),
        _c("dual_channel", BOOLEAN, False, "双通道,双通道药店",
           "designated dual-channel pharmacy (双通道)", extension=True),
    ),
    key="provider_id",
)

DOCTORS = TableSpec(
    "doctors",
    (
        _c("doctor_id", ID, True, "医师代码,医保医师代码,atddr_no"),
        _c("name", TEXT, False, "姓名,医师姓名,dr_name"),
        _c("provider_id", ID, False, "定点医药机构编号,机构编码,fixmedins_code"),
        _c("department", TEXT, False, "科室,科室名称,dept_name", extension=True),
    ),
    key="doctor_id",
)

STAFF = TableSpec(
    "staff",
    (
        _c("staff_id", ID, True, "经办人ID,经办人编号,opter_id"),
        _c("name", TEXT, False, "姓名,经办人,opter_name"),
        _c("office", TEXT, False, "经办机构,医保经办机构"),
        _c("region", ID, False, "行政区划,所属区划,admdvs", extension=True),
    ),
    key="staff_id",
)

#: every table of the contract, in load order (claims first: items refer to it)
TABLES: dict[str, TableSpec] = {
    t.name: t for t in (CLAIMS, ITEMS, PERSONS, PROVIDERS, DOCTORS, STAFF)
}


def table_spec(name: str) -> TableSpec:
    """Return the spec of a contract table, or raise ``KeyError``."""
    return TABLES[name]
