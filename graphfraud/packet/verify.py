"""Checking a referral packet (folder or zip) against its manifest.

``verify_packet`` reports, as plain sentences, every file changed (its SHA-256 differs from
the manifest's), missing or added, a manifest edited by hand (its ``seal`` no longer matches)
and, for the zip, any byte changed anywhere in the archive: the packet's zip is canonical
(sorted, stored, dated entries), so it is rebuilt from its own entries and compared byte for
byte. A manifest rewritten together with its seal is caught only against a hash recorded
elsewhere: pass ``manifest_sha256`` (the sealed edition's audit entry records it).

Examples
--------
>>> verify_packet("packet-R-3f9a1c2e")          # doctest: +SKIP
[]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graphfraud.errors import InputError
from graphfraud.packet.build import MANIFEST, manifest_seal, zip_bytes

__all__ = ["verify_packet"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_packet(path: str | Path, *, manifest_sha256: str | None = None) -> list[str]:
    """Problems found in the packet at ``path`` (its folder or its zip); empty when intact.

    Parameters
    ----------
    path
        The packet folder or the ``.zip`` beside it.
    manifest_sha256
        The SHA-256 of the packet's ``manifest.json`` as recorded elsewhere (the audit log,
        the officer's note): a manifest that differs from it is reported.

    Raises
    ------
    InputError
        ``path`` is neither a folder nor a zip file.
    """
    path = Path(path)
    if path.is_dir():
        return _verify_folder(path, manifest_sha256)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            return [f"{path}: not a readable zip file (damaged, or not a packet)"]
        return _verify_zip(path, manifest_sha256)
    raise InputError(f"{path}: no such packet folder or zip; give the folder written by "
                     "graphfraud packet, or the .zip beside it")


def _verify_folder(root: Path, expect: str | None) -> list[str]:
    present: dict[str, Path] = {}
    for dirpath, _dirs, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            present[p.relative_to(root).as_posix()] = p
    return _check(present.keys(), lambda rel: present[rel].read_bytes(), expect, where=str(root))[0]


def _verify_zip(path: Path, expect: str | None) -> list[str]:
    problems: list[str] = []
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"{path}: not a readable zip file ({exc})"]
    with z:
        infos = z.infolist()
        roots = {i.filename.split("/", 1)[0] for i in infos}
        if len(roots) != 1 or any("/" not in i.filename or i.is_dir() for i in infos):
            return [f"{path}: expected every entry inside one packet folder; found "
                    f"{', '.join(sorted(roots)) or 'no entries'}"]
        root = roots.pop()
        names = [i.filename[len(root) + 1:] for i in infos]
        if len(set(names)) != len(names):
            problems.append(f"{path}: some entries appear twice")
        contents: dict[str, bytes] = {}
        for info, rel in zip(infos, names):
            try:
                contents[rel] = z.read(info)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                problems.append(f"{path}: {rel}: damaged in the zip ({exc})")
    found, manifest = _check(contents.keys(), lambda rel: contents[rel], expect,
                             where=f"{path}", unreadable=set(names) - set(contents))
    problems += found
    if not problems and manifest is not None:
        try:
            day = dt.date.fromisoformat(str(manifest.get("date")))
        except ValueError:
            return problems + [f"{path}: manifest.json has no valid date"]
        if zip_bytes(root, sorted(contents.items()), day) != path.read_bytes():
            problems.append(f"{path}: the zip's bytes differ from the packet's canonical zip of "
                            "the same files (its headers, names or layout were changed)")
    return problems


def _check(present: Any, read: Callable[[str], bytes], expect: str | None, *, where: str,
           unreadable: set[str] | None = None) -> tuple[list[str], dict[str, Any] | None]:
    """Compare the files present with the manifest; the problems and the manifest read."""
    problems: list[str] = []
    present = set(present) | set(unreadable or ())
    if MANIFEST not in present:
        return [f"{where}: {MANIFEST} is missing (not a packet, or it was removed)"], None
    if MANIFEST in (unreadable or ()):
        return [f"{where}: {MANIFEST} cannot be read"], None
    raw = read(MANIFEST)
    if expect is not None and _sha(raw) != expect.lower():
        problems.append(f"{where}: {MANIFEST} is not the one recorded (SHA-256 {_sha(raw)}, "
                        f"recorded {expect})")
    try:
        manifest = json.loads(raw.decode("utf-8"))
        listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        return problems + [f"{where}: {MANIFEST} is damaged ({exc})"], None
    if manifest.get("seal") != manifest_seal(manifest):
        problems.append(f"{where}: {MANIFEST} was changed (its seal does not match its content)")
    for rel in sorted(listed):
        if rel not in present:
            problems.append(f"{where}: {rel} is missing")
        elif rel in (unreadable or ()):
            continue
        elif _sha(read(rel)) != listed[rel]:
            problems.append(f"{where}: {rel} was changed (its SHA-256 differs from the manifest)")
    for rel in sorted(present - set(listed) - {MANIFEST}):
        problems.append(f"{where}: {rel} is not in the manifest (added)")
    return problems, manifest
