"""Small file helpers shared by the loaders, the detectors' config and the packets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphfraud.errors import InputError

__all__ = ["read_yaml"]


def read_yaml(path: str | Path, option: str) -> Any:
    """The YAML document of a file given by a command-line ``option`` (``--config``), with a
    clear error for a missing file or bad YAML; ``None`` for an empty file. A UTF-8 byte-order
    mark is allowed (Windows editors write one)."""
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise InputError(f"{option} {path}: no such file") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{option} {path}: not valid UTF-8 YAML ({exc})") from exc
