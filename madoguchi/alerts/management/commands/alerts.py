"""`madoguchi alerts run`: raise the alerts due now and send their e-mails (cron, every few minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from madoguchi.alerts import services
from madoguchi.alerts.models import Kind


class Command(BaseCommand):
    help = "アラート（期限超過、未着手のWeb問い合わせ、時間外・多数の閲覧）を確認して通知します。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        sub.add_parser("run", help="アラートを確認し、新しいものを通知してメールを送ります（cron 用）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = services.run()
        except DatabaseError:
            self.stderr.write("アラートを確認できませんでした（データベースに接続できません）。")
            raise SystemExit(1) from None
        if not result.total:
            self.stdout.write("新しいアラートはありません。")
        for kind in Kind:
            count = result.raised.get(kind.value, 0)
            if count:
                self.stdout.write(f"{kind.label}: {count}件")
        self.stdout.write(f"メール送信: {result.emailed}件")
        if result.mail_failed:
            self.stderr.write(f"メールを送れなかったアラート: {result.mail_failed}件（次の実行で再送します）")
