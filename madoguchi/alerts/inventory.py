"""Data inventory of alerts (see madoguchi/compliance/inventory.py): kinds, times and keys only."""

from __future__ import annotations

from madoguchi.compliance.inventory import Declaration, NotPersonal

CODE = NotPersonal()

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "alerts.Alert": {"emailed_at": CODE, "hour": CODE, "key": CODE, "kind": CODE, "raised_at": CODE},
    "alerts.AlertSettings": {"updated_at": CODE},
    "alerts.Recipient": {"read_at": CODE},
}
