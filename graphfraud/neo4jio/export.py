"""The bulk-import export: graphfraud's graph as CSV files for ``neo4j-admin database import``.

:func:`export_graph` writes one folder:

* ``nodes_<Label>.csv``, one per label (``nodes_Person.csv``, ..., ``nodes_Ring.csv``);
* ``rels_<TYPE>.csv``, one per relationship type; ``MEMBER_OF`` starts at several labels, so it
  is split by start label (``rels_MEMBER_OF_Person.csv``, ...), each file with its own
  ``:START_ID(<Label>)`` ID space;
* ``README.md``: what the folder holds, the model, the exact Neo4j 5 import command, the
  uniqueness constraints to create afterwards and the counts (Chinese headings, both languages);
* ``manifest.json``: every file with its SHA-256 and rows, the counts, scope, redaction, the
  analysis's input hashes and the graphfraud version.

The CSV dialect (the same for every file, and in the manifest under ``csv``):

* UTF-8 without a byte-order mark, ``\\n`` line ends, a header line first;
* ``,`` between fields, ``;`` between array elements (Neo4j's defaults). Both are ASCII, so they
  never occur inside the bytes of a Chinese character; Chinese text uses the full-width ``，``
  and ``；``, which are ordinary characters here;
* text is always quoted with ``"``, an inner ``"`` doubled (RFC 4180; never backslash escapes);
  numbers and booleans are bare; an empty field is a missing property (``""`` is an empty text);
* an array is one quoted field, its elements joined by ``;``. An element cannot escape the
  array delimiter, so an ASCII ``;`` inside an element is written as the full-width ``；``
  (counted in the manifest as ``array_delimiter_replaced``). Empty arrays are not stored:
  Neo4j's CSV import cannot tell them from a missing property;
* values may hold line breaks (names, summaries); then the manifest says ``multiline_fields``
  and the import command carries ``--multiline-fields=true``.

Nothing is neutralised: these files are for a database, not a spreadsheet, so a cell starting
with ``=`` stays as it is (do not open them in Excel).

Examples
--------
>>> res = export_graph("analysis", "neo4j-export")          # doctest: +SKIP
>>> res.counts["Ring"], [f.name for f in res.files][:2]     # doctest: +SKIP
(10, ['nodes_Person.csv', 'nodes_Card.csv'])
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

import graphfraud
from graphfraud.errors import GraphFraudError
from graphfraud.neo4jgraph import LABELS, GraphExport, NodeSet, RelSet, build_graph
from graphfraud.outdir import atomic_folder
from graphfraud.redact import Redactor
from graphfraud.results import Analysis, open_analysis

__all__ = ["DELIMITER", "ARRAY_DELIMITER", "ExportFile", "ExportResult", "export_graph",
           "neo4j5_import_args", "constraint_statements"]

DELIMITER = ","
ARRAY_DELIMITER = ";"
QUOTE = '"'
#: what an ASCII ``;`` inside an array element becomes (the full-width semicolon)
ARRAY_DELIMITER_STAND_IN = "\uff1b"
FORMAT = "graphfraud-neo4j-bulk-import"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ExportFile:
    """One CSV file of the export.

    ``kind`` is ``nodes`` or ``relationships``; ``label`` the node label or the relationship
    type; ``start_label``/``end_label`` the ID spaces of a relationship file's ends.
    """

    name: str
    kind: str
    label: str
    rows: int
    sha256: str
    header: tuple[str, ...]
    start_label: str | None = None
    end_label: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "nodes":
            out["label"] = self.label
        else:
            out.update(type=self.label, start_label=self.start_label, end_label=self.end_label)
        out.update(rows=self.rows, sha256=self.sha256, header=list(self.header))
        return out


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_graph` wrote: the folder, its CSV files (in import order) and the
    rows per label and relationship type."""

    folder: Path
    files: tuple[ExportFile, ...]
    counts: dict[str, int]
    scope: str
    redact: str
    multiline_fields: bool
    array_delimiter_replaced: int = 0

    def import_args(self, database: str = "neo4j") -> list[str]:
        """The Neo4j 5 ``neo4j-admin`` arguments importing this folder (run inside it)."""
        return neo4j5_import_args(self.files, multiline_fields=self.multiline_fields,
                                  database=database)


# --- properties: Neo4j types and how values are written ---------------------------------------

