"""`madoguchi lifecycle close --program CODE --reason TEXT --as USERNAME`: end recording now.

The same service as the ward manager's screen (`programs.services.close_recording`): the same
refusal for anyone who is not a ward manager of the program's ward, the same audit event.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from madoguchi.lifecycle.subcommands import Refused
from madoguchi.programs.models import Program
from madoguchi.programs.services import ProgramRefused, close_recording

HELP = "事業の記録を今すぐ終了する（区管理者として、理由を付けて）"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--program", required=True, help="事業コード")
    parser.add_argument("--reason", required=True, help="記録を終了する理由（監査記録に残る）")
    parser.add_argument("--as", dest="actor", required=True, help="操作する区管理者の利用者名")


def program_and_actor(options: dict[str, Any]) -> tuple[Program, Any]:
    """The program and the active user the options name; Refused otherwise (shared by subcommands)."""
    program = Program.objects.filter(code=options["program"]).first()
    if program is None:
        raise Refused(f"事業コード「{options['program']}」の事業はありません。")
    actor = get_user_model().objects.filter(username=options["actor"], is_active=True).first()
    if actor is None:
        raise Refused(f"利用者「{options['actor']}」はいません。")
    return program, actor


def run(options: dict[str, Any], out: TextIO) -> int:
    program, actor = program_and_actor(options)
    try:
        close_recording(program=program, actor=actor, reason=options["reason"], via="command")
    except ProgramRefused as refused:
        raise Refused(refused.message) from None
    except ValidationError as error:
        raise Refused(" ".join(error.messages)) from None
    program.refresh_from_db()
    assert program.recording_closed_at is not None
    when = timezone.localtime(program.recording_closed_at).strftime("%Y-%m-%d %H:%M")
    out.write(f"事業「{program.name}」（{program.code}）の記録を {when} に終了しました。")
    out.write("以後、この事業の個人情報の登録・変更はできません。")
    return 0
