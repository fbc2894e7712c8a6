"""`madoguchi lifecycle approve-purge --program CODE --as USERNAME` (not the requester)"""

from __future__ import annotations

from typing import Any

from madoguchi.lifecycle import services
from madoguchi.lifecycle.subcommands import Refused
from madoguchi.lifecycle.subcommands._common import as_arg, find_program, find_user, program_arg

HELP = "事業データの消去依頼を承認する（依頼者とは別の区管理者または監査担当者）"


def add_arguments(parser: Any) -> None:
    program_arg(parser)
    as_arg(parser)


def run(options: dict[str, Any], out: Any) -> int:
    program = find_program(options["program"])
    actor = find_user(options["actor"])
    try:
        services.approve_purge(program=program, actor=actor, via="command")
    except services.LifecycleRefused as refused:
        raise Refused(refused.message) from None
    out.write(f"事業「{program.name}」の消去を承認しました。区管理者が purge で消去を実行できます。")
    return 0
