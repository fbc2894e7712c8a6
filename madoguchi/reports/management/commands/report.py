"""`madoguchi report --program CODE --from DATE --to DATE --format xlsx|pdf|csv --out FILE`

The same report as the screen's download, for cron. Without `--as` the report is the full one
(with the per-operator section); with `--as USERNAME` it is what that user may see. The file
is written next to FILE first and renamed into place, so a reader never sees half a report.
CP932 (`--encoding cp932`) is refused, listing the cells, when a character cannot be encoded.
Every run is audited (EXPORT, with the counts).
"""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from madoguchi.programs.models import Program
from madoguchi.reports import formats, services
from madoguchi.reports.selectors import build_report

MAX_DAYS = 366


def parse_day(value: str, option: str) -> datetime.date:
    try:
        day = parse_date(value.strip())
    except ValueError:
        day = None
    if day is None:
        raise CommandError(
            _("%(option)s は 2026-04-01 の形の日付で指定してください: %(value)s")
            % {"option": option, "value": value}
        )
    return day


def write_atomically(path: Path, data: bytes) -> None:
    directory = path.parent if str(path.parent) else Path()
    if not directory.is_dir():
        raise CommandError(_("出力先のディレクトリがありません: %(dir)s") % {"dir": directory})
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".report-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise CommandError(
            _("ファイルを書き込めませんでした: %(error)s") % {"error": error.strerror}
        ) from error


class Command(BaseCommand):
    help = "事業の問い合わせ報告書（日報・週報・月報・期間指定）をXLSX・PDF・CSVで書き出す（cron用）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="事業コード")
        parser.add_argument("--from", dest="date_from", required=True, help="開始日（例 2026-04-01）")
        parser.add_argument("--to", dest="date_to", required=True, help="終了日（この日を含む）")
        parser.add_argument("--format", required=True, choices=formats.FORMATS, help="xlsx, pdf, csv")
        parser.add_argument("--out", required=True, help="書き出すファイル")
        parser.add_argument(
            "--encoding",
            default="utf-8",
            choices=formats.ENCODINGS,
            help="CSVの文字コード（既定 UTF-8 BOM付き）",
        )
        parser.add_argument(
            "--as", dest="actor", default="", help="この利用者に見える内容で作成する（省略時は全項目）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.select_related("ward").filter(code=options["program"]).first()
        if program is None:
            raise CommandError(_("事業コード「%(code)s」の事業はありません。") % {"code": options["program"]})
        start = parse_day(options["date_from"], "--from")
        end = parse_day(options["date_to"], "--to")
        if end < start:
            raise CommandError(_("--to は --from 以降の日付にしてください。"))
        if (end - start).days + 1 > MAX_DAYS:
            raise CommandError(_("期間は %(days)d 日以内にしてください。") % {"days": MAX_DAYS})
        fmt, encoding = options["format"], options["encoding"]
        if encoding != "utf-8" and fmt != "csv":
            raise CommandError(_("--encoding はCSVのときだけ指定できます。"))
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(_("利用者「%(name)s」はいません。") % {"name": options["actor"]})
            if not services.report_programs(actor).filter(pk=program.pk).exists():
                raise CommandError(
                    _("利用者「%(name)s」はこの事業の報告書を見られません。") % {"name": actor.username}
                )
            report = services.report_for(actor, program, start, end)
        else:
            report = build_report(program, start, end, with_operators=True)
        try:
            data = formats.render(report, fmt, encoding)
        except formats.Cp932Refused as refused:
            raise CommandError("\n".join([refused.message, *refused.lines()])) from refused
        out = Path(options["out"])
        write_atomically(out, data)
        services.record_report_access(
            actor=actor, report=report, fmt=fmt, encoding=encoding if fmt == "csv" else "", via="command"
        )
        self.stdout.write(
            _(
                "%(program)s の%(kind)s（%(start)s〜%(end)s、受付 %(count)d 件）を"
                " %(out)s に書き出しました（%(size)d バイト）。"
            )
            % {
                "program": program.name,
                "kind": report.kind_label,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "count": report.total,
                "out": out,
                "size": len(data),
            }
        )
