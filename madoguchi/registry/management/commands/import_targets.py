from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from madoguchi.accounts.models import User
from madoguchi.programs.models import Program
from madoguchi.registry.services import ImportReport, import_target_list

# Below this size the bar would only flash by.
PROGRESS_FROM_BYTES = 1024 * 1024


class TqdmProgress:
    """One bar per phase on standard error (never standard output, which a script may read)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm[Any] | None = None

    def phase(self, label: str, total: int) -> None:
        self.close()
        if self.enabled:
            unit_scale = label != "書き込み"
            self.bar = tqdm(
                total=total,
                desc=label,
                unit="B" if unit_scale else "世帯",
                unit_scale=unit_scale,
                file=sys.stderr,
                leave=False,
            )

    def advance(self, amount: int) -> None:
        if self.bar is not None:
            self.bar.update(amount)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def format_rows(rows: list[int], limit: int = 50) -> str:
    shown = ", ".join(str(row) for row in rows[:limit])
    return shown + (f" ほか{len(rows) - limit}行" if len(rows) > limit else "")


def describe(report: ImportReport) -> list[str]:
    """The preview as lines of text: counts, row numbers, column names, reasons. No values."""
    lines = [
        f"ファイル: {report.file_name}"
        f"（{report.size_bytes:,} バイト、文字コード {report.encoding or '不明'}）",
        f"SHA-256: {report.sha256}",
        f"行数: {report.row_count:,}  世帯数: {report.household_count:,}",
        f"追加: {report.added:,}  変更: {report.changed:,}  削除: {report.removed:,}"
        f"  変更なし: {report.unchanged:,}",
    ]
    if report.changed_columns:
        lines.append(
            "変更された項目: "
            + "、".join(f"{name} {count:,}世帯" for name, count in report.changed_columns.items())
        )
    if report.dropped_columns:
        lines.append("除外した列: " + "、".join(report.dropped_columns))
    if report.ineligible_rows:
        lines.append(
            f"対象外の児童（生年月日が対象期間外、取り込みません）: {len(report.ineligible_rows):,}行"
            f"（{format_rows(report.ineligible_rows)}）"
        )
    if report.problem_count:
        lines.append(f"問題: {report.problem_count:,}件（ファイル全体を取り込みません）")
        for problem in report.stored_problems():
            where = f"{problem['row']}行目" if problem["row"] else "ファイル"
            column = f" [{problem['column']}]" if problem["column"] else ""
            lines.append(f"  {where}{column}: {problem['reason']}")
    return lines


class Command(BaseCommand):
    help = "対象者一覧（CSV）を確認し、新しい版として取り込みます。--dry-run は確認のみです。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="事業コード")
        parser.add_argument("file", help="CSV ファイル")
        parser.add_argument("--dry-run", action="store_true", help="確認だけ行い、取り込まない")
        parser.add_argument(
            "--drop-column",
            action="append",
            default=[],
            metavar="NAME",
            help="取り込まずに除外する列（承認されていない列を明示して除外する）",
        )
        parser.add_argument("--user", help="取込を記録する利用者のユーザー名")
        parser.add_argument("--no-progress", action="store_true", help="進捗バーを表示しない")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"事業 {options['program']} がありません。")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"ファイル {path} がありません。")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"利用者 {options['user']} がありません。")
        progress = TqdmProgress(
            enabled=not options["no_progress"] and path.stat().st_size >= PROGRESS_FROM_BYTES
        )
        try:
            report = import_target_list(
                program=program,
                path=path,
                file_name=path.name,
                user=user,
                drop_columns=options["drop_column"],
                dry_run=options["dry_run"],
                progress=progress,
            )
        finally:
            progress.close()
        for line in describe(report):
            self.stdout.write(line)
        if report.refused:
            raise CommandError("問題があるため取り込みませんでした（何も変更していません）。")
        if options["dry_run"]:
            self.stdout.write("確認のみ（--dry-run）: 何も変更していません。")
        elif report.target_import is not None and report.target_import.version:
            self.stdout.write(f"第{report.target_import.version}版として取り込みました。")
        else:
            self.stdout.write("現在の一覧と同じ内容です。何も変更していません。")
