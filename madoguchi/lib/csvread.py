"""Decide how a CSV file from a ward is encoded, by one exact rule, or refuse it.

The rule (formats.md §1, issue 2): a UTF-8 BOM means UTF-8; otherwise strict UTF-8;
otherwise strict CP932 (what Excel on Japanese Windows writes). Never the ``shift_jis``
codec: it cannot read 髙, ①, ～ and maps 0x8160 to a different character. Refused with the
reason in Japanese: UTF-16 (with or without BOM), binary data (NUL or control bytes), a file
whose lines mix UTF-8 and CP932, EUC-JP, and bytes that are neither.

The check is made line by line on the raw bytes. That is exact for both encodings (a
line break byte never occurs inside a UTF-8 or CP932 character) and lets ``open_csv_text``
scan a 100 MB file in one streaming pass, keeping memory flat.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from madoguchi.lib.errors import InputError

__all__ = ["EncodingSniffer", "detect_and_decode", "open_csv_text"]

UTF8_SIG = "utf-8-sig"
UTF8 = "utf-8"
CP932 = "cp932"

_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")
_RESAVE = "UTF-8 または Shift_JIS（CP932）で保存し直してください。"


def _looks_like_utf16(sample: bytes) -> bool:
    # Digits, commas and line breaks in UTF-16 carry a NUL byte, always on the same side.
    nuls = sample.count(0)
    if nuls < 2 or nuls * 20 < len(sample):
        return False
    even = sample[0::2].count(0)
    return max(even, nuls - even) * 10 >= nuls * 9


@dataclass
class EncodingSniffer:
    """Feeds raw lines, then names the encoding or raises ``InputError``."""

    has_bom: bool = False
    line_number: int = 0
    first_utf8_line: int | None = None
    first_cp932_line: int | None = None
    cp932_also_euc: bool = True
    non_ascii_chars: int = 0
    halfwidth_kana: int = 0
    _pending: list[bytes] = field(default_factory=list)

    def start(self, head: bytes) -> None:
        """Look at the first bytes of the file (before any ``feed``) for BOMs and UTF-16."""
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
            raise InputError(f"UTF-16 のファイルは読み込めません。{_RESAVE}", code="utf16", line=1)
        if _looks_like_utf16(head[:4096]):
            raise InputError(f"UTF-16 のファイルは読み込めません。{_RESAVE}", code="utf16", line=1)
        self.has_bom = head.startswith(codecs.BOM_UTF8)

    def feed(self, line: bytes) -> None:
        self.line_number += 1
        if self.line_number == 1 and self.has_bom:
            line = line[len(codecs.BOM_UTF8) :]
        if _CONTROL_BYTES.search(line):
            raise InputError(
                "制御文字またはバイナリデータが含まれています。CSV ファイルを選んでください。",
                code="binary",
                line=self.line_number,
            )
        if line.isascii():
            return
        try:
            line.decode(UTF8)
        except UnicodeDecodeError:
            pass
        else:
            if self.first_utf8_line is None:
                self.first_utf8_line = self.line_number
            return
        if self.has_bom:
            raise InputError(
                f"UTF-8 として読めない文字があります（BOM 付きのファイルです）。{_RESAVE}",
                code="invalid_utf8",
                line=self.line_number,
            )
        try:
            text = line.decode(CP932)
        except UnicodeDecodeError:
            raise InputError(
                f"文字コードを判定できません（UTF-8 でも Shift_JIS（CP932）でもありません）。{_RESAVE}",
                code="unknown_encoding",
                line=self.line_number,
            ) from None
        if self.first_cp932_line is None:
            self.first_cp932_line = self.line_number
        if self.cp932_also_euc:  # only worth counting while the file could still be EUC-JP
            try:
                line.decode("euc_jp")
            except UnicodeDecodeError:
                self.cp932_also_euc = False
            else:
                self.non_ascii_chars += len(text) - len(text.encode("ascii", "ignore"))
                self.halfwidth_kana += len(_HALFWIDTH_KANA.findall(text))

    def result(self) -> str:
        """The codec to read the file with: ``utf-8-sig``, ``utf-8`` or ``cp932``."""
        if self.has_bom:
            return UTF8_SIG
        if self.first_cp932_line is None:
            return UTF8
        if self.first_utf8_line is not None:
            raise InputError(
                "1つのファイルに UTF-8 の行と Shift_JIS（CP932）の行が混在しています"
                f"（{self.first_utf8_line}行目は UTF-8、{self.first_cp932_line}行目は Shift_JIS）。{_RESAVE}",
                code="mixed_encoding",
                line=max(self.first_utf8_line, self.first_cp932_line),
            )
        if self.cp932_also_euc and self.halfwidth_kana * 2 > self.non_ascii_chars:
            # EUC-JP read as CP932 turns into half-width katakana without any error.
            raise InputError(
                f"EUC-JP のファイルと思われます。{_RESAVE}", code="euc_jp", line=self.first_cp932_line
            )
        return CP932


def _sniff_lines(head: bytes, lines: Iterable[bytes]) -> str:
    sniffer = EncodingSniffer()
    sniffer.start(head)
    for line in lines:
        sniffer.feed(line)
    return sniffer.result()


def detect_and_decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) for the bytes of a CSV file; ``InputError`` with the reason otherwise.

    The BOM is not part of the text, so the first header is read correctly.
    """
    encoding = _sniff_lines(data[:4096], data.splitlines(keepends=True))
    return data.decode(encoding), encoding


def open_csv_text(path: str | Path) -> tuple[TextIO, str]:
    """Sniff a file's encoding in one streaming pass, then open it as text for ``csv``.

    Returns an open text stream (``newline=""``, as the csv module wants) positioned at the
    start, BOM skipped; the caller closes it.
    """
    with open(path, "rb") as raw:
        head = raw.read(4096)
        raw.seek(0)
        encoding = _sniff_lines(head, raw)
    return open(path, encoding=encoding, errors="strict", newline=""), encoding
