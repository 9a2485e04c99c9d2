"""What the packet says: one ring's facts, gathered from the analysis folder and redacted.

:func:`gather` reads the ring, its evidence claims and its entities' details once and returns a
:class:`PacketContent` that every document of the packet (HTML, PDF, workbook, CSV, figures)
is rendered from, so the editions cannot disagree. Everything shown is already redacted here:
person and card ids and natural persons' names masked (``redact="masked"``), and the ids the
detectors wrote into their evidence summaries (``其中 3312… 到场 12 次``) masked too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from graphfraud.errors import InputError, check_argument
from graphfraud.i18n import pattern_text
from graphfraud.packet.texts import BAND_TEXT, legal_references, text
from graphfraud.redact import Redactor
from graphfraud.results import Analysis

__all__ = ["PacketSettings", "PacketContent", "gather", "amount_band", "money", "CATALOGUE_COLUMNS"]

_KINDS = ("person", "card", "provider", "doctor", "staff")
_KIND_COLUMN = {"person": "person_id", "card": "card_id", "provider": "provider_id",
                "doctor": "doctor_id", "staff": "staff_id"}
_ROLE_ORDER = {"organizer": 0, "recruiter": 1, "insider": 2, "member": 3}
_TOKEN = re.compile(r"[0-9A-Za-z]{6,}")
_VISIT_TYPES = ("outpatient", "inpatient", "pharmacy")

#: columns of the evidence catalogue: (key in a row, text key of its heading)
CATALOGUE_COLUMNS: list[tuple[str, str]] = [
    ("no", "col_no"), ("claim_id", "col_claim"), ("settled_at", "col_settled"),
    ("visit_type", "col_visit_type"), ("provider_id", "col_provider"),
    ("provider_name", "col_provider_name"), ("person", "col_person"),
    ("person_name", "col_person_name"), ("card", "col_card"), ("doctor", "col_doctor"),
    ("staff", "col_staff"), ("diagnosis", "col_diagnosis"), ("admit_date", "col_admit"),
    ("discharge_date", "col_discharge"), ("total_amount", "total_amount"),
    ("fund_paid", "fund_paid"), ("reverses", "col_reversal"), ("groups", "col_groups"),
]


@dataclass(frozen=True)
class PacketSettings:
    """Settings of a packet (all recorded in its manifest).

    Parameters
    ----------
    band_large, band_huge, band_especially_huge
        Thresholds (yuan) of the 诈骗罪 amount bands 数额较大 / 数额巨大 / 数额特别巨大. 法释〔2011〕7号
        art. 1 gives ranges, 3,000–10,000 and 30,000–100,000, and 500,000 and up; each province
        fixes its figure within them.
    major_amount
        A case of at least this amount gets a 要情报告 (major case report).
    transferred
        The case is being transferred to the judicial authorities: a 要情报告 whatever the amount.
    agency, recipient, case_number
        移送机关, 接收机关 and 文号 printed on the referral letter (blank lines when empty).
    pdf_rows
        At most this many claims (and member facts) in the PDF and HTML documents; the
        workbook and the CSV always hold every one.
    """

    band_large: float = 3000.0
    band_huge: float = 30000.0
    band_especially_huge: float = 500000.0
    major_amount: float = 500000.0
    transferred: bool = False
    agency: str = ""
    recipient: str = ""
    case_number: str = ""
    pdf_rows: int = 300

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> PacketSettings:
        """Settings from a mapping (e.g. a YAML file's contents); unknown names are an error."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"packet settings: unknown {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(known))}")
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """The thresholds lie within the legal ranges and the numbers make sense."""
        check_argument(3000 <= self.band_large <= 10000,
                       f"packet settings: band_large={self.band_large}: 数额较大 is fixed by the "
                       "province between 3,000 and 10,000 yuan (法释〔2011〕7号)")
        check_argument(30000 <= self.band_huge <= 100000,
                       f"packet settings: band_huge={self.band_huge}: 数额巨大 is fixed by the "
                       "province between 30,000 and 100,000 yuan (法释〔2011〕7号)")
        check_argument(self.band_especially_huge >= 500000,
                       f"packet settings: band_especially_huge={self.band_especially_huge}: "
                       "数额特别巨大 starts at 500,000 yuan or more (法释〔2011〕7号)")
        check_argument(self.major_amount > 0, "packet settings: major_amount must be positive")
        check_argument(self.pdf_rows >= 1, "packet settings: pdf_rows must be at least 1")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def amount_band(amount: float, settings: PacketSettings) -> str:
    """The band of an amount: ``none``, ``large``, ``huge`` or ``especially_huge``.

    >>> s = PacketSettings()
    >>> [amount_band(x, s) for x in (2999.99, 3000, 29999, 30000, 500000)]
    ['none', 'large', 'large', 'huge', 'especially_huge']
    """
    if amount >= settings.band_especially_huge:
        return "especially_huge"
    if amount >= settings.band_huge:
        return "huge"
    if amount >= settings.band_large:
        return "large"
    return "none"


def money(x: Any) -> str:
    """An amount in yuan as ``12,345.67``."""
    return f"{float(x or 0):,.2f}"


@dataclass
class PacketContent:
    """Everything the documents show, redacted, in one language."""

    lang: str
    redact: str
    date: dt.date
    settings: PacketSettings
    ring_id: str
    rank: int
    n_rings: int
    score: float
    score_raw: float
    patterns: list[str]
    patterns_text: str
    fund_paid: float
    n_claims: int
    period: tuple[str, str]
    case_name: str
    summary: str
    counts: dict[str, int]
    members: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    claims: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    timeline_unit: str
    discovery: dict[str, Any]
    amount: dict[str, Any]
    major: bool
    major_why: str
    legal: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


class _Scrubber:
    """Masks the personal ids (and natural persons' names) found inside free text."""

    def __init__(self, red: Redactor, personal: set[str], names: dict[str, str]) -> None:
        self.red = red
        self.personal = personal
        self.odd = sorted((p for p in personal if not p.isalnum()), key=len, reverse=True)
        self.names = sorted(((n, m) for n, m in names.items() if len(n) >= 2 and n != m),
                            key=lambda nm: len(nm[0]), reverse=True)

    def __call__(self, s: Any) -> str:
        s = "" if s is None else str(s)
        if not self.red.masked:
            return s
        for p in self.odd:
            s = s.replace(p, self.red.entity("person", p))
        s = _TOKEN.sub(lambda m: self.red.entity("person", m.group(0))
                       if m.group(0) in self.personal else m.group(0), s)
        for name, masked in self.names:
            s = s.replace(name, masked)
        return s


def _personal_tokens(analysis: Analysis, tokens: set[str]) -> set[str]:
    """Those of ``tokens`` that are person ids, card ids or id numbers in the analysis data."""
    found: set[str] = set()
    if not tokens:
        return found
    ids = sorted(tokens)
    for table, col in (("claims", "person_id"), ("claims", "card_id"), ("persons", "person_id"),
                       ("persons", "id_number")):
        t = analysis.table(table, columns=[col], filter_ids=(col, ids)) \
            if _has_column(analysis, table, col) else None
        if t is not None:
            found.update(v for v in t.column(col).to_pylist() if v is not None)
    return found


def _has_column(analysis: Analysis, table: str, col: str) -> bool:
    import pyarrow.parquet as pq

    path = analysis.path / "data" / f"{table}.parquet"
    return path.exists() and col in pq.read_schema(path).names


def _day(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _stamp(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return _day(v)


def _float(v: Any) -> float:
    return float(v) if v is not None else 0.0


def _params_text(params: Any) -> str:
    if not isinstance(params, dict):
        return ""
    parts = []
    for k in sorted(params):
        v = params[k]
        if isinstance(v, (list, tuple)):
            v = ", ".join(str(x) for x in v)
        parts.append(f"{k}={v}")
    return "; ".join(parts)


def gather(analysis: Analysis, ring: dict[str, Any], *, lang: str, redact: str,
           settings: PacketSettings, date: dt.date) -> PacketContent:
    """The content of the packet of ``ring`` (see the module docstring)."""
    red = Redactor(redact)
    sep = ", " if lang == "en" else "、"
    rows = analysis.claims(ring).to_pylist()
    ids, details = _entity_details(analysis, ring, rows)
    scrub = _scrubber(analysis, ring, red, ids, details, {r["claim_id"] for r in rows})
    evidence, groups_of = _evidence(ring, lang, scrub)
    catalogue = _catalogue(rows, details, red, lang, groups_of)
    members = _members(ring, details, _member_stats(rows), red, lang, scrub)
    counts = {k: sum(m["kind"] == k for m in ring["members"]) for k in _KINDS}
    first, last = (ring.get("period") or [None, None])[:2]
    period = (str(first or (catalogue[0]["settled_at"][:10] if catalogue else "")),
              str(last or (catalogue[-1]["settled_at"][:10] if catalogue else "")))
    timeline, unit = _timeline(rows, lang)
    patterns_text = sep.join(pattern_text(p, lang) for p in ring["patterns"])
    fund = round(_float(ring.get("fund_paid")), 2)
    amount, why = _amount(fund, settings, lang)
    members_summary = sep.join(text(f"count_{k}_1" if n == 1 else f"count_{k}", lang, n=n)
                               for k, n in counts.items() if n)
    summary = text("ring_summary", lang, members=members_summary, first=period[0],
                   last=period[1], claims=len(rows), fund=money(fund), patterns=patterns_text)
    return PacketContent(
        lang=lang, redact=redact, date=date, settings=settings, ring_id=ring["ring_id"],
        rank=analysis.rank(ring), n_rings=len(analysis.rings), score=_float(ring.get("score")),
        score_raw=_float(ring.get("score_raw")), patterns=list(ring["patterns"]),
        patterns_text=patterns_text, fund_paid=fund, n_claims=len(rows), period=period,
        case_name=text("case_name", lang, ring=ring["ring_id"]), summary=summary, counts=counts,
        members=members, evidence=evidence, claims=catalogue, timeline=timeline,
        timeline_unit=unit,
        discovery=_discovery(analysis, ring, lang, groups=len(evidence), patterns=patterns_text),
        amount=amount, major=bool(why), major_why=sep.join(why),
        legal=legal_references(lang, patterns=list(ring["patterns"]), kinds=counts))


def _entity_details(analysis: Analysis, ring: dict[str, Any], rows: list[dict[str, Any]]
                    ) -> tuple[dict[str, set[str]], dict[str, dict[str, dict[str, Any]]]]:
    """Every id on the claims or among the members, by kind; and the details of those ids."""
    ids: dict[str, set[str]] = defaultdict(set)
    for m in ring["members"]:
        ids[m["kind"]].add(str(m["id"]))
    for r in rows:
        for kind, col in _KIND_COLUMN.items():
            if r.get(col) is not None:
                ids[kind].add(str(r[col]))
    details = {kind: analysis.details(kind, sorted(ids[kind]))
               for kind in ("person", "provider", "doctor", "staff")}
    return ids, details


def _scrubber(analysis: Analysis, ring: dict[str, Any], red: Redactor, ids: dict[str, set[str]],
              details: dict[str, dict[str, dict[str, Any]]], claim_ids: set[str]) -> _Scrubber:
    """What must not show in the masked edition, also inside the detectors' free text: the
    ring's person and card ids and id numbers, and any other person or card id the evidence
    texts name (looked up in the analysis data)."""
    personal = set(ids["person"]) | set(ids["card"])
    personal |= {str(d["id_number"]) for d in details["person"].values() if d.get("id_number")}
    names = {str(d["name"]): red.name(d["name"]) for kind in ("person", "doctor", "staff")
             for d in details[kind].values() if d.get("name")}
    if red.masked:
        known = personal | claim_ids | ids["provider"] | ids["doctor"] | ids["staff"]
        tokens = {t for ev in ring.get("evidence", [])
                  for s in (ev.get("summary"), ev.get("summary_en"), ev.get("group_id"))
                  for t in _TOKEN.findall(str(s or ""))} - known
        personal |= _personal_tokens(analysis, tokens)
    return _Scrubber(red, personal, names)


def _evidence(ring: dict[str, Any], lang: str, scrub: _Scrubber
              ) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The evidence groups, labelled E1, E2, ... in the ring's order; the labels per claim."""
    evidence = []
    groups_of: dict[str, list[str]] = defaultdict(list)
    for i, ev in enumerate(ring.get("evidence", []), 1):
        label = f"E{i}"
        for c in ev.get("claim_ids", []):
            groups_of[c].append(label)
        ev_stats = ev.get("stats") or {}
        evidence.append({
            "label": label, "pattern": ev["pattern"],
            "pattern_text": pattern_text(ev["pattern"], lang), "group": scrub(ev.get("group_id")),
            "strength": round(_float(ev.get("strength")), 4),
            "summary": scrub(ev.get("summary_en") if lang == "en" else ev.get("summary")),
            "claims": len(ev.get("claim_ids", [])),
            "fund_paid": round(_float(ev_stats.get("fund_paid")), 2)})
    return evidence, groups_of


def _catalogue(rows: list[dict[str, Any]], details: dict[str, dict[str, dict[str, Any]]],
               red: Redactor, lang: str, groups_of: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The evidence catalogue: one row per claim, as shown (keys of CATALOGUE_COLUMNS)."""
    out = []
    for n, r in enumerate(rows, 1):
        person = details["person"].get(r.get("person_id") or "", {})
        provider = details["provider"].get(r.get("provider_id") or "", {})
        vt = r.get("visit_type") or ""
        out.append({
            "no": n, "claim_id": r["claim_id"], "settled_at": _stamp(r.get("settled_at")),
            "visit_type": text(f"visit_{vt}", lang) if vt in _VISIT_TYPES else vt,
            "provider_id": r.get("provider_id") or "", "provider_name": provider.get("name") or "",
            "person": red.entity("person", r.get("person_id")),
            "person_name": red.name(person.get("name")),
            "card": red.entity("card", r.get("card_id")),
            "doctor": r.get("doctor_id") or "", "staff": r.get("staff_id") or "",
            "diagnosis": r.get("diagnosis_code") or "",
            "admit_date": _day(r.get("admit_date")),
            "discharge_date": _day(r.get("discharge_date")),
            "total_amount": round(_float(r.get("total_amount")), 2),
            "fund_paid": round(_float(r.get("fund_paid")), 2),
            "reverses": r.get("orig_claim_id") or "",
            "groups": " ".join(groups_of.get(r["claim_id"], [])),
        })
    return out


def _member_stats(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (kind, id) on the claims: claims, fund, first and last day, providers, days."""
    stats: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        fund = _float(r.get("fund_paid"))
        day = _day(r.get("settled_at"))
        for kind, col in _KIND_COLUMN.items():
            v = r.get(col)
            if v is None:
                continue
            s = stats.setdefault((kind, str(v)), {"claims": 0, "fund": 0.0, "first": day,
                                                  "last": day, "places": set(), "days": []})
            s["claims"] += 1
            s["fund"] += fund
            s["first"], s["last"] = min(s["first"], day), max(s["last"], day)
            if r.get("provider_id") is not None:
                s["places"].add(r["provider_id"])
            s["days"].append(day)
    return stats


def _members(ring: dict[str, Any], details: dict[str, dict[str, dict[str, Any]]],
             stats: dict[tuple[str, str], dict[str, Any]], red: Redactor, lang: str,
             scrub: _Scrubber) -> list[dict[str, Any]]:
    """The members with their facts, organizers first, then by kind and fund paid."""
    from graphfraud.rings import ROLE_TEXT
    from graphfraud.ringgraph import KIND_TEXT

    li = 1 if lang == "en" else 0
    out = []
    for m in ring["members"]:
        kind, mid = m["kind"], str(m["id"])
        d = details.get(kind, {}).get(mid, {})
        name = d.get("name") or ""
        shown_name = name if kind == "provider" else red.name(name)
        st = stats.get((kind, mid))
        role = m.get("role") or "member"
        role_text = ROLE_TEXT.get(role, (role, role))[li]
        reason = scrub(m.get("reason_en") if li else m.get("reason"))
        facts = dict(kind=KIND_TEXT[kind][li], name=shown_name or ("-" if li else ""),
                     id=red.entity(kind, mid), role=role_text, reason=reason)
        if st:
            fact = text("member_fact", lang, **facts, first=st["first"], last=st["last"],
                        claims=st["claims"], fund=money(st["fund"]), places=len(st["places"]))
        else:
            fact = text("member_fact_none", lang, **facts)
        death = d.get("death_date") if kind == "person" else None
        if death is not None and st:
            after = sum(day > _day(death) for day in st["days"])
            fact += (" " if li else "") + text("fact_death", lang, date=_day(death), n=after)
        if m.get("critical"):
            fact += (" " if li else "") + text("fact_critical", lang)
        out.append({
            "kind": kind, "kind_text": facts["kind"], "id": facts["id"], "name": shown_name,
            "id_number": red.id_number(d.get("id_number")) if kind == "person" else "",
            "address": "" if red.masked or kind != "person" else str(d.get("address") or ""),
            "role": role, "role_text": role_text, "reason": reason,
            "critical": bool(m.get("critical")), "claims": st["claims"] if st else 0,
            "fund_paid": round(st["fund"], 2) if st else 0.0,
            "first": st["first"] if st else "", "last": st["last"] if st else "",
            "places": len(st["places"]) if st else 0, "death_date": _day(death), "fact": fact,
            "_key": (_ROLE_ORDER.get(role, 9), _KINDS.index(kind),
                     -(st["fund"] if st else 0.0), mid)})
    out.sort(key=lambda x: x.pop("_key"))
    return out


def _discovery(analysis: Analysis, ring: dict[str, Any], lang: str, *, groups: int,
               patterns: str) -> dict[str, Any]:
    """How the ring surfaced: the data, the detectors run and their parameters, the ring's
    score and rank, and what the calibrated score means."""
    from graphfraud.detectors import describe

    en = lang == "en"
    manifest = analysis.manifest
    params = (manifest.get("parameters") or {}).get("detectors") or {}
    run_info = manifest.get("detectors") or {}
    run = {d["detector"]: d.get("groups") for d in run_info.get("run", [])}
    skipped = [str(s.get("detector", s)) if isinstance(s, dict) else str(s)
               for s in run_info.get("skipped", [])]
    detectors = [{"name": d["pattern"], "text": pattern_text(d["pattern"], lang),
                  "description": d["en"] if en else d["zh"], "groups": run[d["pattern"]],
                  "in_ring": d["pattern"] in ring["patterns"],
                  "params": _params_text(params.get(d["pattern"]))
                  if d["pattern"] in ring["patterns"] else ""}
                 for d in describe() if d["pattern"] in run]
    ring_params = params.get("rings") or {}
    rings_info = manifest.get("rings") or {}
    seed = rings_info.get("seed", ring_params.get("seed", 0))
    if en:
        method = f"{rings_info.get('method') or 'seeded Leiden'} (seed={seed})"
    else:
        method = (f"带种子的 Leiden 社区发现算法（seed={seed}，resolution="
                  f"{ring_params.get('resolution', 1.0)}）")
    totals = manifest.get("claims_totals") or {}
    score = _float(ring.get("score"))
    return {
        "period": (str(totals.get("first_settlement") or "")[:10],
                   str(totals.get("last_settlement") or "")[:10]),
        "claims": totals.get("claims"), "fund_net": totals.get("fund_paid_net"),
        "inputs": [{"file": f.get("file", ""), "table": f.get("table", ""),
                    "sha256": f.get("sha256", "")} for f in manifest.get("inputs", [])],
        "detectors": detectors, "skipped": skipped,
        "intro": text("method_intro", lang, n=len(detectors)),
        "ring_params": _params_text({k: v for k, v in ring_params.items() if k != "calibration"}),
        "surfaced": text("surfaced", lang, method=method, groups=groups, patterns=patterns,
                         score=f"{score:.4f}", raw=f"{_float(ring.get('score_raw')):.4f}",
                         rings=len(analysis.rings), rank=analysis.rank(ring)),
        "calibration": text("calibration", lang, pct=round(100 * score)),
        "version": manifest.get("graphfraud_version", ""),
    }


def _amount(fund: float, settings: PacketSettings, lang: str
            ) -> tuple[dict[str, Any], list[str]]:
    """The amount, its band and the words for them; why the case is major (empty: it is not)."""
    band = amount_band(fund, settings)
    band_text = BAND_TEXT[band][1 if lang == "en" else 0]
    amount = {
        "fund_paid": fund, "band": band, "band_text": band_text,
        "text": text("amount_text", lang, fund=money(fund), large=money(settings.band_large),
                     huge=money(settings.band_huge), xhuge=money(settings.band_especially_huge),
                     band=band_text),
        "setting_text": text("amount_setting", lang),
    }
    why = []
    if fund >= settings.major_amount:
        why.append(text("major_amount", lang, amount=money(settings.major_amount)))
    if settings.transferred:
        why.append(text("major_transferred", lang))
    return amount, why


def _timeline(rows: list[dict[str, Any]], lang: str) -> tuple[list[dict[str, Any]], str]:
    """Claims, fund and persons per week (spans up to 26 weeks) or per month, gaps filled."""
    days = [r["settled_at"].date() if isinstance(r.get("settled_at"), dt.datetime)
            else r.get("settled_at") for r in rows]
    known = [d for d in days if isinstance(d, dt.date)]
    if not known:
        return [], text("week", lang)
    first, last = min(known), max(known)
    weekly = (last - first).days <= 26 * 7

    def bucket(d: dt.date) -> dt.date:
        return d - dt.timedelta(days=d.weekday()) if weekly else d.replace(day=1)

    def following(b: dt.date) -> dt.date:
        if weekly:
            return b + dt.timedelta(days=7)
        if b.month == 12:
            return b.replace(year=b.year + 1, month=1)
        return b.replace(month=b.month + 1)

    acc: dict[dt.date, dict[str, Any]] = {}
    b = bucket(first)
    while b <= last:
        acc[b] = {"claims": 0, "fund": 0.0, "persons": set()}
        b = following(b)
    for r, d in zip(rows, days):
        if not isinstance(d, dt.date):
            continue
        a = acc[bucket(d)]
        a["claims"] += 1
        a["fund"] += _float(r.get("fund_paid"))
        if r.get("person_id") is not None:
            a["persons"].add(r["person_id"])
    out = [{"bucket": b.isoformat() if weekly else b.strftime("%Y-%m"), "claims": a["claims"],
            "fund_paid": round(a["fund"], 2), "persons": len(a["persons"])}
           for b, a in sorted(acc.items())]
    return out, text("week" if weekly else "month", lang)
