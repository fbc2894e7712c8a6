"""Data inventory of programs (see madoguchi/compliance/inventory.py): no personal item."""

from __future__ import annotations

from madoguchi.compliance.inventory import Declaration, NotPersonal

CODE = NotPersonal()

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "programs.Program": {
        name: CODE
        for name in (
            "code",
            "name",
            "description",
            "recording_start",
            "recording_end",
            "child_dob_from",
            "child_dob_to",
            "approved_items",
            "verification_rule",
            "receipt_prefix",
            "correction_allowed_until",
            "created_at",
            "recording_closed_at",
            "recording_closed_reason",
        )
    },
}
