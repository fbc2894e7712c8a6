"""Read a target-list CSV: encoding, header, every row checked, valid rows staged.

The file is read twice, streaming, so memory stays flat whatever its size: once as bytes (its
SHA-256, and its encoding by the rule of `madoguchi.lib.csvread`), then as CSV text, row by
row. Valid rows go into a staging table (a throw-away SQLite file, R-30), from which the
version comparison and the write read them back grouped by household. Nothing here touches
the application's database.

Row numbers in problems are the spreadsheet's: the header is row 1, the first child row 2.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from madoguchi.lib.csvread import EncodingSniffer
from madoguchi.lib.errors import InputError
from madoguchi.programs.models import Program
from madoguchi.registry.importing import fields as F

# A physical line longer than this cannot be a child's row (the longest legitimate row is a
# few hundred characters): refuse at once instead of reading a 10 MB "name" into memory.
MAX_LINE_BYTES = 64 * 1024
MAX_PROBLEMS = 1000
STAGE_BATCH = 2000

csv.field_size_limit(MAX_LINE_BYTES * 4)


class Progress(Protocol):
    def phase(self, label: str, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...


class NoProgress:
    def phase(self, label: str, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row (header = 1); None for the whole file
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(row=data.get("row"), column=data.get("column", ""), reason=data.get("reason", ""))


@dataclass
class Problems:
    """Every problem counted; the first MAX_PROBLEMS kept for the report."""

    items: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, row: int | None, column: str, reason: str) -> None:
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(row, column, reason))

    def __bool__(self) -> bool:
        return self.total > 0


# The staged row: the canonical values of one child row, in this order.
STAGE_COLUMNS = (
    "row_no",
    "number",
    "eligible",
    "c_name",
    "c_kana",
    "c_dob",
    "g_name",
    "g_kana",
    "g_dob",
    "postal",
    "address",
    "phone",
    "email",
)
# Columns of the guardian and address, which all rows of one household share.
HOUSEHOLD_PART = ("g_name", "g_kana", "g_dob", "postal", "address", "phone", "email")
HOUSEHOLD_PART_LABELS = {
    "g_name": "保護者氏名",
    "g_kana": "保護者氏名カナ",
    "g_dob": "保護者生年月日",
    "postal": "郵便番号",
    "address": "住所",
    "phone": "電話番号",
    "email": "メールアドレス",
}


class Staging:
    """A temporary SQLite file holding the valid rows; removed by `close()`."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="mdg-staging-", suffix=".sqlite3")
        os.close(handle)
        self.path = Path(name)
        self.db = sqlite3.connect(name)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute(f"CREATE TABLE rows ({', '.join(STAGE_COLUMNS)})")
        self._pending: list[tuple[Any, ...]] = []

    def add(self, row: tuple[Any, ...]) -> None:
        self._pending.append(row)
        if len(self._pending) >= STAGE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            marks = ", ".join("?" for _ in STAGE_COLUMNS)
            self.db.executemany(f"INSERT INTO rows VALUES ({marks})", self._pending)  # noqa: S608
            self._pending = []

    def row(self, row_no: int) -> dict[str, Any]:
        self.flush()
        cursor = self.db.execute("SELECT * FROM rows WHERE row_no = ?", (row_no,))
        values = cursor.fetchone()
        return dict(zip(STAGE_COLUMNS, values, strict=True))

    def grouped(self) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
        """(number, rows) per household, eligible rows only, ordered by number then row."""
        self.flush()
        cursor = self.db.execute(
            f"SELECT {', '.join(STAGE_COLUMNS)} FROM rows WHERE eligible = 1 ORDER BY number, row_no"  # noqa: S608
        )
        current: str | None = None
        rows: list[tuple[Any, ...]] = []
        for values in cursor:
            if values[1] != current:
                if current is not None:
                    yield current, rows
                current, rows = values[1], []
            rows.append(values)
        if current is not None:
            yield current, rows

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)


@dataclass
class FileFacts:
    sha256: str = ""
    size_bytes: int = 0
    encoding: str = ""


@dataclass
class ReadResult:
    facts: FileFacts
    problems: Problems
    staging: Staging | None
    row_count: int = 0
    ineligible_rows: list[int] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)


