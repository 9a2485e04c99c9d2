"""What the server harnesses share: skipping (or failing, in CI) when a server cannot be had,
and loading a `scripts/` server script as a module."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIRE = "GRAPHFRAUD_REQUIRE_SERVERS"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it when ``GRAPHFRAUD_REQUIRE_SERVERS=1``."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason}; {REQUIRE}=1 requires the server tests")
    pytest.skip(reason)


def load_script(path: Path, name: str) -> ModuleType:
    """A script of ``scripts/`` (no .py suffix) as a module."""
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod
