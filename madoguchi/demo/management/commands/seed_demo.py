from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.demo.ended_program import seed_ended_program
from madoguchi.demo.services import seed_demo, seed_targets


class Command(BaseCommand):
    help = "デモ用の事業・組織・利用者を作成します（何度実行しても重複しません）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-shift", action="store_true", help="記録期間を本日に合わせてずらさない")
        parser.add_argument(
            "--targets", type=int, default=0, metavar="N", help="架空の対象者一覧を N 世帯作成して取り込む"
        )
        parser.add_argument(
            "--seed", type=int, default=2023, help="架空の対象者一覧の乱数の種（同じなら同じ一覧）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = seed_demo(shift_to_today=not options["no_shift"])
        program = result.program
        self.stdout.write(f"事業: {program.code} {program.name}")
        self.stdout.write(f"記録期間: {program.recording_start} .. {program.recording_end}")
        if result.shifted:
            self.stdout.write("  (デモのため本日を含むようにずらしています。実際は 2023-02-03 .. 2023-05-10)")
        self.stdout.write("")
        self.stdout.write("デモ利用者 (ユーザー名 / パスワード / TOTP秘密鍵(base32) / 役割 / 組織):")
        for login in result.logins:
            self.stdout.write(
                f"  {login.username:<11} {login.password}  {login.totp_secret}  "
                f"{login.role} / {login.organisation}"
            )
        self.stdout.write("")
        self.stdout.write(
            "二要素認証: TOTP秘密鍵を認証アプリ（Google Authenticator など）に登録してください。"
        )
        self.stdout.write("許可アドレス: 127.0.0.1 と ::1 のみ（127.0.0.2 からは拒否画面になります）。")
        self.stdout.write(seed_ended_program().summary())
        if options["targets"] > 0:
            report = seed_targets(program=program, households=options["targets"], seed=options["seed"])
            if report is None:
                self.stdout.write("")
                self.stdout.write(
                    "架空の対象者一覧: 事業にはデモ以外の対象者一覧が取り込まれているため、"
                    "そのままにしました（上書きすると一覧にない世帯がすべて対象外になります）。"
                )
                return
            if report.refused:
                raise CommandError("架空の対象者一覧を取り込めませんでした: " + report.problems[0].reason)
            version = report.target_import.version if report.target_import else None
            self.stdout.write("")
            self.stdout.write(
                f"架空の対象者一覧: {report.household_count:,}世帯・児童{report.row_count:,}行"
                f"（追加 {report.added:,}、変更 {report.changed:,}、削除 {report.removed:,}、"
                f"対象外の児童 {len(report.ineligible_rows):,}行）"
                + (f" 第{version}版として取り込みました。" if version else " 変更はありません。")
            )