def sniff(path: Path, facts: FileFacts, progress: Progress) -> None:
    """Hash the bytes and name the encoding; `InputError` (with `.line`) when refused.

    The hash covers the whole file even when it is refused, so the refusal is recorded
    against the file it was.
    """
    digest = hashlib.sha256()
    sniffer = EncodingSniffer()
    facts.size_bytes = path.stat().st_size
    progress.phase("文字コードの確認", facts.size_bytes)
    refusal: InputError | None = None
    with path.open("rb") as raw:
        head = raw.read(4096)
        raw.seek(0)
        try:
            sniffer.start(head)
        except InputError as error:
            refusal = error
        line_number = 0
        while True:
            line = raw.readline(MAX_LINE_BYTES + 1)
            if not line:
                break
            digest.update(line)
            progress.advance(len(line))
            if refusal is not None:
                continue
            line_number += 1
            try:
                if len(line) > MAX_LINE_BYTES:
                    raise InputError(
                        f"1行が長すぎます（{MAX_LINE_BYTES:,}バイトを超えています）。"
                        "項目の長さの上限を超える値があります。",
                        code="line_too_long",
                        line=line_number,
                    )
                sniffer.feed(line)
            except InputError as error:
                refusal = error
    facts.sha256 = digest.hexdigest()
    if refusal is not None:
        raise refusal
    facts.encoding = sniffer.result()


def _header(
    names: Sequence[str], program: Program, drop: set[str], problems: Problems
) -> tuple[dict[str, int], list[str]]:
    """{column name: index} of the columns to read; problems for refused columns."""
    index: dict[str, int] = {}
    dropped: list[str] = []
    for position, raw_name in enumerate(names):
        name = raw_name.strip(" \u3000\t")
        if name in drop:
            dropped.append(name)
            continue
        if not name:
            continue  # a blank header cell: its values are checked to be blank
        column = F.COLUMN_BY_NAME.get(name)
        if column is None:
            problems.add(
                1,
                name,
                "対象者一覧の項目ではない列です。承認されていない個人情報は取り込めません"
                "（不要な列であれば、明示して除外してください）。",
            )
            continue
        if not program.approves(column.item):
            problems.add(
                1,
                name,
                "この事業で記録を承認されていない項目です（不要な列であれば、明示して除外してください）。",
            )
            continue
        if name in index:
            problems.add(1, name, "同じ名前の列が2つあります。")
            continue
        index[name] = position
    for column in F.COLUMNS:
        if column.required and column.name not in index:
            if column.name in drop:
                problems.add(1, column.name, "必須の列は除外できません。")
            elif program.approves(column.item):
                problems.add(1, column.name, "必須の列がありません。")
    return index, dropped


@dataclass
class _RowChecker:
    program: Program
    today: datetime.date
    problems: Problems
    # Rows of one household repeat the guardian and address: checked once per distinct value.
    _household_cache: dict[tuple[str, ...], tuple[tuple[Any, ...], list[tuple[str, str]]]] = field(
        default_factory=dict
    )

    def value(self, row_no: int, column: str, raw: str, check: Callable[[str], Any]) -> Any:
        spec = F.COLUMN_BY_NAME[column]
        try:
            F.check_length(raw, spec)
            return check(raw)
        except InputError as error:
            self.problems.add(row_no, column, error.message)
            return None

    def dob(self, row_no: int, column: str, raw: str) -> datetime.date | None:
        value = self.value(row_no, column, raw, F.birth_date)
        if value is not None:
            try:
                F.check_not_future(value, self.today)
            except InputError as error:
                self.problems.add(row_no, column, error.message)
                return None
        return value

    def household_part(self, row_no: int, raw: tuple[str, ...]) -> tuple[Any, ...] | None:
        cached = self._household_cache.get(raw)
        if cached is None:
            local = Problems()
            checker = _RowChecker(self.program, self.today, local)
            g_name, g_kana, g_dob, postal, addr, phone, email = raw
            values = (
                checker.value(row_no, "保護者氏名", g_name, F.person_name),
                checker.value(row_no, "保護者氏名カナ", g_kana, F.kana),
                checker.dob(row_no, "保護者生年月日", g_dob),
                checker.value(row_no, "郵便番号", postal, F.postal_code),
                checker.value(row_no, "住所", addr, F.address),
                checker.value(row_no, "電話番号", phone, F.phone),
                checker.value(row_no, "メールアドレス", email, F.email),
            )
            cached = (values, [(problem.column, problem.reason) for problem in local.items])
            if len(self._household_cache) > 4096:
                self._household_cache.clear()
            self._household_cache[raw] = cached
        values, found = cached
        for column, reason in found:
            self.problems.add(row_no, column, reason)
        return None if found else values


