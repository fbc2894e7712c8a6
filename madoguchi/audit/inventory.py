"""Data inventory of the audit trail (see madoguchi/compliance/inventory.py).

Events hold opaque ids and counts (never a resident's value); the before/after records hold
the values of the items a change touched, so they are personal and are erased with them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from madoguchi.compliance.inventory import AdditionalItem as A
from madoguchi.compliance.inventory import Declaration, Extra, NotPersonal

CODE = NotPersonal()
STAFF = NotPersonal("職員の情報（操作者）")

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "audit.AuditEvent": {
        "at": CODE,
        "actor_username": STAFF,
        "actor_name": STAFF,
        "actor_organisation": STAFF,
        "actor_role": CODE,
        "client_ip": Extra(
            A.CLIENT_ADDRESS,
            reason=_("不正アクセスの調査のため、公開フォームの送信元アドレスを監査記録に残す（区と合意）"),
        ),
        "request_id": CODE,
        "action": CODE,
        "object_type": CODE,
        "object_id": NotPersonal("不透明なID（世帯番号・氏名は入らない）"),
        "outcome": CODE,
        "details": NotPersonal("項目名と件数のみ（値は before/after）"),
        "change_digest": CODE,
        "prev_hash": CODE,
        "hash": CODE,
    },
    "audit.AuditChange": {
        "before": Extra(A.CHANGE_HISTORY, reason=_("誰がいつ何を変えたかを確認できるようにするため（R-22）")),
        "after": Extra(A.CHANGE_HISTORY, reason=_("誰がいつ何を変えたかを確認できるようにするため（R-22）")),
        "erased_at": CODE,
    },
    "audit.ChainHead": {"hash": CODE},
    "audit.ObjectAlias": {
        "object_type": CODE,
        "alias_id": NotPersonal("不透明なID（データベースのキー）"),
        "object_id": NotPersonal("不透明なID（公開ID）"),
    },
}
