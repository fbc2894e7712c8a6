"""`madoguchi lifecycle return-export --program CODE --out DIR --as USERNAME`"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from madoguchi.lifecycle.returning import return_export
from madoguchi.lifecycle.services import LifecycleRefused
from madoguchi.lifecycle.subcommands import Refused
from madoguchi.lifecycle.subcommands._common import as_arg, find_program, find_user, program_arg

HELP = "事業のデータを区への返還用に書き出す（対象者一覧・問い合わせ・対応記録・manifest.json・返還目録）"


def add_arguments(parser: Any) -> None:
    program_arg(parser)
    parser.add_argument("--out", required=True, help="書き出すディレクトリ")
    as_arg(parser)


def run(options: dict[str, Any], out: Any) -> int:
    program = find_program(options["program"])
    actor = find_user(options["actor"])
    try:
        result = return_export(program=program, actor=actor, out_dir=Path(options["out"]), via="command")
    except LifecycleRefused as refused:
        raise Refused(refused.message) from None
    except OSError as error:
        raise Refused(f"書き出せませんでした: {error.strerror}") from None
    out.write(f"事業「{program.name}」のデータを {result.directory} に書き出しました:")
    for item in result.files:
        out.write(f"  {item.name}: {item.rows:,} 行  SHA-256 {item.sha256}")
    out.write(f"  manifest.json: SHA-256 {result.manifest_sha256}（情報管理台帳に記録しました）")
    return 0
