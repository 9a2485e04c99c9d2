"""The case register: each ring becomes a case, checked and closed (线索发现 → 疑点核查 → 结果处理).

A case follows one ring across analyses. It has a status (:data:`STATUS_TEXT`), an assignee,
notes, and a history of the ring it followed in each analysis synced. The register lives in
the workspace's database (:class:`graphfraud.workspace.Workspace`); every change goes through
one function that writes the change and its audit entry in the same transaction, so the
register and its hash-chained audit log never disagree, and :func:`verify` finds an edit made
behind graphfraud's back in either.

Matching a refreshed analysis to the register (:func:`sync`)
-------------------------------------------------------------
Ring ids are hashes of the member set, so a ring whose members change a little gets a new id.
A case is matched to a ring by the overlap of their member keys (``kind:id`` over persons,
cards, providers, doctors and staff), using the overlap coefficient
``|A ∩ B| / min(|A|, |B|)``. Refreshed data mostly *adds* months, and a ring found on more
months gains members: on a synthetic test (2 months, then 3) the Jaccard index of a ring of 9
that grew to 16 was 0.47, its overlap coefficient 0.89, while unrelated rings scored 0.11 at
most. The overlap coefficient does not punish growth or shrinkage; its weakness, a small set
inside a big one, is held in check by two rules: at least two shared members are needed (one
shared hospital or doctor never carries a match), and candidate pairs are assigned one to one,
greedily, best first by (overlap coefficient, Jaccard, shared members), so when two rings
merge the closer case takes the merged ring and the other is reported with the ring its
members went to. Ties go to the older case and the higher-ranked ring.

Examples
--------
>>> import tempfile
>>> from graphfraud.workspace import Workspace
>>> ws = Workspace(tempfile.mkdtemp())
>>> list_cases(ws)
[]
>>> match_rings({"C-1": ["person:a", "person:b", "provider:h"]},
...             [{"ring_id": "R-1", "members": [{"kind": "person", "id": "a"},
...                                             {"kind": "person", "id": "b"},
...                                             {"kind": "person", "id": "c"}]}])
[{'case_id': 'C-1', 'ring_id': 'R-1', 'overlap': 0.6667, 'jaccard': 0.5, 'shared': 2}]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from graphfraud.errors import InputError, check_argument
from graphfraud.i18n import check_lang, pattern_text
from graphfraud.results import Analysis, open_analysis
from graphfraud.workspace import Workspace, current_actor

__all__ = ["STATUS_TEXT", "TRANSITIONS", "EVENT_TEXT", "parse_status", "status_text",
           "member_keys", "match_rings", "open_case", "assign", "set_status", "add_note", "sync",
           "list_cases", "get_case", "verify", "event_text"]

#: status -> (Chinese, English)
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "new": ("新线索", "new lead"),
    "verifying": ("核查中", "verifying"),
    "confirmed": ("已查实", "confirmed"),
    "dismissed": ("已排除", "dismissed"),
    "referred": ("已移送", "referred"),
}

#: status -> the statuses it may go to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("verifying",),
    "verifying": ("confirmed", "dismissed"),
    "confirmed": ("referred",),
    "dismissed": ("verifying",),  # reopened, with a note saying why
    "referred": (),
}

#: moving *to* these statuses needs a note; so does reopening a dismissed case
_NOTE_REQUIRED = {"confirmed", "dismissed", "referred"}

#: what :func:`sync` reports for a ring or a case -> (Chinese, English)
EVENT_TEXT: dict[str, tuple[str, str]] = {
    "opened": ("新立案件", "case opened"),
    "unmatched": ("未立案的团伙", "ring without a case"),
    "unchanged": ("无变化", "unchanged"),
    "updated": ("评分或金额有变化", "score or amounts changed"),
    "followed": ("团伙成员有变化，案件已跟随", "members changed; the case follows the ring"),
    "returned": ("团伙重新出现", "the ring is back"),
    "grown": ("已查实/已移送案件的团伙出现新成员", "new members in a confirmed or referred ring"),
    "still_dismissed": ("已排除，仍保持排除", "still dismissed"),
    "vanished": ("本次分析中未发现该团伙", "the ring is not in this analysis"),
}

_KINDS = ("person", "card", "provider", "doctor", "staff")
_KIND_TEXT = {"person": ("人员", "person", "persons"), "card": ("卡", "card", "cards"),
              "provider": ("机构", "provider", "providers"),
              "doctor": ("医师", "doctor", "doctors"), "staff": ("经办人", "staff", "staff")}
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS cases (
        case_id TEXT PRIMARY KEY,
        opened_seq INTEGER NOT NULL UNIQUE,
        ring_id TEXT NOT NULL,
        ring_present INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('new', 'verifying', 'confirmed', 'dismissed', 'referred')),
        assignee TEXT,
        title TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        score REAL NOT NULL,
        fund_paid REAL NOT NULL,
        claims INTEGER NOT NULL,
        patterns TEXT NOT NULL,
        analysis TEXT NOT NULL,
        analysis_key TEXT NOT NULL,
        members TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS cases_ring ON cases (ring_id)",
    """CREATE TABLE IF NOT EXISTS case_notes (
        note_id INTEGER PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases (case_id),
        audit_seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        text TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS case_rings (
        entry INTEGER PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases (case_id),
        audit_seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        event TEXT NOT NULL,
        analysis TEXT NOT NULL,
        analysis_key TEXT NOT NULL,
        ring_id TEXT,
        overlap REAL,
        added INTEGER NOT NULL,
        removed INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS case_notes_case ON case_notes (case_id)",
    "CREATE INDEX IF NOT EXISTS case_rings_case ON case_rings (case_id)",
) + tuple(
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
    for t in ("case_notes", "case_rings") for op in ("UPDATE", "DELETE"))

_CASE_COLUMNS = ("ring_id", "ring_present", "status", "assignee", "title", "score", "fund_paid",
                 "claims", "patterns", "analysis", "analysis_key", "members")


# --------------------------------------------------------------------------- statuses, keys

def parse_status(text: str) -> str:
    """A status from its English or Chinese name (``dismissed`` or ``已排除``)."""
    value = str(text).strip()
    for status, (zh, en) in STATUS_TEXT.items():
        if value.lower() in (status, en) or value == zh:
            return status
    raise InputError(f"unknown status {text!r}; use one of: " + ", ".join(
        f"{s} ({zh})" for s, (zh, _) in STATUS_TEXT.items()))


def status_text(status: str, lang: str = "zh") -> str:
    """The display name of a status."""
    zh, en = STATUS_TEXT[status]
    return zh if lang == "zh" else en


def member_keys(ring: Mapping[str, Any]) -> list[str]:
    """The ring's member keys ``kind:id`` (persons, cards, providers, doctors, staff), sorted."""
    return sorted({f"{m['kind']}:{m['id']}" for m in ring.get("members", [])
                   if m.get("kind") in _KINDS and m.get("id") not in (None, "")})


def _split_key(key: str) -> dict[str, str]:
    kind, _, ident = key.partition(":")
    return {"kind": kind, "id": ident}


def match_rings(cases: Mapping[str, Collection[str]], rings: Sequence[Mapping[str, Any]], *,
                min_overlap: float = 0.5, min_shared: int = 2) -> list[dict[str, Any]]:
    """Match cases to rings one to one by member overlap.

    Parameters
    ----------
    cases
        Case id -> member keys (``kind:id``), oldest case first (ties go to it).
    rings
        Ring dicts as in ``rings.json``, riskiest first (ties go to the higher-ranked ring).
    min_overlap
        Smallest overlap coefficient ``|A ∩ B| / min(|A|, |B|)`` that counts as the same ring.
    min_shared
        Fewest shared members (fewer when a set is smaller than that).

    Returns
    -------
    list of dict
        ``case_id, ring_id, overlap, jaccard, shared`` per matched pair, best match first.
    """
    check_argument(0 < min_overlap <= 1, f"min_overlap must be in (0, 1], not {min_overlap}")
    ring_keys = [set(member_keys(r)) for r in rings]
    index: dict[str, list[int]] = defaultdict(list)
    for j, keys in enumerate(ring_keys):
        for k in keys:
            index[k].append(j)
    candidates = []
    for order, (case_id, case_members) in enumerate(cases.items()):
        mine = set(case_members)
        shared = Counter(j for k in mine for j in index.get(k, ()))
        for j, n in shared.items():
            small = min(len(mine), len(ring_keys[j]))
            overlap = n / small
            if n >= min(min_shared, small) and overlap >= min_overlap:
                jaccard = n / (len(mine) + len(ring_keys[j]) - n)
                candidates.append((-overlap, -jaccard, -n, order, j, case_id))
    candidates.sort()
    taken_cases: set[str] = set()
    taken_rings: set[int] = set()
    out = []
    for neg_o, neg_j, neg_n, _, j, case_id in candidates:
        if case_id in taken_cases or j in taken_rings:
            continue
        taken_cases.add(case_id)
        taken_rings.add(j)
        out.append({"case_id": case_id, "ring_id": rings[j]["ring_id"], "overlap": round(-neg_o, 4),
                    "jaccard": round(-neg_j, 4), "shared": -neg_n})
    return out


def _related(keys: Iterable[str], others: Mapping[str, Collection[str]], *, min_shared: int,
             top: int = 3) -> list[tuple[str, int]]:
    """Up to ``top`` of ``others`` sharing at least ``min_shared`` keys with ``keys``."""
    mine = set(keys)
    hits = [(len(mine & set(v)), k) for k, v in others.items()]
    hits = sorted((h for h in hits if h[0] >= min_shared), key=lambda h: (-h[0], h[1]))
    return [(k, n) for n, k in hits[:top]]


# --------------------------------------------------------------------------- storage

def _workspace(ws: Workspace | str | Path) -> Workspace:
    return ws if isinstance(ws, Workspace) else Workspace(ws)


def _ensure_schema(con: sqlite3.Connection) -> None:
    for statement in _SCHEMA:
        con.execute(statement)


def _case_row(con: sqlite3.Connection, case_id: str) -> dict[str, Any]:
    row = con.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
    if row is None:
        raise InputError(f"no case {case_id!r} in the register (list them with: graphfraud case "
                         "list)")
    return dict(row)


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    """A case row as the API returns it (JSON columns decoded)."""
    out = dict(row)
    out["ring_present"] = bool(out["ring_present"])
    out["patterns"] = json.loads(out["patterns"])
    out["members"] = [_split_key(k) for k in json.loads(out["members"])]
    return out


def _record(ws: Workspace, con: sqlite3.Connection, action: str, case_id: str, *, actor: str,
            details: dict[str, Any], insert: dict[str, Any] | None = None,
            update: dict[str, Any] | None = None, note: str | None = None,
            history: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one way the register changes: the audit entry, then the change, in ``con``'s
    transaction (so both are written or neither)."""
    entry = ws.audit(action, target=case_id, details=details, actor=actor, con=con)
    at = entry["at"]
    if insert is not None:
        row = {**insert, "case_id": case_id, "opened_seq": entry["seq"], "created_at": at,
               "updated_at": at}
        con.execute(f"INSERT INTO cases ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()))
    if update is not None:
        assert set(update) <= set(_CASE_COLUMNS), update
        sets = {**update, "updated_at": at}
        con.execute(f"UPDATE cases SET {', '.join(f'{k} = ?' for k in sets)} WHERE case_id = ?",
                    (*sets.values(), case_id))
    if note is not None:
        con.execute("INSERT INTO case_notes (case_id, audit_seq, at, actor, action, text) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (case_id, entry["seq"], at, actor, action, note))
    if history is not None:
        con.execute("INSERT INTO case_rings (case_id, audit_seq, at, event, analysis, "
                    "analysis_key, ring_id, overlap, added, removed) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (case_id, entry["seq"], at, history["event"], history["analysis"],
                     history["analysis_key"], history.get("ring_id"), history.get("overlap"),
                     history.get("added", 0), history.get("removed", 0)))
    return entry


def _next_case_id(con: sqlite3.Connection) -> str:
    """``C-YYYYMMDD-NNN``: today's date and the day's sequence (in the write transaction)."""
    day = dt.datetime.now(dt.timezone.utc).astimezone().strftime("%Y%m%d")
    rows = con.execute("SELECT case_id FROM cases WHERE case_id LIKE ?", (f"C-{day}-%",))
    seq = max((int(r[0].rsplit("-", 1)[1]) for r in rows), default=0) + 1
    return f"C-{day}-{seq:03d}"


def _analysis_ref(a: Analysis) -> tuple[str, str]:
    """The analysis folder (absolute) and a key of its content (SHA-256 of rings.json)."""
    digest = hashlib.sha256((a.path / "rings.json").read_bytes()).hexdigest()[:16]
    return str(a.path.resolve()), digest


def _ring_figures(ring: Mapping[str, Any]) -> dict[str, Any]:
    return {"ring_id": ring["ring_id"], "score": float(ring.get("score", 0.0)),
            "fund_paid": float(ring.get("fund_paid", 0.0)), "claims": int(ring.get("claims", 0)),
            "patterns": json.dumps(sorted(ring.get("patterns", [])), ensure_ascii=False)}


def _title(ring: Mapping[str, Any], lang: str) -> str:
    names = [pattern_text(p, lang) for p in ring.get("patterns", [])]
    persons = sum(1 for m in ring.get("members", []) if m.get("kind") == "person")
    fund = float(ring.get("fund_paid", 0.0))
    if lang == "zh":
        return f"{'、'.join(names) or '团伙'}（{persons} 人，涉案 {fund:,.2f} 元）"
    who = "person" if persons == 1 else "persons"
    return f"{', '.join(names) or 'ring'} ({persons} {who}, fund paid {fund:,.2f} yuan)"


def _open(ws: Workspace, con: sqlite3.Connection, ring: Mapping[str, Any], *, analysis: str,
          analysis_key: str, actor: str, via: str, title: str | None, assignee: str | None,
          note: str | None, lang: str) -> str:
    case_id = _next_case_id(con)
    keys = member_keys(ring)
    row = {**_ring_figures(ring), "ring_present": 1, "status": "new", "assignee": assignee,
           "title": title or _title(ring, lang), "analysis": analysis,
           "analysis_key": analysis_key, "members": json.dumps(keys, ensure_ascii=False)}
    details = {"via": via, "ring_id": ring["ring_id"], "analysis": analysis,
               "analysis_key": analysis_key, "status": "new", "assignee": assignee,
               "title": row["title"], "score": row["score"], "fund_paid": row["fund_paid"],
               "members": keys}
    if note:
        details["note"] = note
    _record(ws, con, "case.open", case_id, actor=actor, details=details, insert=row, note=note,
            history={"event": "opened", "analysis": analysis, "analysis_key": analysis_key,
                     "ring_id": ring["ring_id"], "overlap": 1.0, "added": len(keys)})
    return case_id


def _clean(text: str | None) -> str | None:
    return text.strip() if text is not None and text.strip() else None


# --------------------------------------------------------------------------- changes

def open_case(ws: Workspace | str | Path, analysis_dir: str | Path, ring_ref: str | int, *,
              title: str | None = None, assignee: str | None = None, note: str | None = None,
              actor: str | None = None, min_overlap: float = 0.5, lang: str = "zh"
              ) -> dict[str, Any]:
    """Open a case (status ``new``) for one ring of an analysis, by ring id or rank.

    Refused when a case already follows that ring, or a ring that :func:`sync` would take for
    it (``min_overlap``): then reopen or sync that case instead. The title defaults to the
    ring's patterns, persons and amount, in ``lang``; no personal identifier goes into it.
    """
    check_lang(lang)
    ws = _workspace(ws)
    a = open_analysis(analysis_dir)
    ring = a.ring(ring_ref)
    path, key = _analysis_ref(a)
    who = actor or current_actor()
    with ws.connect() as con:
        _ensure_schema(con)
        rows = [dict(r) for r in con.execute("SELECT * FROM cases ORDER BY opened_seq")]
        same = [r["case_id"] for r in rows if r["ring_id"] == ring["ring_id"]]
        if not same:
            same = [m["case_id"] for m in match_rings(
                {r["case_id"]: json.loads(r["members"]) for r in rows}, [ring],
                min_overlap=min_overlap)]
        if same:
            raise InputError(f"ring {ring['ring_id']} is already followed by case {same[0]}; "
                             f"see: graphfraud case show {same[0]}")
        case_id = _open(ws, con, ring, analysis=path, analysis_key=key, actor=who, via="manual",
                        title=_clean(title), assignee=_clean(assignee), note=_clean(note),
                        lang=lang)
        return _public(_case_row(con, case_id))


def assign(ws: Workspace | str | Path, case_id: str, assignee: str | None, *,
           note: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """Give a case to someone (``None`` or empty: to no one)."""
    ws = _workspace(ws)
    who, to, note = actor or current_actor(), _clean(assignee), _clean(note)
    with ws.connect() as con:
        _ensure_schema(con)
        row = _case_row(con, case_id)
        if row["assignee"] == to:
            raise InputError(f"case {case_id} is already assigned to {to or 'no one'}")
        details: dict[str, Any] = {"from": row["assignee"], "to": to}
        if note:
            details["note"] = note
        _record(ws, con, "case.assign", case_id, actor=who, details=details,
                update={"assignee": to}, note=note)
        return _public(_case_row(con, case_id))


def set_status(ws: Workspace | str | Path, case_id: str, status: str, *, note: str | None = None,
               actor: str | None = None) -> dict[str, Any]:
    """Move a case to another status (:data:`TRANSITIONS`).

    A note is required to confirm, dismiss or refer a case, and to reopen a dismissed one.
    The check reads the case inside the write transaction, so two investigators changing one
    case at once cannot both pass it.
    """
    ws = _workspace(ws)
    who, to, note = actor or current_actor(), parse_status(status), _clean(note)
    with ws.connect() as con:
        _ensure_schema(con)
        row = _case_row(con, case_id)
        now = row["status"]
        allowed = TRANSITIONS[now]
        if to not in allowed:
            can = ", ".join(f"{s} ({status_text(s)})" for s in allowed) or "nothing (final)"
            raise InputError(f"case {case_id} is {now} ({status_text(now)}); it cannot go to {to} "
                             f"({status_text(to)}); it can go to: {can}")
        if note is None and (to in _NOTE_REQUIRED or now == "dismissed"):
            raise InputError(f"case {case_id}: going from {now} to {to} ({status_text(to)}) needs "
                             "a note saying why (--note)")
        details: dict[str, Any] = {"from": now, "to": to}
        if note:
            details["note"] = note
        _record(ws, con, "case.status", case_id, actor=who, details=details,
                update={"status": to}, note=note)
        return _public(_case_row(con, case_id))


def add_note(ws: Workspace | str | Path, case_id: str, text: str, *,
             actor: str | None = None) -> dict[str, Any]:
    """Add a note to a case; returns the note (``note_id, case_id, at, actor, text``)."""
    ws = _workspace(ws)
    who, note = actor or current_actor(), _clean(text)
    check_argument(note is not None, f"case {case_id}: the note is empty")
    assert note is not None
    with ws.connect() as con:
        _ensure_schema(con)
        _case_row(con, case_id)
        entry = _record(ws, con, "case.note", case_id, actor=who, details={"note": note},
                        note=note)
        return dict(con.execute("SELECT * FROM case_notes WHERE audit_seq = ?",
                                (entry["seq"],)).fetchone())


def sync(ws: Workspace | str | Path, analysis_dir: str | Path, *, min_overlap: float = 0.5,
         open_new: bool = True, min_score: float = 0.0, actor: str | None = None,
         lang: str = "zh") -> list[dict[str, Any]]:
    """Bring the register up to date with an analysis (for instance one re-run on refreshed data).

    Each ring is matched to a case by member overlap (:func:`match_rings`). A matched case
    follows the ring (ring id, score, amounts, members); a dismissed case stays dismissed
    (``still_dismissed``); a confirmed or referred case whose ring gained members reports them
    (``grown``). Rings without a case get a new case (status ``new``) when ``open_new`` and
    their score is at least ``min_score``. The default opens every ring: every ring the
    analysis writes is a lead, a lead left out of the register is lost, and look-alikes cost
    one dismissal each, once, since dismissals stick. Cases whose ring is not in the analysis
    are reported ``vanished`` (once; they keep their members and are matched again when the
    ring comes back). Everything is written in one transaction, with one audit entry per
    changed case and one for the run; syncing the same analysis again changes nothing.
    ``lang`` is the language of the titles of the cases opened.

    Returns
    -------
    list of dict
        One row per ring of the analysis (rank order), then one per vanished case:
        ``event`` (:data:`EVENT_TEXT`), ``case_id``, ``status``, ``ring_id``, ``rank``,
        ``previous_ring_id``, ``overlap``, ``score``, ``previous_score``, ``fund_paid``,
        ``members_added`` / ``members_removed`` (``[{kind, id}]``), ``related`` (cases or rings
        sharing members: ``[{case_id, status, ring_id, shared}]``).
    """
    check_argument(0 < min_overlap <= 1, f"--min-overlap must be in (0, 1], not {min_overlap}")
    check_lang(lang)
    ws = _workspace(ws)
    a = open_analysis(analysis_dir)
    path, key = _analysis_ref(a)
    who = actor or current_actor()
    rings = a.rings
    ring_keys = {r["ring_id"]: member_keys(r) for r in rings}
    report: list[dict[str, Any]] = []
    with ws.connect() as con:
        _ensure_schema(con)
        cases = {r["case_id"]: dict(r) for r in
                 con.execute("SELECT * FROM cases ORDER BY opened_seq")}
        case_keys = {c: json.loads(r["members"]) for c, r in cases.items()}
        matches = {m["ring_id"]: m for m in match_rings(case_keys, rings, min_overlap=min_overlap)}
        ring_case = {rid: m["case_id"] for rid, m in matches.items()}
        status_of = {c: r["status"] for c, r in cases.items()}
        for rank, ring in enumerate(rings, 1):
            rid, keys = ring["ring_id"], ring_keys[ring["ring_id"]]
            base = {"rank": rank, "ring_id": rid, "score": ring.get("score"),
                    "fund_paid": ring.get("fund_paid"), "members_added": [],
                    "members_removed": [], "related": [], "overlap": None,
                    "previous_ring_id": None, "previous_score": None}
            m = matches.get(rid)
            if m is None:
                related = [{"case_id": c, "status": cases[c]["status"], "ring_id":
                            cases[c]["ring_id"], "shared": n}
                           for c, n in _related(keys, case_keys, min_shared=2)]
                if open_new and float(ring.get("score", 0.0)) >= min_score:
                    case_id = _open(ws, con, ring, analysis=path, analysis_key=key, actor=who,
                                    via="sync", title=None, assignee=None, note=None, lang=lang)
                    ring_case[rid], status_of[case_id] = case_id, "new"
                    report.append({**base, "event": "opened", "case_id": case_id,
                                   "status": "new", "related": related})
                else:
                    report.append({**base, "event": "unmatched", "case_id": None,
                                   "status": None, "related": related})
                continue
            report.append(_follow(ws, con, cases[m["case_id"]], ring, m, base, analysis=path,
                                  analysis_key=key, actor=who))
        followed = {m["case_id"] for m in matches.values()}
        for case_id, row in cases.items():
            if case_id in followed or not row["ring_present"]:
                continue  # followed above, or already reported gone by an earlier sync
            related = [{"case_id": ring_case.get(rid),
                        "status": status_of.get(ring_case.get(rid, "")), "ring_id": rid,
                        "shared": n}
                       for rid, n in _related(case_keys[case_id], ring_keys, min_shared=2)]
            _record(ws, con, "case.sync", case_id, actor=who,
                    details={"event": "vanished", "analysis": path, "analysis_key": key,
                             "ring_id": None, "previous_ring_id": row["ring_id"]},
                    update={"ring_present": 0, "analysis": path, "analysis_key": key},
                    history={"event": "vanished", "analysis": path, "analysis_key": key})
            report.append({"event": "vanished", "case_id": case_id, "status": row["status"],
                           "rank": None, "ring_id": None, "previous_ring_id": row["ring_id"],
                           "overlap": None, "score": None, "previous_score": row["score"],
                           "fund_paid": None, "members_added": [], "members_removed": [],
                           "related": related})
        ws.audit("register.sync", target=path, actor=who, con=con, details={
            "analysis_key": key, "rings": len(rings), "min_overlap": min_overlap,
            "open_new": open_new, "min_score": min_score,
            "events": dict(sorted(Counter(r["event"] for r in report).items()))})
    return report


def _follow(ws: Workspace, con: sqlite3.Connection, case: dict[str, Any], ring: Mapping[str, Any],
            match: Mapping[str, Any], base: dict[str, Any], *, analysis: str, analysis_key: str,
            actor: str) -> dict[str, Any]:
    """A matched case follows its ring: the report row, and the change when there is one."""
    old, new = set(json.loads(case["members"])), member_keys(ring)
    added, removed = sorted(set(new) - old), sorted(old - set(new))
    figures = _ring_figures(ring)
    changed_figures = any(figures[k] != case[k] for k in ("score", "fund_paid", "claims",
                                                          "patterns"))
    if case["status"] == "dismissed":
        event = "still_dismissed"
    elif added and case["status"] in ("confirmed", "referred"):
        event = "grown"
    elif not case["ring_present"]:
        event = "returned"
    elif added or removed or figures["ring_id"] != case["ring_id"]:
        event = "followed"
    elif changed_figures:
        event = "updated"
    else:
        event = "unchanged"
    row = {**base, "event": event, "case_id": case["case_id"], "status": case["status"],
           "previous_ring_id": case["ring_id"], "overlap": match["overlap"],
           "previous_score": case["score"], "members_added": [_split_key(k) for k in added],
           "members_removed": [_split_key(k) for k in removed]}
    if (not (added or removed or changed_figures) and case["ring_present"]
            and case["analysis_key"] == analysis_key):
        return row  # this analysis was synced already and nothing moved: nothing to write
    _record(ws, con, "case.sync", case["case_id"], actor=actor,
            details={"event": event, "analysis": analysis, "analysis_key": analysis_key,
                     "ring_id": ring["ring_id"], "previous_ring_id": case["ring_id"],
                     "overlap": match["overlap"], "score": figures["score"],
                     "previous_score": case["score"], "added": added, "removed": removed},
            update={**figures, "ring_present": 1, "analysis": analysis,
                    "analysis_key": analysis_key, "members": json.dumps(new, ensure_ascii=False)},
            history={"event": event, "analysis": analysis, "analysis_key": analysis_key,
                     "ring_id": ring["ring_id"], "overlap": match["overlap"],
                     "added": len(added), "removed": len(removed)})
    return row


# --------------------------------------------------------------------------- reading

def list_cases(ws: Workspace | str | Path, *, status: str | Sequence[str] | None = None,
               assignee: str | None = None) -> list[dict[str, Any]]:
    """The cases (oldest first), filtered by status (names in English or Chinese) and assignee."""
    ws = _workspace(ws)
    wanted = None
    if status is not None:
        wanted = {parse_status(s) for s in ([status] if isinstance(status, str) else status)}
    with ws.connect() as con:
        _ensure_schema(con)
        rows = con.execute("SELECT * FROM cases ORDER BY opened_seq").fetchall()
    return [_public(r) for r in rows
            if (wanted is None or r["status"] in wanted)
            and (assignee is None or r["assignee"] == assignee)]


def get_case(ws: Workspace | str | Path, case_id: str) -> dict[str, Any]:
    """One case with its ``notes``, its ring ``history`` and its ``audit`` entries, oldest first."""
    ws = _workspace(ws)
    with ws.connect() as con:
        _ensure_schema(con)
        case = _public(_case_row(con, case_id))
        case["notes"] = [dict(r) for r in con.execute(
            "SELECT * FROM case_notes WHERE case_id = ? ORDER BY note_id", (case_id,))]
        case["history"] = [dict(r) for r in con.execute(
            "SELECT * FROM case_rings WHERE case_id = ? ORDER BY entry", (case_id,))]
        case["audit"] = _audit_entries(con, case_id)
    return case


def _audit_entries(con: sqlite3.Connection, case_id: str | None = None) -> list[dict[str, Any]]:
    """Every audit entry on one case, or the register's (``case.*``) entries on all cases;
    oldest first, details decoded."""
    if case_id is None:
        rows = con.execute("SELECT * FROM audit WHERE action LIKE 'case.%' ORDER BY seq")
    else:
        rows = con.execute("SELECT * FROM audit WHERE target = ? ORDER BY seq", (case_id,))
    return [{**dict(r), "details": json.loads(r["details"])} for r in rows]


def verify(ws: Workspace | str | Path) -> list[str]:
    """Problems found (empty when all is well): the audit log's hash chain, and each case, note
    and ring-history entry checked against the audit entries that wrote them."""
    ws = _workspace(ws)
    problems = ws.verify_audit()
    with ws.connect() as con:
        _ensure_schema(con)
        cases = {r["case_id"]: dict(r) for r in con.execute("SELECT * FROM cases")}
        notes = [dict(r) for r in con.execute("SELECT * FROM case_notes ORDER BY note_id")]
        history = [dict(r) for r in con.execute("SELECT * FROM case_rings ORDER BY entry")]
        entries = {e["seq"]: e for e in _audit_entries(con)}
    replay: dict[str, dict[str, Any]] = {}
    for e in entries.values():
        d, state = e["details"], replay.setdefault(e["target"], {})
        if e["action"] == "case.open":
            state.update(status=d.get("status"), assignee=d.get("assignee"),
                         ring_id=d.get("ring_id"), members=set(d.get("members", [])))
        elif e["action"] == "case.status":
            state["status"] = d.get("to")
        elif e["action"] == "case.assign":
            state["assignee"] = d.get("to")
        elif e["action"] == "case.sync" and d.get("ring_id"):
            state["ring_id"] = d["ring_id"]
            state["members"] = (state.get("members", set()) | set(d.get("added", []))) - set(
                d.get("removed", []))
    for case_id in sorted(set(cases) | set(replay)):
        row, logged = cases.get(case_id), replay.get(case_id)
        if row is None:
            problems.append(f"case {case_id}: in the audit log but not in the register (deleted)")
            continue
        if logged is None:
            problems.append(f"case {case_id}: in the register but never opened in the audit log")
            continue
        for field in ("status", "assignee", "ring_id"):
            if row[field] != logged.get(field):
                problems.append(f"case {case_id}: {field} is {row[field]!r} in the register but "
                                f"{logged.get(field)!r} by the audit log (changed behind its back)")
        if set(json.loads(row["members"])) != logged.get("members"):
            problems.append(f"case {case_id}: its members differ from the audit log")
    for n in notes:
        wrote = entries.get(n["audit_seq"])
        if (wrote is None or wrote["target"] != n["case_id"]
                or wrote["details"].get("note") != n["text"]):
            problems.append(f"note {n['note_id']} of case {n['case_id']}: differs from audit "
                            f"entry {n['audit_seq']}")
    for h in history:
        wrote = entries.get(h["audit_seq"])
        if (wrote is None or wrote["target"] != h["case_id"]
                or wrote["details"].get("ring_id") != h["ring_id"]):
            problems.append(f"ring history entry {h['entry']} of case {h['case_id']}: differs "
                            f"from audit entry {h['audit_seq']}")
    return problems


def event_text(row: Mapping[str, Any], lang: str = "zh") -> str:
    """One line describing a :func:`sync` report row, for the terminal."""
    zh = lang == "zh"
    k = 0 if zh else 1
    parts = [EVENT_TEXT[row["event"]][k]]
    if row["event"] == "vanished":
        parts[0] += f"（{row['previous_ring_id']}）" if zh else f" ({row['previous_ring_id']})"
    before, now = row.get("previous_ring_id"), row.get("ring_id")
    if before and now and before != now:
        overlap = row["overlap"]
        parts.append(f"{before} → {now}" + (f"（重合度 {overlap:.2f}）" if zh
                                            else f" (overlap {overlap:.2f})"))
    for field, (zh_word, en_word) in (("members_added", ("新增", "added")),
                                      ("members_removed", ("减少", "removed"))):
        counts = Counter(m["kind"] for m in row.get(field) or [])
        if counts:
            what = ("、" if zh else ", ").join(
                f"{_KIND_TEXT[kind][0]} {n}" if zh
                else f"{n} {_KIND_TEXT[kind][1 if n == 1 else 2]}"
                for kind, n in sorted(counts.items(), key=lambda kv: _KINDS.index(kv[0])))
            parts.append(f"{zh_word}{what}" if zh else f"{en_word} {what}")
    for rel in row.get("related") or []:
        who = rel.get("case_id") or rel.get("ring_id")
        st = f" {status_text(rel['status'], lang)}" if rel.get("status") else ""
        parts.append(f"与 {who}{st} 共有 {rel['shared']} 个成员" if zh else
                     f"shares {rel['shared']} members with {who}{st}")
    return ("；" if zh else "; ").join(parts)
