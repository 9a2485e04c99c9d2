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

import re
from typing import Any, Callable, Iterable

from graphfraud.errors import InputError

__all__ = ["REDACT_MODES", "Redactor", "mask_id", "mask_name", "neutralize_cell", "scrub_tree"]

REDACT_MODES = ("masked", "none")
#: two-character family names (复姓) kept whole when masking
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
             "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "呼延")
#: kinds of entity whose ids identify a natural person
PERSONAL_KINDS = frozenset({"person", "card"})
#: long digit runs in free text: id numbers (18, last may be X), personal and card numbers
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{14,17}[0-9Xx](?![0-9A-Za-z])")


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


def scrub_tree(obj: Any, scrub: Callable[[str], str]) -> Any:
    """``scrub`` applied to every string (keys too) in nested dicts and lists."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {scrub_tree(k, scrub): scrub_tree(v, scrub) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub_tree(v, scrub) for v in obj]
    return obj


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

    def scrubber(self, people: Iterable[tuple[str, str, str | None]] = ()) -> Callable[[str], str]:
        """A function masking free text (evidence summaries, group ids): every id and name of
        ``people`` (``(kind, id, name)``, e.g. a ring's members with their names and id
        numbers as kind ``id_number``) and any run of 15 to 18 digits. Identity when the
        mode is ``none``.

        >>> scrub = Redactor().scrubber([("card", "L74531163", None), ("person", "P1", "张三")])
        >>> scrub("卡 L74531163 被 张三 等使用；身份证 331222197209277296")
        '卡 L7***1163 被 张* 等使用；身份证 331222********7296'
        """
        if not self.masked:
            return lambda text: text
        table: dict[str, str] = {}
        for kind, value, name in people:
            if value and (kind in PERSONAL_KINDS or kind == "id_number"):
                table[str(value)] = mask_id(value)
            if name and kind != "provider":
                table[str(name)] = mask_name(name)
        keys = sorted((k for k in table if len(k) >= 2), key=lambda k: (-len(k), k))
        pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

        def scrub(text: str) -> str:
            if not text:
                return text
            if pattern is not None:
                text = pattern.sub(lambda m: table[m.group(0)], text)
            return _LONG_NUMBER.sub(lambda m: mask_id(m.group(0)), text)

        return scrub
