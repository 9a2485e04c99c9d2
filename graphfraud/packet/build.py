"""Making the referral packet (移送材料) of one ring: a folder and a zip beside it.

Layout (Chinese edition; the English one has English names)::

    FOLDER/
      01_涉嫌犯罪案件移送书.pdf / .html   draft referral letter, for the officer to sign
      02_案件调查报告.pdf / .html         investigation report
      03_证据目录.pdf / .html / .xlsx / .csv   evidence catalogue (all claims in xlsx/csv)
      04_要情报告.pdf / .html             major case report (major cases only)
      figures/network.png, figures/timeline.png
      manifest.json                       SHA-256 of every file, inputs, version, parameters
    FOLDER.zip                            the same files under FOLDER/, stored, sorted, dated

The folder appears whole or not at all (:func:`graphfraud.outdir.atomic_folder`). The same
analysis, ring, options and date give the same bytes. The sealed edition (``redact="none"``)
is written to the workspace's audit log (action ``packet.sealed``) before it appears.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from graphfraud.errors import InputError, OutputExistsError, check_argument
from graphfraud.i18n import check_lang
from graphfraud.loaders.sources import sha256_file
from graphfraud.outdir import atomic_folder
from graphfraud.packet.content import PacketContent, PacketSettings, gather
from graphfraud.packet.figures import network_png, require_cjk_font, timeline_png
from graphfraud.packet.render import render_documents, write_pdf
from graphfraud.packet.texts import FILE_STEMS
from graphfraud.packet.workbook import write_csv, write_workbook
from graphfraud.redact import Redactor
from graphfraud.results import Analysis, open_analysis

__all__ = ["make_packet", "PacketResult", "MANIFEST", "PACKET_FORMAT", "manifest_seal", "zip_bytes"]

MANIFEST = "manifest.json"
#: version of the packet layout, recorded in the manifest
PACKET_FORMAT = 1


@dataclass
class PacketResult:
    """What :func:`make_packet` wrote."""

    folder: Path
    zip: Path
    files: list[str]
    ring_id: str
    major: bool
    band: str
    fund_paid: float
    manifest_sha256: str
    lang: str
    redact: str
    audit: dict[str, Any] | None = field(default=None)


def _packet_date(date: dt.date | str | None) -> dt.date:
    if date is None:
        return dt.date.today()
    if isinstance(date, dt.datetime):
        return date.date()
    if isinstance(date, dt.date):
        return date
    try:
        return dt.date.fromisoformat(str(date).strip())
    except ValueError as exc:
        raise InputError(f"--date {date!r}: give the packet date as YYYY-MM-DD") from exc


def _settings(settings: PacketSettings | Mapping[str, Any] | None) -> PacketSettings:
    if settings is None:
        return PacketSettings()
    if isinstance(settings, PacketSettings):
        settings.check()
        return settings
    return PacketSettings.from_mapping(settings)


def manifest_seal(manifest: Mapping[str, Any]) -> str:
    """The seal of a manifest: SHA-256 of its canonical JSON without the ``seal`` field."""
    body = {k: v for k, v in manifest.items() if k != "seal"}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


def _tools() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("weasyprint", "matplotlib", "openpyxl", "jinja2"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = ""
    return out


def _names(lang: str, major: bool) -> dict[str, str]:
    i = 1 if lang == "en" else 0
    stem = {k: v[i] for k, v in FILE_STEMS.items()}
    names = {"referral": f"{stem['referral']}.pdf", "report": f"{stem['report']}.pdf",
             "catalogue": f"{stem['catalogue']}.xlsx", "catalogue_csv": f"{stem['catalogue']}.csv"}
    if major:
        names["major"] = f"{stem['major']}.pdf"
    return names


def zip_bytes(root: str, files: list[tuple[str, bytes]], date: dt.date) -> bytes:
    """The packet's zip: entries ``root/<path>`` sorted, stored (no compression, so the bytes
    do not depend on the zlib at hand), dated ``date``, mode 0644."""
    import io

    stamp = (max(date.year, 1980), date.month, date.day, 0, 0, 0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for rel, data in sorted(files):
            info = zipfile.ZipInfo(f"{root}/{rel}", date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            z.writestr(info, data)
    return buf.getvalue()


def make_packet(analysis: str | Path | Analysis, ring: str | int | dict[str, Any],
                out_folder: str | Path, *, lang: str = "zh", redact: str = "masked",
                settings: PacketSettings | Mapping[str, Any] | None = None,
                workspace: str | Path | None = None, date: dt.date | str | None = None,
                force: bool = False) -> PacketResult:
    """Write the referral packet of one ring.

    Parameters
    ----------
    analysis
        The analysis folder (or an opened :class:`~graphfraud.results.Analysis`).
    ring
        Ring id (``R-3f9a1c2e``), rank (``1`` = riskiest) or a ring dict of the analysis.
    out_folder
        The packet folder; the zip is written beside it as ``<out_folder>.zip``.
    lang
        ``zh`` (default) or ``en``: the edition's language and file names.
    redact
        ``masked`` (default: person and card ids, id numbers and natural persons' names
        masked) or ``none``: the sealed edition for the police, recorded in the audit log.
    settings
        :class:`PacketSettings` or a mapping of its fields (amount bands, major threshold, ...).
    workspace
        The workspace whose audit log records a sealed edition (default:
        :func:`graphfraud.workspace.default_workspace`). Not touched for a masked edition.
    date
        The packet's date (``YYYY-MM-DD``; default today). It is printed on the documents,
        dates the PDF metadata and the zip entries, and is recorded: the same date gives the
        same bytes.
    force
        Replace an existing packet folder and zip.

    Returns
    -------
    PacketResult
        Folder, zip, files (relative paths), whether the case is major, its amount band and
        the SHA-256 of its ``manifest.json``.

    Raises
    ------
    InputError
        Bad ring, language, redaction or settings; or the output exists without ``force``.
    GraphFraudError
        No Chinese font is installed (install ``fonts-noto-cjk``).
    """
    from graphfraud import __version__

    check_lang(lang)
    Redactor(redact)  # checks the mode
    a = analysis if isinstance(analysis, Analysis) else open_analysis(analysis)
    r = a.ring(ring["ring_id"]) if isinstance(ring, dict) else a.ring(ring)
    conf = _settings(settings)
    day = _packet_date(date)
    out = Path(out_folder)
    check_argument(out.name not in ("", ".", ".."), f"--out {out_folder}: give a folder name")
    zip_path = out.with_name(out.name + ".zip")
    if zip_path.exists() and not force:
        raise OutputExistsError(f"{zip_path}: the packet zip exists; choose another --out or add "
                                "--force to replace it")
    if out.exists() and not force:
        raise OutputExistsError(f"{out}: the output folder exists; choose another --out or add "
                                "--force to replace it")
    ws = None
    if redact == "none":
        from graphfraud.workspace import Workspace

        ws = Workspace(workspace)  # fails now, not after the work, when it cannot be used
    font = require_cjk_font()
    content = gather(a, r, lang=lang, redact=redact, settings=conf, date=day)
    names = _names(lang, content.major)

    zip_tmp = zip_path.with_name(f".{zip_path.name}.partial-{os.getpid()}")
    audit_entry = None
    try:
        with atomic_folder(out, force=force) as work:
            files = _write_documents(a, r, content, work, names=names, font=font,
                                     version=__version__)
            manifest = _manifest(a, r, content, work, files=files, version=__version__)
            raw = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
            (work / MANIFEST).write_bytes(raw)
            manifest_sha = hashlib.sha256(raw).hexdigest()
            everything = sorted(files + [MANIFEST])
            contents = [(f, (work / f).read_bytes()) for f in everything]
            zip_tmp.write_bytes(zip_bytes(out.name, contents, day))
            if ws is not None:
                audit_entry = ws.audit("packet.sealed", target=r["ring_id"], details={
                    "out": str(out.resolve()), "zip": str(zip_path.resolve()),
                    "manifest_sha256": manifest_sha,
                    "lang": lang, "analysis": str(a.path), "date": day.isoformat()})
        os.replace(zip_tmp, zip_path)
    finally:
        if zip_tmp.exists():
            zip_tmp.unlink()
    return PacketResult(folder=out, zip=zip_path, files=everything, ring_id=r["ring_id"],
                        major=content.major, band=content.amount["band"],
                        fund_paid=content.fund_paid, manifest_sha256=manifest_sha, lang=lang,
                        redact=redact, audit=audit_entry)


def _write_documents(a: Analysis, ring: dict[str, Any], c: PacketContent, work: Path, *,
                     names: dict[str, str], font: str, version: str) -> list[str]:
    """Write figures, HTML + PDF documents, workbook and CSV into ``work``; their paths."""
    (work / "figures").mkdir()
    network_png(a, ring, c, work / "figures" / "network.png", font=font)
    timeline_png(c, work / "figures" / "timeline.png", font=font)
    files = ["figures/network.png", "figures/timeline.png"]
    i = 1 if c.lang == "en" else 0
    for doc, html in render_documents(c, names=names, version=version).items():
        stem = FILE_STEMS[doc][i]
        (work / f"{stem}.html").write_text(html, encoding="utf-8")
        write_pdf(html, work / f"{stem}.pdf", base=work)
        files += [f"{stem}.html", f"{stem}.pdf"]
    write_workbook(c, work / names["catalogue"])
    write_csv(c, work / names["catalogue_csv"])
    files += [names["catalogue"], names["catalogue_csv"]]
    return sorted(files)


def _manifest(a: Analysis, ring: dict[str, Any], c: PacketContent, work: Path, *,
              files: list[str], version: str) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "packet": PACKET_FORMAT,
        "graphfraud_version": version,
        "ring_id": ring["ring_id"],
        "date": c.date.isoformat(),
        "edition": "masked" if c.redact == "masked" else "sealed",
        # the analysis is identified by content (rings.json, the inputs' hashes), not by where
        # it lies nor by its run's timings, so that re-running the same analysis elsewhere
        # gives the same packet bytes
        "parameters": {"analysis": a.path.name, "ring": ring["ring_id"], "lang": c.lang,
                       "redact": c.redact, "date": c.date.isoformat(),
                       "settings": c.settings.to_json()},
        "analysis": {
            "graphfraud_version": a.manifest.get("graphfraud_version"),
            "rings_json_sha256": sha256_file(a.path / "rings.json"),
            "rank": c.rank, "rings": c.n_rings,
            "parameters": {k: v for k, v in (a.manifest.get("parameters") or {}).items()
                           if k != "input"},
        },
        "inputs": [{"table": f.get("table"), "file": f.get("file"), "sha256": f.get("sha256")}
                   for f in a.manifest.get("inputs", [])],
        "ring": {"score": ring.get("score"), "score_raw": ring.get("score_raw"),
                 "patterns": ring.get("patterns"), "fund_paid": ring.get("fund_paid"),
                 "claims": ring.get("claims"), "period": ring.get("period")},
        "amount_band": c.amount["band"],
        "major": c.major,
        "tools": _tools(),
        "files": [{"path": f, "bytes": (work / f).stat().st_size, "sha256": sha256_file(work / f)}
                  for f in sorted(files)],
    }
    manifest["seal"] = manifest_seal(manifest)
    return manifest
