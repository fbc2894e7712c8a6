"""`madoguchi cases-correction-window --program CODE (--until DATE | --close) --reason TEXT --as USERNAME`

Opens (or closes) the correction window after a program's recording period, as the ward
manager named by `--as`: the same service as the screen (`program_settings.allow_correction`),
so the same refusal for anyone who is not a ward manager of the program's ward, and the same
`settings_change` audit event (with `via: command`).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from madoguchi.cases import program_settings
from madoguchi.cases.services import CaseError
from madoguchi.programs.models import Program


def parse_until(value: str) -> datetime.datetime:
    """A date means the end of that day (Japan time); a date and time is taken as given."""
    value = value.strip()
    try:
        day = parse_date(value)
        moment = None if day else parse_datetime(value.replace(" ", "T", 1))
    except ValueError:  # well formed but impossible, such as 2023-06-31
        day, moment = None, None
    if day is not None:
        moment = datetime.datetime.combine(day, datetime.time(23, 59, 59))
    if moment is None:
        raise CommandError(
            _("--until は 2023-06-30 または 2023-06-30T17:00 の形で指定してください: %(value)s")
            % {"value": value}
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "記録期間後の訂正期間を設定する（区管理者として実行し、監査記録に残す）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="事業コード")
        window = parser.add_mutually_exclusive_group(required=True)
        window.add_argument("--until", help="訂正を許可する期限（日付ならその日の終わりまで）")
        window.add_argument("--close", action="store_true", help="訂正の許可を取り消す")
        parser.add_argument("--reason", default="", help="理由（許可するときは必須。監査記録に残る）")
        parser.add_argument("--as", dest="actor", required=True, help="操作する区管理者の利用者名")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(_("事業コード「%(code)s」の事業はありません。") % {"code": options["program"]})
        actor = get_user_model().objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(_("利用者「%(name)s」はいません。") % {"name": options["actor"]})
        until = None if options["close"] else parse_until(options["until"])
        try:
            program_settings.allow_correction(
                program=program, actor=actor, until=until, reason=options["reason"], via="command"
            )
        except CaseError as error:
            raise CommandError(error.message) from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if until is None:
            done = _("事業「%(name)s」の記録期間後の訂正の許可を取り消しました。") % {"name": program.name}
        else:
            done = _("事業「%(name)s」の記録期間後の訂正を %(until)s まで許可しました。") % {
                "name": program.name,
                "until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M"),
            }
        self.stdout.write(done)
