"""What the subcommands share: finding the program and the user named on the command line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from madoguchi.lifecycle.subcommands import Refused
from madoguchi.programs.models import Program


def program_arg(parser: Any) -> None:
    parser.add_argument("--program", required=True, help="事業コード")


def as_arg(parser: Any) -> None:
    parser.add_argument("--as", dest="actor", required=True, help="操作する利用者名")


def find_program(code: str) -> Program:
    program = Program.objects.select_related("ward", "contractor").filter(code=code).first()
    if program is None:
        raise Refused(f"事業コード「{code}」の事業はありません。")
    return program


def find_user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise Refused(f"利用者「{username}」はいません（または無効です）。")
    return user
