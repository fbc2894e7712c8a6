"""Data inventory of the 情報管理台帳 (see madoguchi/compliance/inventory.py): what was
received, exported, returned or erased, never the values themselves."""

from __future__ import annotations

from madoguchi.compliance.inventory import Declaration, NotPersonal

CODE = NotPersonal()
STAFF = NotPersonal("職員の情報（実施者）")

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "ledger.LedgerEntry": {
        "at": CODE,
        "kind": CODE,
        "actor_username": STAFF,
        "actor_name": STAFF,
        "actor_organisation": STAFF,
        "what": NotPersonal("対象の種類と件数（個人の値は入らない）"),
        "purpose": CODE,
        "file_name": CODE,
        "sha256": CODE,
        "details": NotPersonal("項目名と件数のみ"),
    },
}
