"""`madoguchi lifecycle purge --program CODE --as USERNAME [--dry-run]`

Erases every personal item of the program (after request and approval), rewrites the
database files, scans for what it erased and issues the 消去証明書. Killed half-way, run it
again: it resumes at the first step not done.
"""

from __future__ import annotations

from typing import Any

from madoguchi.lifecycle import services
from madoguchi.lifecycle.erasure import STEPS
from madoguchi.lifecycle.subcommands import Refused
from madoguchi.lifecycle.subcommands._common import as_arg, find_program, find_user, program_arg

HELP = "承認済みの事業データを消去し、検査して消去証明書を発行する（--dry-run で対象の件数のみ）"


def add_arguments(parser: Any) -> None:
    program_arg(parser)
    as_arg(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="消去せず、テーブルごとに消去される件数を表示する"
    )


def _table(report: services.PurgeReport, out: Any) -> None:
    for step in STEPS:
        count = report.counts.get(step.name, 0)
        out.write(f"  {step.table}（{step.label}）: {count:,} 行")


def run(options: dict[str, Any], out: Any) -> int:
    program = find_program(options["program"])
    actor = find_user(options["actor"])
    try:
        if options["dry_run"]:
            report = services.dry_run(program=program, actor=actor)
            out.write(f"事業「{program.name}」の消去の対象（まだ何も消去していません）:")
            _table(report, out)
            return 0
        report = services.purge(program=program, actor=actor)
    except services.LifecycleRefused as refused:
        raise Refused(refused.message) from None
    if report.already_done:
        out.write(
            f"事業「{program.name}」のデータはすでに消去済みです（消去証明書は certificate で出力できます）。"
        )
        return 0
    out.write(f"事業「{program.name}」の個人データを消去しました:")
    _table(report, out)
    physical = report.physical
    if physical.get("done"):
        out.write(f"データベースファイルを書き直しました: {physical.get('how')}")
    scan = report.scan
    where = f"{scan.get('tables', 0)} テーブル・{scan.get('columns', 0)} 列"
    if scan.get("file_bytes"):
        where += "・データベースファイル"
    out.write(f"検査: {scan.get('values', 0):,} 件の値を {where}で探し、見つかりませんでした。")
    if scan.get("held_elsewhere"):
        out.write(
            f"（うち {scan['held_elsewhere']:,} 件は他の事業の行にも同じ値があり、"
            "その事業のデータとして扱いました）"
        )
    erasure = report.erasure
    if erasure is not None:
        sha, seq = erasure.certificate_sha256, erasure.certificate_seq
        out.write(f"消去証明書を発行しました（SHA-256 {sha}、監査ログ #{seq}）。")
    return 0
