"""Data inventory of the target list (see madoguchi/compliance/inventory.py).

The search keys are made from the items (normalised names, readings, digits) and are erased
with them; they are declared as the item they are made from.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from madoguchi.compliance.inventory import AdditionalItem as A
from madoguchi.compliance.inventory import Declaration, Extra, Item, NotPersonal
from madoguchi.programs.models import PersonalItem as P

CODE = NotPersonal()
KEY = _("検索用キー（この項目から作成）")

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "registry.TargetListImport": {
        "created_at": CODE,
        "finished_at": CODE,
        "file_name": Extra(
            A.LIST_FILE, reason=_("情報管理台帳と照合するため、受け取ったファイルの名前を残す")
        ),
        "sha256": CODE,
        "encoding": CODE,
        "status": CODE,
        "problems": NotPersonal("行番号・列名・件数のみ（値は入らない）"),
    },
    "registry.Household": {
        "number": Item(P.HOUSEHOLD_NUMBER),
        "postal_code": Item(P.POSTAL_CODE),
        "address": Item(P.ADDRESS),
        "address_key": Item(P.ADDRESS, note=KEY),
        "address_block_key": Item(P.ADDRESS, note=KEY),
        "content_hash": NotPersonal("内容のハッシュ（差分の検出用）"),
        "suspended_at": CODE,
        "suspended_reason": NotPersonal("利用停止の理由（個人の値は書かない）"),
        "created_at": CODE,
        "updated_at": CODE,
    },
    "registry.Guardian": {
        "name": Item(P.GUARDIAN_NAME),
        "name_key": Item(P.GUARDIAN_NAME, note=KEY),
        "family_name_key": Item(P.GUARDIAN_NAME, note=KEY),
        "kana": Item(P.GUARDIAN_KANA),
        "kana_key": Item(P.GUARDIAN_KANA, note=KEY),
        "kana_loose_key": Item(P.GUARDIAN_KANA, note=KEY),
        "family_kana_loose_key": Item(P.GUARDIAN_KANA, note=KEY),
        "dob": Item(P.GUARDIAN_DOB),
        "phone": Item(P.PHONE),
        "phone_digits": Item(P.PHONE, note=KEY),
        "email": Item(P.EMAIL),
        "email_key": Item(P.EMAIL, note=KEY),
    },
    "registry.Child": {
        "name": Item(P.CHILD_NAME),
        "name_key": Item(P.CHILD_NAME, note=KEY),
        "given_name_key": Item(P.CHILD_NAME, note=KEY),
        "kana": Item(P.CHILD_KANA),
        "kana_key": Item(P.CHILD_KANA, note=KEY),
        "kana_loose_key": Item(P.CHILD_KANA, note=KEY),
        "given_kana_loose_key": Item(P.CHILD_KANA, note=KEY),
        "dob": Item(P.CHILD_DOB),
    },
    "registry.TargetListChange": {"kind": CODE, "fields": NotPersonal("変更された項目名のみ")},
}