def _neo4j_type(t: pa.DataType, where: str) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "long"
    if pa.types.is_floating(t):
        return "double"  # not float: Neo4j 3.x stores float as 32 bits
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _neo4j_type(t.value_type, where) + "[]"
    raise GraphFraudError(f"{where}: no Neo4j import type for {t}; this is a bug in "
                          f"graphfraud.neo4jgraph (report it)")


def _quote(s: str) -> str:
    return QUOTE + s.replace(QUOTE, QUOTE + QUOTE) + QUOTE


def _number(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    return str(int(v))


class _Writer:
    """Formats values of one export, counting what the formatting had to change."""

    def __init__(self) -> None:
        self.multiline = False
        self.replaced = 0

    def text(self, v: Any) -> str:
        if v is None:
            return ""
        s = str(v)
        if "\n" in s or "\r" in s:
            self.multiline = True
        return _quote(s)

    def element(self, v: Any) -> str:
        s = "" if v is None else str(v)
        if ARRAY_DELIMITER in s:
            self.replaced += 1
            s = s.replace(ARRAY_DELIMITER, ARRAY_DELIMITER_STAND_IN)
        return s

    def formatter(self, neo_type: str) -> Callable[[Any], str]:
        if neo_type == "string":
            return self.text
        if neo_type == "boolean":
            return lambda v: "" if v is None else ("true" if v else "false")
        if neo_type in ("long", "double"):
            return lambda v: "" if v is None else _number(v)
        if neo_type == "string[]":
            return lambda v: self.text(ARRAY_DELIMITER.join(self.element(x) for x in v)) if v else ""
        if neo_type in ("long[]", "double[]", "boolean[]"):
            inner = self.formatter(neo_type[:-2])
            return lambda v: ARRAY_DELIMITER.join(inner(x) for x in v) if v else ""
        raise AssertionError(neo_type)


def _columns(table: pa.Table, skip: Sequence[str], where: str) -> list[tuple[str, str]]:
    """(property, Neo4j type) of the table's property columns, in table order."""
    return [(f.name, _neo4j_type(f.type, f"{where}.{f.name}")) for f in table.schema
            if f.name not in skip]


def _write_csv(path: Path, header: Sequence[str], columns: Sequence[Iterable[str]]) -> str:
    """Write header and rows (columns of already formatted fields); return the SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        def put(line: str) -> None:
            data = line.encode("utf-8")
            digest.update(data)
            fh.write(data)

        put(DELIMITER.join(header) + "\n")
        chunk: list[str] = []
        for row in zip(*columns):
            chunk.append(DELIMITER.join(row))
            if len(chunk) >= 4096:
                put("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            put("\n".join(chunk) + "\n")
    return digest.hexdigest()


def _node_file(folder: Path, ns: NodeSet, w: _Writer) -> ExportFile:
    props = _columns(ns.table, ("id",), ns.label)
    header = [f"id:ID({ns.label})"] + [f"{p}:{t}" for p, t in props] + [":LABEL"]
    n = ns.table.num_rows
    cols: list[Iterable[str]] = [map(w.text, ns.table.column("id").to_pylist())]
    cols += [map(w.formatter(t), ns.table.column(p).to_pylist()) for p, t in props]
    cols.append([ns.label] * n)
    name = f"nodes_{ns.label}.csv"
    sha = _write_csv(folder / name, header, cols)
    return ExportFile(name, "nodes", ns.label, n, sha, tuple(header))


def _rel_file(folder: Path, name: str, rs: RelSet, table: pa.Table, start_label: str,
              w: _Writer) -> ExportFile:
    props = _columns(table, ("start", "end", "start_label"), rs.type)
    header = ([f":START_ID({start_label})", f":END_ID({rs.end_label})", ":TYPE"]
              + [f"{p}:{t}" for p, t in props])
    n = table.num_rows
    cols: list[Iterable[str]] = [map(w.text, table.column("start").to_pylist()),
                                 map(w.text, table.column("end").to_pylist()), [rs.type] * n]
    cols += [map(w.formatter(t), table.column(p).to_pylist()) for p, t in props]
    sha = _write_csv(folder / name, header, cols)
    return ExportFile(name, "relationships", rs.type, n, sha, tuple(header), start_label,
                      rs.end_label)


def _split_by_start(rs: RelSet) -> list[tuple[str, pa.Table]]:
    """A relationship set as (start label, rows) parts: MEMBER_OF by its ``start_label``."""
    if rs.start_label is not None:
        return [(rs.start_label, rs.table)]
    labels = rs.table.column("start_label").to_pylist()
    parts = []
    for label in [x for x in LABELS if x in set(labels)]:
        keep = pa.array([x == label for x in labels], pa.bool_())
        parts.append((label, rs.table.filter(keep)))
    return parts


def _check_integrity(graph: GraphExport) -> None:
    """Refuse to write an export the importer would reject: a missing or repeated node key, or
    a relationship whose end is not a node."""
    keys: dict[str, set[Any]] = {}
    for ns in graph.nodes:
        ids = ns.table.column("id").to_pylist()
        seen = set(ids)
        if None in seen or len(seen) != len(ids):
            raise GraphFraudError(f"the {ns.label} nodes have a missing or repeated key; this is a "
                                  f"bug in graphfraud.neo4jgraph (report it)")
        keys[ns.label] = seen
    for rs in graph.rels:
        for start_label, table in _split_by_start(rs):
            for label, col in ((start_label, "start"), (rs.end_label, "end")):
                missing = set(table.column(col).to_pylist()) - keys.get(label, set())
                if missing:
                    raise GraphFraudError(
                        f"{len(missing)} {rs.type} relationship(s) point to {label} nodes that "
                        f"are not in the export; this is a bug in graphfraud.neo4jgraph "
                        f"(report it)")


# --- the import command and the constraints ----------------------------------------------------

def neo4j5_import_args(files: Sequence[ExportFile], *, multiline_fields: bool,
                       database: str = "neo4j") -> list[str]:
    """``neo4j-admin`` arguments (without the program) importing ``files`` into Neo4j 5.

    The database name comes right after ``full``: from Neo4j 5.19 on, a name after
    ``--nodes``/``--relationships`` is taken for one more file.
    """
    args = ["database", "import", "full", database, f"--delimiter={DELIMITER}",
            f"--array-delimiter={ARRAY_DELIMITER}"]
    if multiline_fields:
        args.append("--multiline-fields=true")
    for f in files:
        opt = "--nodes" if f.kind == "nodes" else "--relationships"
        args.append(f"{opt}={f.label}={f.name}")
    return args


def _shell(args: Sequence[str]) -> str:
    """The command for a POSIX shell, one option a line; only ``;`` and ``,`` need quoting."""
    def q(a: str) -> str:
        if "=" in a and a.split("=", 1)[1] in (DELIMITER, ARRAY_DELIMITER):
            k, v = a.split("=", 1)
            return f'{k}="{v}"'
        return a

    head = "neo4j-admin " + " ".join(q(a) for a in args[:4])
    return " \\\n  ".join([head] + [q(a) for a in args[4:]])


def constraint_statements(labels: Iterable[str] = tuple(LABELS)) -> list[str]:
    """Neo4j 5 Cypher creating the uniqueness constraint on ``id`` of every label."""
    return [f"CREATE CONSTRAINT graphfraud_{lab.lower()}_id IF NOT EXISTS "
            f"FOR (n:{lab}) REQUIRE n.id IS UNIQUE;" for lab in labels]


# --- README -------------------------------------------------------------------------------------

_LABEL_TEXT = {
    "Person": ("参保人", "insured person"), "Card": ("医保卡", "insurance card"),
    "Provider": ("医药机构", "provider: hospital, clinic, pharmacy"), "Doctor": ("医师", "doctor"),
    "Staff": ("医保经办人员", "insurance-agency staff member"), "Ring": ("疑似团伙", "suspected ring"),
}
_TYPE_TEXT = {
    "USES_CARD": ("持卡结算", "claims settled with the card"),
    "VISITED": ("就医", "claims at the provider"),
    "WORKS_AT": ("执业于", "the doctor's practice (doctors table)"),
    "PRESCRIBED_AT": ("处方流向该药店", "the doctor's prescriptions filled at the pharmacy"),
    "APPROVED": ("审核结算", "claims the staff member approved"),
    "MEMBER_OF": ("团伙成员", "ring member, with role"),
}
_PROP_TEXT = {
    "id": ("键（唯一）", "key (unique per label)"),
    "Person.id": ("键；脱敏版为假名 P-…", "key; a pseudonym P-… in the masked edition"),
    "Card.id": ("键；脱敏版为假名 K-…", "key; a pseudonym K-… in the masked edition"),
    "shown_id": ("显示用编号（脱敏版打码）", "id as shown (masked in the masked edition)"),
    "name": ("姓名（脱敏版打码）", "name (masked in the masked edition)"),
    "Provider.name": ("机构名称（机构不打码）", "name (institutions are not masked)"),
    "gender": ("性别", "gender"), "birth_year": ("出生年份", "year of birth"),
    "death_date": ("死亡日期", "date of death"), "score": ("风险分", "risk score"),
    "type": ("机构类型", "provider type"), "level": ("医院等级", "hospital level"),
    "ownership": ("所有制", "ownership"), "region": ("行政区划", "region code"),
    "dual_channel": ("双通道药店", "dual-channel pharmacy"), "department": ("科室", "department"),
    "office": ("经办机构", "office"), "rank": ("排名（1 最高）", "rank (1 = riskiest)"),
    "Ring.score": ("团伙风险分（0–1，已校准）", "ring score (0..1, calibrated)"),
    "score_raw": ("原始分", "raw score"), "patterns": ("作案模式", "fraud patterns"),
    "fund_paid": ("统筹基金支付（元，已扣冲销）", "fund paid, yuan, net of reversals"),
    "claims": ("结算笔数", "claims"), "period_start": ("起始日期", "first day"),
    "period_end": ("结束日期", "last day"),
    "evidence_groups": ("证据组编号", "evidence group ids"),
    "evidence_summaries": ("证据摘要（与证据组一一对应）", "evidence summaries (one per group)"),
    "evidence_claim_ids": ("证据结算单号", "claim ids of the evidence"),
    "days": ("就诊天数", "days with claims"), "first": ("首次日期", "first day"),
    "last": ("末次日期", "last day"), "role": ("角色", "role"),
    "critical": ("关键成员", "critical member"), "reason": ("认定理由", "why a member"),
}


def _props(f: ExportFile) -> list[tuple[str, str]]:
    """(property, Neo4j type) of a file, from its header (the key ``id`` is a string)."""
    out = []
    for h in f.header:
        name, _, typ = h.partition(":")
        if name:
            out.append((name, "string" if typ.startswith("ID(") else typ))
    return out


def _readme(res: ExportResult, version: str) -> str:
    from graphfraud.rings import ROLE_TEXT

    nodes = [f for f in res.files if f.kind == "nodes"]
    rels = [f for f in res.files if f.kind == "relationships"]
    masked = Redactor(res.redact).masked
    L: list[str] = []
    add = L.append
    add("# graphfraud → Neo4j 批量导入文件 / bulk-import files\n")
    add(f"graphfraud {version} 导出的团伙分析图，供 `neo4j-admin database import full` 离线导入"
        f"（Neo4j 5）。范围 scope = `{res.scope}`"
        f"（{'全部结算关系图' if res.scope == 'all' else '仅团伙成员及其之间的关系'}），"
        f"脱敏 redact = `{res.redact}`。\n")
    add(f"The graph of a graphfraud {version} analysis, for the offline importer of Neo4j 5. "
        f"Scope `{res.scope}` ({'the whole claims graph' if res.scope == 'all' else 'ring members and the relationships among them'}); "
        f"redaction `{res.redact}`.\n")
    if masked:
        add("**脱敏版 / masked edition**：参保人和医保卡的键 `id` 是假名（`P-`/`K-` 加 16 位十六进制，"
            "同一分析内稳定、不可逆），`shown_id` 是打码编号，自然人姓名打码，证据摘要中的编号打码；"
            "无身份证号和住址。Person and card keys are pseudonyms, `shown_id` is masked, names "
            "of natural persons are masked; no id numbers or addresses.\n")
    else:
        add("**未脱敏版 / sealed edition（`--redact none`）**：含真实个人编号与姓名，属个人敏感信息，"
            "仅限依法移交使用并妥善保管。Holds real personal ids and names: sensitive personal "
            "information, for lawful referral only.\n")
    add("## 文件 / Files\n")
    add("| 文件 file | 标签或类型 label or type | 行数 rows |\n|---|---|---:|")
    for f in res.files:
        what = f.label if f.kind == "nodes" else f"({f.start_label})-[:{f.label}]->({f.end_label})"
        add(f"| `{f.name}` | {what} | {f.rows} |")
    add("| `manifest.json` | 文件清单、SHA-256、来源 / files, SHA-256, provenance | |\n")
    add("## 模型 / Model\n")
    add("节点的键是 `id`，每个标签一个 ID 空间 / Node key `id`, one ID space per label.\n")
    add("| 节点 node | 含义 meaning | 属性 properties |\n|---|---|---|")
    glossary: dict[str, tuple[str, str]] = {}
    for f in nodes:
        zh, en = _LABEL_TEXT.get(f.label, ("", ""))
        add(f"| `:{f.label}` | {zh} / {en} | "
            + ", ".join(f"`{p}` {t}" for p, t in _props(f)) + " |")
        for p, _t in _props(f):
            key = f"{f.label}.{p}" if f"{f.label}.{p}" in _PROP_TEXT else p
            glossary.setdefault(key, _PROP_TEXT.get(key, ("", "")))
    add("\n| 关系 relationship | 含义 meaning | 属性 properties |\n|---|---|---|")
    done: set[str] = set()
    for f in rels:
        if f.label in done:
            continue
        done.add(f.label)
        starts = "\\|".join(g.start_label or "" for g in rels if g.label == f.label)
        zh, en = _TYPE_TEXT.get(f.label, ("", ""))
        add(f"| `(:{starts})-[:{f.label}]->(:{f.end_label})` | {zh} / {en} | "
            + (", ".join(f"`{p}` {t}" for p, t in _props(f)) or "—") + " |")
        for p, _t in _props(f):
            glossary.setdefault(p, _PROP_TEXT.get(p, ("", "")))
    add("\n| 属性 property | 说明 | meaning |\n|---|---|---|")
    for key, (zh, en) in glossary.items():
        add(f"| `{key}` | {zh} | {en} |")
    roles = "、".join(f"`{k}` {v[0]}" for k, v in ROLE_TEXT.items())
    add(f"\n`MEMBER_OF.role`：{roles}。日期是 ISO 字符串（`YYYY-MM-DD`），可用 Cypher `date(x)` 转换；"
        f"Dates are ISO strings; convert with `date(x)`.\n")
    add("## CSV 格式 / CSV format\n")
    add("- UTF-8（无 BOM / no BOM），换行 `\\n`，首行为表头 / header line first。")
    add(f"- 字段分隔符 field delimiter `{DELIMITER}`，数组分隔符 array delimiter `{ARRAY_DELIMITER}`"
        f"（Neo4j 默认值 / Neo4j's defaults）。二者均为 ASCII，不会出现在中文字符的 UTF-8 字节中；"
        f"中文全角标点 `，` `；` 是普通字符 / both ASCII, never inside the bytes of a Chinese "
        f"character; full-width `，` `；` are ordinary text.")
    add("- 文本一律用 `\"` 括起，内部的 `\"` 写成 `\"\"`（RFC 4180，不用反斜杠转义）；数字和布尔值不加引号；"
        "空字段表示无此属性 / text always quoted, inner quotes doubled, no backslash escapes; "
        "an empty field is a missing property.")
    add(f"- 数组元素中的 ASCII `;` 写成全角 `；`（本次 {res.array_delimiter_replaced} 处）；空数组不导入"
        f" / an ASCII `;` inside an array element is written as `；` ({res.array_delimiter_replaced} "
        f"here); empty arrays are not imported.")
    add(f"- {'有' if res.multiline_fields else '没有'}值含换行，"
        f"{'因此命令带 `--multiline-fields=true`' if res.multiline_fields else '命令无需 `--multiline-fields`'}"
        f" / values {'do' if res.multiline_fields else 'do not'} hold line breaks.")
    add("- 未做电子表格公式中和：这些文件供数据库导入，请勿用 Excel 打开编辑 / nothing is neutralised "
        "for spreadsheets: these files are for the database, not for Excel.\n")
    add("## 导入 Neo4j 5 / Import into Neo4j 5\n")
    add("先停止目标数据库（或使用新的数据库名），在本文件夹中运行 / Stop the target database (or name a new "
        "one), then run in this folder:\n")
    add("```bash\n" + _shell(res.import_args()) + "\n```\n")
    add("- 目标数据库必须不存在或为空；要替换已有数据库，加 `--overwrite-destination=true`"
        " / the database must not exist or be empty; add `--overwrite-destination=true` to replace one.")
    add("- 数据库名紧跟在 `full` 之后（Neo4j 5.19 起写在文件列表之后会被当作文件）"
        " / the database name comes right after `full` (from 5.19 on, a name after the file "
        "lists is read as one more file).")
    add("- 导入名称不是默认数据库时，启动后执行 `CREATE DATABASE <name>`（企业版）"
        " / for another database name, run `CREATE DATABASE <name>` afterwards (Enterprise).")
    add("- 数据量大时先设置导入工具的堆内存，例如 `export HEAP_SIZE=2G`"
        " / for large exports set the importer's heap first, e.g. `export HEAP_SIZE=2G`.")
    add("- 不要设置 `--legacy-style-quoting=true`：值中的反斜杠是普通字符"
        " / keep `--legacy-style-quoting=false` (the default): a backslash in a value is text.\n")
    add("## 唯一约束 / Uniqueness constraints\n")
    add("导入后启动数据库，在 Neo4j Browser 或 cypher-shell 中执行 / After the import, start the "
        "database and run:\n")
    add("```cypher\n" + "\n".join(constraint_statements(f.label for f in nodes)) + "\n```\n")
    add("## 数量 / Counts\n")
    add("导入后核对 / check after the import: `MATCH (n) RETURN labels(n)[0] AS label, count(*)` "
        "与 / and `MATCH ()-[r]->() RETURN type(r), count(*)`.\n")
    add("| 标签或类型 label or type | 数量 count |\n|---|---:|")
    for k, v in res.counts.items():
        add(f"| `{k}` | {v} |")
    return "\n".join(L) + "\n"


# --- the export ---------------------------------------------------------------------------------

def export_graph(analysis: str | Path | Analysis, out: str | Path, *, scope: str = "all",
                 redact: str = "masked", force: bool = False) -> ExportResult:
    """Write the bulk-import export of an analysis folder (see the module docstring).

    Parameters
    ----------
    analysis : str, Path or Analysis
        The analysis folder (``graphfraud analyze``), or one already opened.
    out : str or Path
        The folder to write; written atomically, replaced only with ``force``.
    scope : {"all", "rings"}
        The whole claims graph, or the rings' members and the relationships among them.
    redact : {"masked", "none"}
        Masked (default) or the sealed edition with real ids; the caller records a sealed
        export in the audit log.
    force : bool
        Replace an existing ``out``.

    Returns
    -------
    ExportResult
        The folder, its CSV files in import order, and the rows per label and type.

    Raises
    ------
    InputError
        Not an analysis folder, a bad option, or ``out`` exists without ``force``.
    """
    a = analysis if isinstance(analysis, Analysis) else open_analysis(analysis)
    Redactor(redact)  # checks the mode with the CLI's wording
    graph = build_graph(a, scope=scope, redact=redact)
    _check_integrity(graph)
    out = Path(out)
    version = graphfraud.__version__
    w = _Writer()
    with atomic_folder(out, force=force) as work:
        files = [_node_file(work, ns, w) for ns in graph.nodes]
        for rs in graph.rels:
            parts = _split_by_start(rs)
            for start_label, table in parts:
                name = (f"rels_{rs.type}.csv" if rs.start_label is not None
                        else f"rels_{rs.type}_{start_label}.csv")
                files.append(_rel_file(work, name, rs, table, start_label, w))
        res = ExportResult(folder=out, files=tuple(files), counts=graph.counts(), scope=scope,
                           redact=redact, multiline_fields=w.multiline,
                           array_delimiter_replaced=w.replaced)
        readme = _readme(res, version)
        (work / "README.md").write_bytes(readme.encode("utf-8"))
        manifest = _manifest(res, a, version, hashlib.sha256(readme.encode("utf-8")).hexdigest())
        (work / "manifest.json").write_bytes(
            (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return res


def _manifest(res: ExportResult, a: Analysis, version: str, readme_sha: str) -> dict[str, Any]:
    rings_json = a.path / "rings.json"
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "graphfraud_version": version,
        "scope": res.scope, "redact": res.redact,
        "analysis": {
            "graphfraud_version": a.manifest.get("graphfraud_version"),
            "inputs": dict(sorted(a.input_hashes.items())),
            "rings_sha256": hashlib.sha256(rings_json.read_bytes()).hexdigest(),
            "rings": len(a.rings),
        },
        "csv": {"encoding": "UTF-8", "bom": False, "line_end": "\n", "delimiter": DELIMITER,
                "array_delimiter": ARRAY_DELIMITER, "quote": QUOTE,
                "array_delimiter_stand_in": ARRAY_DELIMITER_STAND_IN,
                "array_delimiter_replaced": res.array_delimiter_replaced,
                "multiline_fields": res.multiline_fields, "neutralised": False},
        "counts": res.counts,
        "files": [f.as_dict() for f in res.files],
        "readme": {"name": "README.md", "sha256": readme_sha},
        "neo4j5": {"import": ["neo4j-admin", *res.import_args()],
                   "constraints": constraint_statements(f.label for f in res.files
                                                        if f.kind == "nodes")},
    }
