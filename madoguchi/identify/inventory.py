"""Data inventory of identification's index (see madoguchi/compliance/inventory.py).

The index is made from the target list (keys, readings, comparison forms) and is erased and
rebuilt with it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from madoguchi.compliance.inventory import AdditionalItem as A
from madoguchi.compliance.inventory import Declaration, Extra, Item, NotPersonal
from madoguchi.programs.models import PersonalItem as P

CODE = NotPersonal()
INDEX = _("照合用の索引（対象者一覧から作成）")
ALL_LISTED = (
    P.HOUSEHOLD_NUMBER,
    P.CHILD_NAME,
    P.CHILD_KANA,
    P.CHILD_DOB,
    P.GUARDIAN_NAME,
    P.GUARDIAN_KANA,
    P.GUARDIAN_DOB,
    P.POSTAL_CODE,
    P.ADDRESS,
    P.PHONE,
    P.EMAIL,
)

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "identify.IdentKey": {"key": Item(*ALL_LISTED, note=INDEX)},
    "identify.IdentKeyStat": {"key": Item(*ALL_LISTED, note=_("照合用の索引（対象者一覧から作成）・件数"))},
    "identify.IdentReading": {
        "text": Item(P.CHILD_NAME, P.GUARDIAN_NAME, note=INDEX),
        "reading": Extra(
            A.READING, reason=_("同音の氏名を電話で聞き取って照合するため（一覧の読み仮名から作成）")
        ),
    },
    "identify.IdentProfile": {"data": Item(*ALL_LISTED, note=INDEX)},
    "identify.IdentIndexState": {"built_at": CODE, "updated_at": CODE},
    "identify.ApiToken": {
        "name": CODE,
        "token_hash": CODE,
        "created_at": CODE,
        "revoked_at": CODE,
        "last_used_at": CODE,
    },
}
