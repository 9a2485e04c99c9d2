"""The investigator's workspace: an embedded database (SQLite) with the append-only audit log.

The workspace is a folder (``--workspace``, else ``$GRAPHFRAUD_WORKSPACE``, else
``./graphfraud-workspace``) holding ``register.sqlite``. The case register keeps its cases
there; every action that matters (a sealed packet, a case's status, an assignment) is written
to the audit log: who, when, what, on what. The log is append-only (triggers refuse updates
and deletes) and hash-chained: each entry's hash covers its content and the previous entry's
hash, so an entry changed or removed behind graphfraud's back shows in :meth:`verify_audit`.

Examples
--------
>>> import tempfile
>>> ws = Workspace(tempfile.mkdtemp())
>>> ws.audit("packet", target="R-3f9a1c2e", details={"redact": "none"}, actor="li.wei")["seq"]
1
>>> ws.verify_audit()
[]
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from graphfraud.errors import InputError

__all__ = ["Workspace", "default_workspace", "current_actor"]

_GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def default_workspace() -> Path:
    """``$GRAPHFRAUD_WORKSPACE``, else ``./graphfraud-workspace``."""
    return Path(os.environ.get("GRAPHFRAUD_WORKSPACE") or "graphfraud-workspace")


def current_actor() -> str:
    """Who acts: ``$GRAPHFRAUD_USER``, else the login name."""
    name = os.environ.get("GRAPHFRAUD_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


def _entry_hash(prev: str, seq: int, at: str, actor: str, action: str, target: str | None,
                details: str) -> str:
    body = json.dumps([prev, seq, at, actor, action, target, details], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class Workspace:
    """A workspace folder and its database; created on first use."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_workspace()
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"workspace {self.path} is a file; give a folder with --workspace")
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)  # personal data: owner only
        self.db_path = self.path / "register.sqlite"
        if not self.db_path.exists():
            self.db_path.touch(mode=0o600)
        con = sqlite3.connect(self.db_path, timeout=30)
        try:
            con.executescript(_SCHEMA)  # commits on its own
        finally:
            con.close()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (committed at the end, rolled back on error)."""
        con = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def audit(self, action: str, *, target: str | None = None, details: dict[str, Any] | None = None,
              actor: str | None = None, con: sqlite3.Connection | None = None) -> dict[str, Any]:
        """Append an entry to the audit log (inside ``con``'s transaction when given)."""
        if con is None:
            with self.connect() as c:
                return self.audit(action, target=target, details=details, actor=actor, con=c)
        last = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, _GENESIS)
        at = dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")
        who = actor or current_actor()
        text = json.dumps(details or {}, ensure_ascii=False, sort_keys=True)
        h = _entry_hash(prev, seq, at, who, action, target, text)
        con.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, at, who, action, target, text, prev, h))
        return {"seq": seq, "at": at, "actor": who, "action": action, "target": target,
                "details": details or {}, "hash": h}

    def audit_log(self, target: str | None = None) -> list[dict[str, Any]]:
        """The audit entries, oldest first (those on ``target`` only, when given)."""
        with self.connect() as con:
            rows = con.execute("SELECT * FROM audit WHERE ? IS NULL OR target = ? ORDER BY seq",
                               (target, target)).fetchall()
        return [{**dict(r), "details": json.loads(r["details"])} for r in rows]

    def verify_audit(self) -> list[str]:
        """Problems in the hash chain (empty when the log is intact)."""
        problems = []
        prev, expect = _GENESIS, 1
        with self.connect() as con:
            rows = con.execute("SELECT * FROM audit ORDER BY seq").fetchall()
        for r in rows:
            if r["seq"] != expect:
                problems.append(f"audit entry {expect} is missing (next is {r['seq']})")
            if r["prev_hash"] != prev:
                problems.append(f"audit entry {r['seq']}: does not follow entry {r['seq'] - 1}")
            h = _entry_hash(r["prev_hash"], r["seq"], r["at"], r["actor"], r["action"], r["target"],
                            r["details"])
            if h != r["hash"]:
                problems.append(f"audit entry {r['seq']}: its content was changed")
            prev, expect = r["hash"], r["seq"] + 1
        return problems
