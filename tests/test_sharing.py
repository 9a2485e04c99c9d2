"""What is shared is masked and neutralised; the audit log is append-only and shows tampering."""

from __future__ import annotations

import doctest
import sqlite3

import pytest

import graphfraud.redact
import graphfraud.workspace
from graphfraud.errors import InputError
from graphfraud.redact import Redactor, mask_id, mask_name, neutralize_cell
from graphfraud.workspace import Workspace


@pytest.mark.parametrize("module", [graphfraud.redact, graphfraud.workspace])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_masks_keep_no_more_than_head_and_tail():
    assert mask_id("331222197209277296") == "331222********7296"
    assert mask_id("3312000000015129") == "331200******5129"
    assert mask_id("") == "" and mask_id(None) == ""
    assert mask_name("余珍春") == "余**" and mask_name("司马光") == "司马*"
    for v in ("AB", "ABC1", "ABCDEFG"):
        assert mask_id(v) != v and len(mask_id(v)) == len(v)


def test_sealed_edition_shows_everything_and_unknown_modes_fail():
    r = Redactor("none")
    assert r.entity("person", "3312000000015129") == "3312000000015129"
    assert r.name("张三") == "张三"
    with pytest.raises(InputError, match="masked, none"):
        Redactor("partial")


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-12.5", "@SUM(A1)", "\t=x", "\r=x"])
def test_formula_cells_are_neutralised(cell):
    assert neutralize_cell(cell) == "'" + cell


def test_plain_cells_unchanged():
    for v in ("张三", "12.5", 12.5, None, ""):
        assert neutralize_cell(v) == v


def test_audit_log_refuses_changes_and_shows_tampering(tmp_path):
    ws = Workspace(tmp_path / "ws")
    for k in range(3):
        ws.audit("case.status", target=f"C-{k}", details={"status": "verifying"}, actor="wang")
    assert ws.verify_audit() == []
    con = sqlite3.connect(ws.db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit SET actor = 'x' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit WHERE seq = 2")
    # someone with the database file drops the trigger and edits an entry
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET details = '{\"status\": \"dismissed\"}' WHERE seq = 2")
    con.commit()
    con.close()
    assert ws.verify_audit() == ["audit entry 2: its content was changed"]
    assert [e["actor"] for e in ws.audit_log()] == ["wang"] * 3
    assert [e["seq"] for e in ws.audit_log("C-1")] == [2]


def test_workspace_that_is_a_file_is_an_error(tmp_path):
    f = tmp_path / "ws"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        Workspace(f)


def test_workspace_database_is_readable_by_its_owner_only(tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert ws.db_path.stat().st_mode & 0o077 == 0
    assert (tmp_path / "ws").stat().st_mode & 0o077 == 0
