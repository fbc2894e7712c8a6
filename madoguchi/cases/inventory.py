"""Data inventory of cases (see madoguchi/compliance/inventory.py).

A case names its caller as the caller gave it: when the household is identified these are
copies of listed items; when it is not (an unidentified caller), they are the additional
item the ward agreed to, so they are declared as that.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from madoguchi.compliance.inventory import AdditionalItem as A
from madoguchi.compliance.inventory import Declaration, Extra, Item, NotPersonal
from madoguchi.programs.models import PersonalItem as P

CODE = NotPersonal()
STAFF = NotPersonal("職員の情報（記録者）")
CALLER = _(
    "世帯を特定できない場合も折り返し・照合ができるよう、通話者が名乗った氏名と連絡先を記録する（区と合意）"
)

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "cases.Category": {"name": CODE},
    "cases.Case": {
        "receipt_number": NotPersonal("受付番号"),
        "channel": CODE,
        "received_at": CODE,
        "caller_relation": Extra(
            A.CALLER_RELATION,
            reason=_("本人確認と回答先の判断のため、通話者と世帯の関係を記録する（区と合意）"),
        ),
        "caller_name": Extra(A.UNIDENTIFIED_CALLER, reason=CALLER),
        "caller_kana": Extra(A.UNIDENTIFIED_CALLER, reason=CALLER),
        "child_name": Extra(A.UNIDENTIFIED_CALLER, reason=CALLER),
        "child_dob": Extra(A.UNIDENTIFIED_CALLER, reason=CALLER),
        "contact_phone": Extra(A.UNIDENTIFIED_CALLER, reason=CALLER),
        "contact_email": Extra(A.UNIDENTIFIED_CALLER, reason=CALLER),
        "verification": Extra(
            A.IDENTITY_CHECK, reason=_("本人確認をしてから回答したことを示すため（確認の結果のみ）")
        ),
        "verified_items": Extra(
            A.IDENTITY_CHECK, reason=_("本人確認をしてから回答したことを示すため（確認した項目名のみ）")
        ),
        "inquiry": Item(P.INQUIRY),
        "response": Item(P.INQUIRY),
        "status": CODE,
        "priority": CODE,
        "escalated_at": CODE,
        "ward_due_on": CODE,
        "ward_answered_at": CODE,
        "closed_at": CODE,
        "callback_due_on": CODE,
        "created_at": CODE,
        "updated_at": CODE,
        "idempotency_key": CODE,
        "search_text": Item(P.INQUIRY, note=_("検索用（受付番号・内容・通話者名から作成）")),
    },
    "cases.TimelineEntry": {
        "kind": CODE,
        "body": Item(P.INQUIRY),
        "from_status": CODE,
        "to_status": CODE,
        "author_name": STAFF,
        "author_organisation": STAFF,
        "created_at": CODE,
    },
    "cases.StandardAnswer": {
        "title": NotPersonal("標準回答（個人に関する記載はしない）"),
        "body": NotPersonal("標準回答（個人に関する記載はしない）"),
        "search_text": CODE,
        "approved_at": CODE,
    },
    "cases.Notification": {"kind": CODE, "created_at": CODE, "read_at": CODE},
    "cases.SavedSearch": {
        "params": Extra(
            A.SEARCH_KEY, reason=_("検索語を URL に載せないため、入力された検索条件をサーバー側に保存する")
        ),
        "created_at": CODE,
    },
    "cases.CallbackAttempt": {
        "attempted_at": CODE,
        "attempted_by_name": STAFF,
        "outcome": CODE,
        "note": Item(P.INQUIRY),
    },
    "cases.CaseLink": {"created_at": CODE},
}
