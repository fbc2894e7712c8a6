"""Inline target lists for tests: synthetic names only."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from madoguchi.registry.importing.fields import TARGET_LIST_HEADER

HEADER = list(TARGET_LIST_HEADER)


def row(number: str = "H001", **values: str) -> dict[str, str]:
    base = {
        "世帯番号": number,
        "児童氏名": "試験　太郎",
        "児童氏名カナ": "シケン　タロウ",
        "児童生年月日": "2020-05-03",
        "保護者氏名": "試験　花子",
        "保護者氏名カナ": "シケン　ハナコ",
        "保護者生年月日": "1990-01-02",
        "郵便番号": "154-0004",
        "住所": "東京都世田谷区太子堂四丁目1番1号",
        "電話番号": "090-1234-5678",
        "メールアドレス": "hanako@example.jp",
    }
    base.update(values)
    return base


def quote(cell: str) -> str:
    if any(ch in cell for ch in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def csv_text(rows: Sequence[dict[str, str]], header: Sequence[str] = HEADER, newline: str = "\r\n") -> str:
    lines = [",".join(quote(name) for name in header)]
    lines.extend(",".join(quote(r.get(name, "")) for name in header) for r in rows)
    return newline.join(lines) + newline


def csv_bytes(
    rows: Sequence[dict[str, str]], header: Sequence[str] = HEADER, encoding: str = "utf-8-sig"
) -> bytes:
    return csv_text(rows, header).encode(encoding)


def write(tmp_path: Path, data: bytes, name: str = "targets.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def temp_csv(data: bytes) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)  # noqa: SIM115
    handle.write(data)
    handle.close()
    return Path(handle.name)
