"""Data inventory of the dashboards' counts (see madoguchi/compliance/inventory.py)."""

from __future__ import annotations

from madoguchi.compliance.inventory import Declaration, NotPersonal

CODE = NotPersonal()

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "dashboards.CaseCount": {"channel": CODE, "day": CODE, "kind": CODE, "status": CODE},
}