def read_file(
    path: Path,
    program: Program,
    *,
    drop_columns: Sequence[str] = (),
    progress: Progress | None = None,
    today: datetime.date | None = None,
) -> ReadResult:
    """Check the whole file; stage its valid rows when it has no problem so far."""
    progress = progress or NoProgress()
    facts = FileFacts()
    problems = Problems()
    result = ReadResult(facts=facts, problems=problems, staging=None)
    try:
        sniff(path, facts, progress)
    except InputError as error:
        problems.add(error.line, "", error.message)
        return result
    if facts.size_bytes == 0:
        problems.add(None, "", "ファイルが空です。")
        return result

    drop = {name.strip() for name in drop_columns if name.strip()}
    staging = Staging()
    result.staging = staging
    today = today or datetime.date.today()
    checker = _RowChecker(program, today, problems)
    # The guardian-and-address fingerprint of each household's first row: rows of one
    # household must agree (formats.md §1). A hash keeps this small for 100,000 rows.
    households: dict[str, tuple[int, int]] = {}

    try:
        progress.phase("行の確認", facts.size_bytes)
        with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=facts.encoding, newline="") as handle:
            reader = csv.reader(handle)
            try:
                header = next(reader)
            except StopIteration:
                problems.add(None, "", "見出し行がありません。")
                return result
            except csv.Error:
                problems.add(1, "", "見出し行を CSV として読めません。")
                return result
            index, result.dropped_columns = _header(header, program, drop, problems)
            result.columns = [name for name in index]
            if problems:
                return result  # the header decides what the rows mean: stop here
            blank_positions = [
                position
                for position, name in enumerate(header)
                if not name.strip(" \u3000\t") and name.strip() not in drop
            ]
            width = len(header)
            at = {column.name: index.get(column.name, width) for column in F.COLUMNS}
            read_bytes = 0
            row_no = 1
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    problems.add(
                        row_no + 1, "", 'CSV として読めない行です（引用符 " の対応を確かめてください）。'
                    )
                    break
                row_no += 1
                if row_no % 1000 == 0:
                    position = raw.tell()
                    progress.advance(max(0, position - read_bytes))
                    read_bytes = max(read_bytes, position)
                if not any(cell.strip(" \u3000\t") for cell in record):
                    continue  # a blank line (Excel leaves some at the end); its number still counts
                result.row_count += 1
                if len(record) > width:
                    problems.add(row_no, "", "見出し行より項目が多い行です。")
                    continue
                for position in blank_positions:
                    if position < len(record) and record[position].strip():
                        problems.add(row_no, f"{position + 1}列目", "見出しのない列に値があります。")
                # Missing columns (optional, or a short row) read the empty sentinel at `width`.
                if len(record) < width:
                    record.extend([""] * (width - len(record)))
                record.append("")
                number = checker.value(row_no, "世帯番号", record[at["世帯番号"]], F.household_number)
                c_name = checker.value(row_no, "児童氏名", record[at["児童氏名"]], F.person_name)
                c_kana = checker.value(row_no, "児童氏名カナ", record[at["児童氏名カナ"]], F.kana)
                c_dob = checker.dob(row_no, "児童生年月日", record[at["児童生年月日"]])
                part = checker.household_part(
                    row_no,
                    (
                        record[at["保護者氏名"]],
                        record[at["保護者氏名カナ"]],
                        record[at["保護者生年月日"]],
                        record[at["郵便番号"]],
                        record[at["住所"]],
                        record[at["電話番号"]],
                        record[at["メールアドレス"]],
                    ),
                )
                if number is None or c_name is None or c_kana is None or c_dob is None or part is None:
                    continue
                eligible = program.is_child_eligible(c_dob)
                if not eligible:
                    result.ineligible_rows.append(row_no)
                staged = (
                    row_no,
                    number,
                    int(eligible),
                    c_name,
                    c_kana,
                    c_dob.isoformat(),
                    part[0],
                    part[1],
                    part[2].isoformat(),
                    *part[3:],
                )
                fingerprint = hash(staged[6:])
                first = households.get(number)
                if first is None:
                    households[number] = (row_no, fingerprint)
                elif first[1] != fingerprint:
                    earlier = staging.row(first[0])
                    for key, value in zip(STAGE_COLUMNS[6:], staged[6:], strict=True):
                        if earlier[key] != value:
                            problems.add(
                                row_no,
                                HOUSEHOLD_PART_LABELS[key],
                                f"同じ世帯番号の{first[0]}行目と値が異なります（1世帯の行は保護者と住所が同じです）。",
                            )
                    continue
                staging.add(staged)
    except BaseException:
        staging.close()  # an unexpected error must not leave the staging file behind
        raise
    staging.flush()
    if result.row_count == 0 and not problems:
        problems.add(None, "", "児童の行がありません。")
    return result
