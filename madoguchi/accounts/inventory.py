"""Data inventory of accounts (see madoguchi/compliance/inventory.py): staff, not residents."""

from __future__ import annotations

from madoguchi.compliance.inventory import Declaration, NotPersonal

STAFF = NotPersonal("職員の情報（従事者名簿の範囲）")
CODE = NotPersonal()

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "accounts.Organisation": {"code": CODE, "name": CODE, "kind": CODE},
    "accounts.User": {
        "password": NotPersonal("パスワードのハッシュ"),
        "last_login": STAFF,
        "username": STAFF,
        "first_name": STAFF,
        "last_name": STAFF,
        "email": STAFF,
        "date_joined": STAFF,
        "role": CODE,
        "display_name": STAFF,
        "valid_from": STAFF,
        "valid_until": STAFF,
    },
    "accounts.AllowedNetwork": {"network": CODE, "note": CODE, "created_at": CODE},
    "accounts.UserSession": {"session_key": CODE, "created_at": STAFF, "client_ip": STAFF},
    "accounts.RecoveryCode": {"digest": NotPersonal("HMAC"), "created_at": CODE},
}
