"""`madoguchi identify --program CODE FILE.jsonl`: batch identification (formats.md §2).

One output line per input line, in the same order; an empty candidate list means the engine
judged the caller not in the target list (`Result.in_list`); a non-empty one is best first,
the first candidate's score the calibrated probability that it is the caller's household.
Reads `-` as standard input.

The input is read and answered as a stream, line by line (a million lines in flat memory).
A line that cannot be answered (not JSON, not an object, no `query_id`, a value of the wrong
type, invalid UTF-8, a lone surrogate, an impossible or future date) does not stop the run:
its output line carries the `query_id` (or, without one, `"line"`: its line number), an empty
candidate list and `"error"`: the reason in Japanese. Exit status 0 when every line was
answered, 2 when some were refused, 1 (one message, nothing written) for a missing file or an
unknown program.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from madoguchi.identify.engine import QUERY_FIELDS, Query, identify
from madoguchi.lib.dates import parse_date
from madoguchi.lib.errors import InputError
from madoguchi.programs.models import Program

DATE_FIELDS = ("child_dob", "guardian_dob")
FIELD_LABELS = {
    "guardian_name": "保護者氏名",
    "guardian_kana": "保護者氏名カナ",
    "child_name": "児童氏名",
    "child_kana": "児童氏名カナ",
    "child_dob": "児童生年月日",
    "guardian_dob": "保護者生年月日",
    "address": "住所",
    "phone": "電話番号",
    "email": "メールアドレス",
}
logger = logging.getLogger(__name__)
MAX_LINE = 64 * 1024  # an inquiry is a few hundred bytes; anything this long is not one


class BadLine(Exception):
    def __init__(self, message: str, query_id: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.query_id = query_id


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def parse_line(raw: bytes, *, today: datetime.date) -> tuple[Any, Query]:
    """(query_id, Query) of one input line, or BadLine with the reason in Japanese."""
    if len(raw) > MAX_LINE:
        raise BadLine("行が長すぎます（問い合わせ1件は64KB以内にしてください）。")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadLine(f"UTF-8として読めない文字があります（{error.start + 1}バイト目）。") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadLine(f"JSONとして読めません（{error.colno}文字目）。") from error
    except RecursionError as error:
        raise BadLine("JSONの入れ子が深すぎます。") from error
    if not isinstance(data, dict):
        raise BadLine("1行に1つのJSONオブジェクト（{…}）を書いてください。")
    query_id = data.get("query_id")
    if query_id is None or isinstance(query_id, bool) or not isinstance(query_id, str | int):
        raise BadLine(
            "query_id（文字列）がありません。" if query_id is None else "query_idは文字列にしてください。"
        )
    if isinstance(query_id, str) and (not query_id.strip() or _has_surrogate(query_id)):
        raise BadLine(
            "query_idが空か、文字として読めません。", None if _has_surrogate(query_id) else query_id
        )
    values: dict[str, str] = {}
    for name in QUERY_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        label = FIELD_LABELS[name]
        if not isinstance(value, str):
            raise BadLine(f"{label}（{name}）は文字列にしてください。", query_id)
        if _has_surrogate(value):
            raise BadLine(
                f"{label}（{name}）に文字として読めないもの（対になっていないサロゲート）があります。",
                query_id,
            )
        values[name] = value
    for name in DATE_FIELDS:
        value = values.get(name, "").strip()
        if not value:
            continue
        label = FIELD_LABELS[name]
        try:
            date = parse_date(value, strict_era=False)
        except (InputError, ValueError, KeyError) as error:
            reason = error.message if isinstance(error, InputError) else "日付として読めません。"
            raise BadLine(f"{label}（{name}）: {reason}", query_id) from error
        if date > today:
            raise BadLine(f"{label}（{name}）が未来の日付です。", query_id)
    return query_id, Query.from_mapping(values)


def _lines(stream: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a BOM, as editors on Windows write
        yield number, raw.rstrip(b"\r\n")


class Command(BaseCommand):
    help = "Identify callers in a program's target list from a JSON Lines file (- = stdin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="program code")
        parser.add_argument("file", help="JSON Lines file of inquiries, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"事業 {options['program']} がありません。", returncode=1)
        path = options["file"]
        if path == "-":
            stream: Iterable[bytes] = (
                sys.stdin.buffer if hasattr(sys.stdin, "buffer") else _encoded(sys.stdin)
            )
            handle: IO[bytes] | None = None
        else:
            try:
                handle = stream = open(path, "rb")  # noqa: SIM115
            except OSError as error:
                raise CommandError(
                    f"ファイル {path} を開けません（{error.strerror}）。", returncode=1
                ) from error
        refused = 0
        today = timezone.localdate()
        try:
            for number, raw in _lines(stream):
                if not raw.strip():
                    continue
                try:
                    query_id, query = parse_line(raw, today=today)
                except BadLine as bad:
                    refused += 1
                    out: dict[str, Any] = {"query_id": bad.query_id}
                    if bad.query_id is None:
                        out["line"] = number
                    out.update(candidates=[], error=f"{number}行目: {bad.message}")
                else:
                    out = self._answer(program.pk, number, query_id, query)
                    refused += "error" in out
                self.stdout.write(json.dumps(out, ensure_ascii=False))
        finally:
            if handle is not None:
                handle.close()
        if refused:
            raise CommandError(
                f"{refused}行は読めないため答えていません（各行のerrorを見てください）。その他の行には答えました。",
                returncode=2,
            )

    def _answer(self, program_id: int, number: int, query_id: Any, query: Query) -> dict[str, Any]:
        try:
            result = identify(program_id, query)
        except Exception as error:  # one inquiry the engine cannot handle must not stop the batch
            # The class only: the message or a traceback could quote what the caller said.
            logger.error("identify failed on line %s: %s", number, type(error).__name__)
            return {
                "query_id": query_id,
                "candidates": [],
                "error": f"{number}行目: この問い合わせは処理できませんでした。",
            }
        return {
            "query_id": query_id,
            "candidates": [{"household": c.number, "score": c.score} for c in result.answer],
        }


class _encoded:
    """A text stream (a test's StringIO as stdin) read as UTF-8 bytes, line by line."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            yield line.encode("utf-8", "surrogatepass")
