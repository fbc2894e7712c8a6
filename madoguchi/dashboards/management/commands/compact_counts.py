"""`madoguchi compact-counts`: fold the dashboards' count stripes into one row each (cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from madoguchi.dashboards import counting


class Command(BaseCommand):
    help = "ダッシュボードの集計行を整理します（同時に書き込む接続ごとに分けた行を1行にまとめる。cron 用）。"

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folded = counting.compact(connection)
        except DatabaseError:
            self.stderr.write("集計行を整理できませんでした（データベースに接続できません）。")
            raise SystemExit(1) from None
        self.stdout.write(f"集計行を整理しました（{folded:,} 行をまとめました）。")
