"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from claimsfixtures import CANONICAL_HEADER, good_claims, write_csv


@pytest.fixture
def canonical_claims(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "in" / "claims.csv", CANONICAL_HEADER, good_claims())
