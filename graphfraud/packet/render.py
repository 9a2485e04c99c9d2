"""HTML documents from the Jinja2 templates (autoescaped), and PDF from HTML (WeasyPrint).

Every value from the data goes through autoescaping: a provider named
``<img src=x onerror=alert(1)>`` is text in the HTML and in the PDF, never markup. The PDF's
creation and modification dates come from the packet date (``dcterms.created`` /
``dcterms.modified``), so the same content gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from graphfraud.errors import GraphFraudError
from graphfraud.packet.content import CATALOGUE_COLUMNS, PacketContent, money
from graphfraud.packet.texts import TEXT, text, words

__all__ = ["render_documents", "write_pdf", "DOCUMENTS"]

#: document key -> template
DOCUMENTS = {"referral": "referral.html.j2", "report": "report.html.j2",
             "catalogue": "catalogue.html.j2", "major": "major.html.j2"}
_NUMERIC = {"total_amount", "fund_paid"}
#: widths (%) of the catalogue's columns on a landscape page
_WIDTHS = {"no": 3, "claim_id": 8, "settled_at": 7.5, "visit_type": 4, "provider_id": 7,
           "provider_name": 9, "person": 7, "person_name": 4.5, "card": 5.5, "doctor": 6,
           "staff": 5.5, "diagnosis": 4.5, "admit_date": 4.5, "discharge_date": 4.5,
           "total_amount": 5.5, "fund_paid": 5.5, "reverses": 5, "groups": 3.5}
_KEY_MEMBERS = 40


@lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("graphfraud.packet", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["money"] = money
    return env


def _page_css(lang: str) -> Markup:
    """The CSS ``content`` of the page footer: ``"第 " counter(page) " 页，共 " ...``."""
    s = TEXT["page"][1 if lang == "en" else 0]
    head, rest = s.split("{page}")
    mid, tail = rest.split("{pages}")
    parts = [f'"{head}"', "counter(page)", f'"{mid}"', "counter(pages)", f'"{tail}"']
    return Markup(" ".join(p for p in parts if p != '""'))  # constant text, no data in it


def render_documents(c: PacketContent, *, names: dict[str, str], version: str) -> dict[str, str]:
    """The HTML of each document (``referral``, ``report``, ``catalogue``, and ``major`` when
    the case is major), keyed by document.

    ``names`` gives the file names the documents refer to (``report``, ``catalogue``,
    ``catalogue_csv``, ``major``).
    """
    lang = c.lang
    t = words(lang)
    limit = c.settings.pdf_rows
    members = c.members[:limit]
    more = len(c.members) - len(members)
    key_members = [m for m in c.members if m["role"] != "member" or m["critical"]][:_KEY_MEMBERS]
    if len(key_members) < 10:
        key_members += [m for m in c.members if m not in key_members][:10 - len(key_members)]
    shown = min(limit, len(c.claims))
    common: dict[str, Any] = {
        "c": c, "t": t, "lang": lang, "version": version, "files": names,
        "edition": t["edition_masked"] if c.redact == "masked" else t["edition_sealed"],
        "stamp": stamp_of(c.date), "page_css": _page_css(lang),
        "date_text": c.date.isoformat() if lang == "en" else
        f"{c.date.year}年{c.date.month}月{c.date.day}日",
        "major_text": text("major_yes", lang, why=c.major_why) if c.major else "",
    }
    extra: dict[str, dict[str, Any]] = {
        "referral": {
            "body": text("referral_body", lang, case=c.case_name, summary=c.summary,
                         fund=money(c.fund_paid)),
            "att_catalogue": text("att_catalogue", lang, claims=c.n_claims)},
        "report": {
            "members": members, "show_id_numbers": any(m["id_number"] for m in members),
            "more_members": text("fact_more", lang, n=more) if more else "",
            "timeline_intro": text("timeline_intro", lang, unit=c.timeline_unit)},
        "catalogue": {
            "columns": [(k, t[h]) for k, h in CATALOGUE_COLUMNS], "numeric": _NUMERIC,
            "widths": _WIDTHS,
            "rows": c.claims[:shown],
            "intro": text("catalogue_intro", lang, claims=c.n_claims, groups=len(c.evidence)),
            "partial": text("catalogue_partial", lang, shown=shown, claims=c.n_claims,
                            xlsx=names["catalogue"], csv=names["catalogue_csv"])
            if shown < c.n_claims else
            text("catalogue_full", lang, xlsx=names["catalogue"], csv=names["catalogue_csv"])},
        "major": {
            "meets_text": text("major_meets", lang, why=c.major_why),
            "key_members": key_members,
            "more_members": text("fact_more", lang, n=len(c.members) - len(key_members))
            if len(c.members) > len(key_members) else ""},
    }
    out = {}
    for doc, template in DOCUMENTS.items():
        if doc == "major" and not c.major:
            continue
        out[doc] = _env().get_template(template).render(**common, **extra[doc])
    return out


#: the fixed base URL the PDF renderer sees: WeasyPrint names images by a hash of their URL,
#: so a URL with the temporary work folder in it would change the bytes from run to run
_BASE_URL = "file:///graphfraud-packet/"
_MIME = {".png": "image/png", ".css": "text/css"}


def _local_file(url: str, root: Path) -> tuple[bytes, str]:
    """The bytes and type of a packet file by its URL; anything outside the packet refused."""
    if not url.startswith(_BASE_URL):
        raise ValueError(f"{url}: the packet's documents load nothing from outside the packet")
    rel = Path(url[len(_BASE_URL):].split("?")[0])
    path = (root / rel).resolve()
    if root.resolve() not in path.parents or path.suffix not in _MIME:
        raise ValueError(f"{url}: not a file of the packet")
    return path.read_bytes(), _MIME[path.suffix]


def _fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher serving the packet's own files only (no network)."""
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):  # WeasyPrint >= 66: a fetcher class and response objects
        class PacketFetcher(urls.URLFetcher):
            def fetch(self, url: str, headers: Any = None) -> Any:
                data, mime = _local_file(url, root)
                return urls.URLFetcherResponse(url, data, {"Content-Type": mime})

        return PacketFetcher()

    def fetch(url: str) -> dict[str, Any]:  # older WeasyPrint: a function returning a dict
        data, mime = _local_file(url, root)
        return {"string": data, "mime_type": mime, "redirected_url": url}

    return fetch


def write_pdf(html: str, path: Path, *, base: Path) -> None:
    """Render ``html`` to the PDF ``path``; its images are the packet's files under ``base``."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise GraphFraudError(
            f"PDF output needs WeasyPrint and Pango ({exc}): pip install weasyprint; on "
            "Debian/Ubuntu run scripts/install-system (libpango-1.0-0, libpangoft2-1.0-0)") from exc
    weasyprint.HTML(string=html, base_url=_BASE_URL, url_fetcher=_fetcher(base)).write_pdf(path)


def stamp_of(date: dt.date) -> str:
    """The W3C date-time the documents carry for ``date``."""
    return f"{date.isoformat()}T00:00:00Z"
