"""The referral packet (移送材料) of one ring, for the police, and its verification.

:func:`make_packet` writes, for one ring of an analysis, a folder and a zip beside it: the draft
涉嫌犯罪案件移送书 (referral letter, for the officer to sign), the 案件调查报告 (investigation
report: how the ring surfaced, the facts per member, the timeline, the amount and its 诈骗罪
band, suggested legal references), the 证据目录 (every evidence claim, as PDF, XLSX and CSV),
a 要情报告 for major cases, a network picture and a timeline chart, and ``manifest.json`` with
the SHA-256 of every file. :func:`verify_packet` re-checks a packet against its manifest.

Identifiers are masked by default; ``redact="none"`` gives the sealed edition for the police and
is written to the workspace's audit log.

Examples
--------
>>> from graphfraud.packet import make_packet, verify_packet        # doctest: +SKIP
>>> res = make_packet("demo/analysis", "1", "packet-1", date="2024-07-01")  # doctest: +SKIP
>>> verify_packet(res.zip)                                           # doctest: +SKIP
[]
"""

from __future__ import annotations

from graphfraud.packet.build import PacketResult, make_packet
from graphfraud.packet.content import PacketSettings, amount_band
from graphfraud.packet.figures import require_cjk_font
from graphfraud.packet.verify import verify_packet

__all__ = ["make_packet", "verify_packet", "PacketResult", "PacketSettings", "amount_band",
           "require_cjk_font"]
