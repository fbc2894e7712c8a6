"""`madoguchi lifecycle certificate --program CODE --out FILE.pdf`: the stored 消去証明書."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from madoguchi.audit.services import Action, record
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.lifecycle.subcommands import Refused
from madoguchi.lifecycle.subcommands._common import find_program, program_arg

HELP = "消去証明書（PDF）をファイルに書き出す"


def add_arguments(parser: Any) -> None:
    program_arg(parser)
    parser.add_argument("--out", required=True, help="書き出す PDF ファイル")


def run(options: dict[str, Any], out: Any) -> int:
    program = find_program(options["program"])
    erasure = ProgramErasure.objects.filter(program=program).first()
    if erasure is None or erasure.state != ErasureState.ERASED or not erasure.certificate_pdf:
        raise Refused(f"事業「{program.name}」の消去証明書はまだありません（消去が完了していません）。")
    path = Path(options["out"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(erasure.certificate_pdf))
    except OSError as error:
        raise Refused(f"ファイルに書き出せませんでした: {error.strerror}") from None
    record(
        action=Action.EXPORT,
        program_id=program.pk,
        object_type="erasure_certificate",
        object_id=program.code,
        details={"via": "command", "certificate_sha256": erasure.certificate_sha256},
    )
    out.write(f"消去証明書を {path} に書き出しました（SHA-256 {erasure.certificate_sha256}）。")
    return 0
