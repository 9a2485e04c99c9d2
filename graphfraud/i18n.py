"""Short names of fraud patterns and provider types, in Chinese and English, for views and packets.

``PATTERN_TEXT`` names every pattern of the data contract (§2) in a few characters, the way an
investigator would say it; :func:`pattern_text` falls back to the pattern's own name for a
pattern a newer detector adds.

>>> pattern_text("co_visit"), pattern_text("co_visit", "en")
('结伴就医', 'group visits')
>>> pattern_text("new_pattern")
'new_pattern'
"""

from __future__ import annotations

from graphfraud.errors import check_argument

__all__ = ["PATTERN_TEXT", "PROVIDER_TYPE_TEXT", "pattern_text", "check_lang", "LANGS"]

LANGS = ("zh", "en")

PATTERN_TEXT: dict[str, tuple[str, str]] = {
    "shared_card": ("一卡多人/借卡", "shared card"),
    "card_burst": ("集中刷卡", "card burst"),
    "co_visit": ("结伴就医", "group visits"),
    "dense_block": ("密集子图", "dense block"),
    "induced_admission": ("诱导住院", "induced admission"),
    "drug_resale": ("倒卖药品", "drug resale"),
    "deceased_claim": ("死亡人员就医", "claims after death"),
    "readmission": ("短期再入院", "readmission"),
    "doctor_pharmacy_collusion": ("医药勾结", "doctor–pharmacy collusion"),
    "insider_collusion": ("内外勾结", "insider collusion"),
}

PROVIDER_TYPE_TEXT: dict[str, tuple[str, str]] = {
    "hospital": ("医院", "hospital"), "clinic": ("诊所", "clinic"),
    "pharmacy": ("药店", "pharmacy"),
}


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGS`, else :class:`~graphfraud.errors.InputError`."""
    check_argument(lang in LANGS, f"--lang {lang!r}: choose one of {', '.join(LANGS)}")
    return lang


def pattern_text(pattern: str, lang: str = "zh") -> str:
    """The short name of ``pattern`` in ``lang`` (``zh`` or ``en``); the name itself if unknown."""
    names = PATTERN_TEXT.get(pattern)
    if names is None:
        return pattern
    return names[1] if lang == "en" else names[0]
