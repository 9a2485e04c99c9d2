"""Match a file's column names to the contract's canonical columns.

Order (contract §1): a ``--mapping`` YAML file first, then the canonical English names, then
the aliases (Chinese labels and platform field codes). Names are compared after trimming
white space (including the full-width space U+3000); ASCII letters ignore case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from graphfraud.errors import InputError
from graphfraud.files import read_yaml
from graphfraud.loaders.schema import TABLES, TableSpec

__all__ = ["ColumnMatch", "load_mapping", "match_columns", "missing_column_message"]

_SPACES = " \t\r\n\u3000\ufeff"


def _key(name: str) -> str:
    return name.strip(_SPACES).lower()


@dataclass
class ColumnMatch:
    """How one file's columns map to canonical columns."""

    #: canonical column -> index of the source column
    index: dict[str, int] = field(default_factory=dict)
    #: canonical column -> the source column's name as written
    source: dict[str, str] = field(default_factory=dict)
    #: source columns not used by the analysis
    unknown: list[str] = field(default_factory=list)
    #: notes for the run's report (a second column for the same canonical one, ...)
    notes: list[str] = field(default_factory=list)


def load_mapping(path: Path | str | None) -> dict[str, dict[str, str]]:
    """Read a ``--mapping`` YAML file: ``table: {source_column: canonical_column}``.

    Raises :class:`InputError` naming the file and the entry when it is not of that form or
    names a table or column the contract does not have.
    """
    if path is None:
        return {}
    path = Path(path)
    data = read_yaml(path, "--mapping")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"--mapping {path}: expected 'table: {{source_column: canonical_column}}'")
    problems: list[str] = []
    mapping: dict[str, dict[str, str]] = {}
    for table, columns in data.items():
        spec = TABLES.get(str(table).strip().lower())
        if spec is None:
            problems.append(f"--mapping {path}: unknown table '{table}' "
                            f"(tables: {', '.join(TABLES)})")
            continue
        if not isinstance(columns, dict):
            problems.append(f"--mapping {path}: table '{table}' must map source columns to "
                            "canonical columns")
            continue
        names = {c.name for c in spec.columns}
        for source, canonical in columns.items():
            if str(canonical).strip() not in names:
                problems.append(
                    f"--mapping {path}: '{table}.{source}' maps to '{canonical}', which is not a "
                    f"column of {spec.name} (columns: {', '.join(c.name for c in spec.columns)})")
                continue
            mapping.setdefault(spec.name, {})[_key(str(source))] = str(canonical).strip()
    if problems:
        raise InputError("; ".join(problems), problems)
    return mapping


def match_columns(spec: TableSpec, headers: list[str],
                  mapping: dict[str, str] | None = None) -> ColumnMatch:
    """Map ``headers`` (as written in the file) to the canonical columns of ``spec``."""
    mapping = mapping or {}
    # candidates: (canonical column, priority) for each source column
    rank: dict[str, dict[str, int]] = {}
    for column in spec.columns:
        keys = {column.name.lower(): 100}
        for i, alias in enumerate(column.aliases):
            keys.setdefault(_key(alias), 200 + i)
        rank[column.name] = keys
    result = ColumnMatch()
    best: dict[str, tuple[int, int]] = {}  # canonical -> (priority, source index)
    for index, header in enumerate(headers):
        key = _key(header)
        choice: tuple[str, int] | None = None
        if key in mapping:
            choice = (mapping[key], 0)
        else:
            for canonical, keys in rank.items():
                if key in keys:
                    choice = (canonical, keys[key])
                    break
        if choice is None:
            result.unknown.append(header)
            continue
        canonical, priority = choice
        previous = best.get(canonical)
        if previous is None or priority < previous[0]:
            if previous is not None:
                result.notes.append(
                    f"{spec.name}: columns '{headers[previous[1]]}' and '{header}' both mean "
                    f"{canonical}; using '{header}'")
            best[canonical] = (priority, index)
        else:
            result.notes.append(
                f"{spec.name}: columns '{headers[previous[1]]}' and '{header}' both mean "
                f"{canonical}; using '{headers[previous[1]]}'")
    for canonical, (_, index) in best.items():
        result.index[canonical] = index
        result.source[canonical] = headers[index]
    return result


def missing_column_message(spec: TableSpec, path: Path, headers: list[str],
                           missing: list[str]) -> list[str]:
    """One message per missing required column: file, column, aliases, what was found."""
    found = ", ".join(repr(h) for h in headers) or "no columns"
    messages = []
    for name in missing:
        column = spec.column(name)
        aliases = ", ".join(column.aliases)
        messages.append(
            f"{path}: required column '{name}' ({column.meaning or spec.name}) is missing. "
            f"Accepted names: {name}, {aliases}. Columns found: {found}. "
            f"Rename the column, or map it with --mapping (YAML: {spec.name}: {{your_column: {name}}})."
        )
    return messages
