"""`madoguchi cases-export --program CODE --purpose TEXT --as USERNAME --format csv|xlsx --out FILE`

The screen's export from the command line, as the ward manager named by `--as`: the same
checks (only a ward manager of the program), the same columns and filters (optional
`--columns`, `--status`, `--channel`, `--from`, `--to`, `--escalated`, `--overdue`), and the
same records: the EXPORT audit events and the ledger entry with the row count and SHA-256.
The file is written next to FILE and renamed into place once complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from madoguchi.cases.models import Channel, Status
from madoguchi.cases.selectors import CaseFilter
from madoguchi.exports import services
from madoguchi.programs.models import Program


def _day(value: str | None, option: str) -> Any:
    if not value:
        return None
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise CommandError(_("%(option)s は 2026-04-01 の形の日付で指定してください。") % {"option": option})
    return day


class Command(BaseCommand):
    help = "区管理者として問い合わせをCSV・XLSXに出力する（監査記録と情報管理台帳に件数とSHA-256を残す）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="事業コード")
        parser.add_argument("--purpose", required=True, help="出力の目的（情報管理台帳に残る）")
        parser.add_argument("--as", dest="actor", required=True, help="出力する区管理者の利用者名")
        parser.add_argument("--format", required=True, choices=services.FORMATS)
        parser.add_argument("--out", required=True, help="書き出すファイル")
        parser.add_argument(
            "--columns",
            default=",".join(services.DEFAULT_COLUMNS),
            help="出力する項目（カンマ区切り）: " + ",".join(column.key for column in services.COLUMNS),
        )
        parser.add_argument("--status", default="", choices=["", *Status.values])
        parser.add_argument("--channel", default="", choices=["", *Channel.values])
        parser.add_argument("--from", dest="date_from", default="", help="受付日（から）")
        parser.add_argument("--to", dest="date_to", default="", help="受付日（まで）")
        parser.add_argument("--escalated", action="store_true", help="区確認ありのみ")
        parser.add_argument("--overdue", action="store_true", help="区回答期限超過のみ")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(_("事業コード「%(code)s」の事業はありません。") % {"code": options["program"]})
        actor = get_user_model().objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(_("利用者「%(name)s」はいません。") % {"name": options["actor"]})
        columns = [key.strip() for key in options["columns"].split(",") if key.strip()]
        unknown = [key for key in columns if key not in services.BY_KEY]
        if unknown:
            raise CommandError(_("不明な項目です: %(keys)s") % {"keys": ", ".join(unknown)})
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(_("出力先のディレクトリがありません: %(dir)s") % {"dir": out.parent})
        export = services.ExportRequest(
            program=program,
            actor=actor,
            filters=CaseFilter(
                status=options["status"],
                channel=options["channel"],
                date_from=_day(options["date_from"], "--from"),
                date_to=_day(options["date_to"], "--to"),
                escalated=options["escalated"],
                overdue=options["overdue"],
            ),
            columns=columns,
            fmt=options["format"],
            purpose=options["purpose"],
            via="command",
            client_ip="",
        )
        try:
            services.start_export(export)
        except services.ExportRefused as refused:
            raise CommandError(refused.message) from refused
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=".cases-export-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as stream:
                for chunk in services.stream(export):
                    stream.write(chunk)
            os.replace(temporary, out)
        except OSError as error:
            raise CommandError(
                _("ファイルを書き込めませんでした: %(error)s") % {"error": error.strerror}
            ) from error
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        entry = services.last_entry(export)
        self.stdout.write(
            _(
                "問い合わせ %(rows)d 件を %(out)s に出力しました（SHA-256 %(sha)s）。"
                "情報管理台帳に記録しました。"
            )
            % {"rows": entry.row_count or 0, "out": out, "sha": entry.sha256}
        )
