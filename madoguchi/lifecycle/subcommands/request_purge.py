"""`madoguchi lifecycle request-purge --program CODE --reason TEXT [--waive-return] --as USERNAME`"""

from __future__ import annotations

from typing import Any

from madoguchi.lifecycle import services
from madoguchi.lifecycle.subcommands import Refused
from madoguchi.lifecycle.subcommands._common import as_arg, find_program, find_user, program_arg

HELP = "事業データの消去を依頼する（区管理者。別の利用者の承認が必要）"


def add_arguments(parser: Any) -> None:
    program_arg(parser)
    parser.add_argument("--reason", required=True, help="消去の理由")
    parser.add_argument("--waive-return", action="store_true", help="区への返還なしで消去する（理由が必要）")
    as_arg(parser)


def run(options: dict[str, Any], out: Any) -> int:
    program = find_program(options["program"])
    actor = find_user(options["actor"])
    try:
        erasure = services.request_purge(
            program=program,
            actor=actor,
            reason=options["reason"],
            waive_return=options["waive_return"],
            via="command",
        )
    except services.LifecycleRefused as refused:
        raise Refused(refused.message) from None
    waived = "（返還なし）" if erasure.waive_return else ""
    out.write(
        f"事業「{program.name}」の消去を依頼しました{waived}。"
        "依頼者とは別の区管理者または監査担当者の承認（approve-purge）を待っています。"
    )
    return 0
