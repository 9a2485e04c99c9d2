"""Masking personal identifiers, and neutralising spreadsheet cells, for anything shared.

Everything graphfraud writes for others to read (views, packets, exports) masks by default:

* identifiers of natural persons (身份证号, 个人编号, card numbers): the first 6 and last 4
  characters of an 18-character id number and of other long ids, fewer of short ones
  (``331222********7296``, ``L7***1163``);
* names of natural persons (insured persons, doctors, agency staff): the family name
  (``张*``, ``余**``);
* institutions (providers) are not persons: their codes and names stay.

``redact="none"`` gives the sealed edition (for the police), and must be recorded in the audit
log by the caller. Masked ids can coincide; never use a masked value as a key.

Examples
--------
>>> mask_id("331222197209277296")
'331222********7296'
>>> mask_id("L74531163")
'L7***1163'
>>> mask_name("张三"), mask_name("欧阳小明")
('张*', '欧阳**')
>>> neutralize_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
"""

from __future__ import annotations

from typing import Any

from graphfraud.errors import InputError

__all__ = ["REDACT_MODES", "Redactor", "mask_id", "mask_name", "neutralize_cell"]

REDACT_MODES = ("masked", "none")
#: two-character family names (复姓) kept whole when masking
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
             "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "呼延")
#: kinds of entity whose ids identify a natural person
PERSONAL_KINDS = frozenset({"person", "card"})


def mask_id(value: Any) -> str:
    """Mask an identifier: first 6 and last 4 kept from 14 characters up, fewer below."""
    s = "" if value is None else str(value)
    n = len(s)
    if n == 0:
        return ""
    if n >= 14:
        keep_head, keep_tail = 6, 4
    elif n >= 8:
        keep_head, keep_tail = 2, 4
    elif n >= 4:
        keep_head, keep_tail = 1, 2
    else:
        keep_head, keep_tail = 1, 0
    return s[:keep_head] + "*" * (n - keep_head - keep_tail) + (s[n - keep_tail:] if keep_tail else "")


def mask_name(value: Any) -> str:
    """Mask a person's name: the family name stays (``张*``; ``欧阳**``; ``J*** S****``)."""
    s = "" if value is None else str(value).strip()
    if not s:
        return ""
    if s.isascii():
        return " ".join(w[:1] + "*" * (len(w) - 1) for w in s.split())
    head = 2 if s[:2] in _COMPOUND and len(s) > 2 else 1
    return s[:head] + "*" * (len(s) - head)


def neutralize_cell(value: Any) -> Any:
    """A spreadsheet cell that could run as a formula (starts with ``= + - @``, a tab or a
    carriage return) gets a leading apostrophe; other values are returned unchanged."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class Redactor:
    """Apply one redaction mode (``masked``, the default, or ``none``) to ids and names.

    >>> r = Redactor("masked")
    >>> r.entity("person", "3312000000015129"), r.entity("provider", "H33120200531")
    ('331200******5129', 'H33120200531')
    >>> Redactor("none").name("张三")
    '张三'
    """

    def __init__(self, mode: str = "masked") -> None:
        if mode not in REDACT_MODES:
            raise InputError(f"--redact {mode!r}: choose one of {', '.join(REDACT_MODES)}")
        self.mode = mode

    @property
    def masked(self) -> bool:
        return self.mode == "masked"

    def entity(self, kind: str, value: Any) -> str:
        """An entity's id as shown: persons and cards masked, others unchanged."""
        s = "" if value is None else str(value)
        return mask_id(s) if self.masked and kind in PERSONAL_KINDS else s

    def id_number(self, value: Any) -> str:
        s = "" if value is None else str(value)
        return mask_id(s) if self.masked else s

    def name(self, value: Any) -> str:
        """A natural person's name as shown."""
        s = "" if value is None else str(value)
        return mask_name(s) if self.masked else s
