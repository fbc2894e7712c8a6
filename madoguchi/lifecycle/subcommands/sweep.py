"""`madoguchi lifecycle sweep` (daily): callback contacts past their program's days, expired sessions."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from madoguchi.accounts.sessions import clear_expired_sessions
from madoguchi.cases.sweep import sweep

HELP = (
    "完了から所定の日数が過ぎた問い合わせの折り返し連絡先（電話番号・メール）と、"
    "有効期限の切れたセッション（入力途中の問い合わせを含む）を消去する（cron 用）"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: every program, each with its own number of days."""


def run(options: dict[str, Any], out: TextIO) -> int:
    report = sweep()
    for item in report.programs:
        if item.cases:
            program = item.program
            out.write(
                f"事業「{program.name}」（{program.code}、完了後{program.callback_retention_days}日）: "
                f"{item.cases}件の問い合わせから"
                f"電話番号{item.phones}件・メールアドレス{item.emails}件を消去しました。"
            )
    if not report.cases:
        out.write("消去の対象となる折り返し連絡先はありませんでした。")
    else:
        out.write(
            f"合計: {report.cases}件の問い合わせ、"
            f"電話番号{report.phones}件・メールアドレス{report.emails}件を消去しました。"
        )
    sessions, logins = clear_expired_sessions()
    out.write(
        f"有効期限の切れたセッション{sessions}件（入力途中の問い合わせの下書きを含む）と、"
        f"終わったログインの記録{logins}件を削除しました。"
    )
    return 0
