"""`madoguchi data-inventory`: print (or `--write`) docs/data-inventory.md from the declarations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.compliance import inventory
from madoguchi.compliance.rendering import markdown

DOC = Path(settings.BASE_DIR) / "docs" / "data-inventory.md"


class Command(BaseCommand):
    help = (
        "データ項目の一覧（個人情報ファイル簿の記録項目）を出力します。"
        "--write で docs/data-inventory.md に書きます。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="docs/data-inventory.md に書き込む")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = inventory.problems()
        if problems:
            names = ", ".join(problem.label for problem in problems[:10])
            raise CommandError(f"申告のないデータ項目があります（{len(problems)}件）: {names}")
        text = markdown()
        if options["write"]:
            DOC.write_text(text, encoding="utf-8")
            self.stdout.write(
                f"{DOC.name} を更新しました（個人情報の項目 {len(inventory.personal_fields())}件）。"
            )
        else:
            self.stdout.write(text, ending="")
