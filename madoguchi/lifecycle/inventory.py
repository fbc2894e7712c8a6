"""Data inventory of the end of a program (see madoguchi/compliance/inventory.py): states, counts,
hashes and the certificate, which names tables and counts, never a personal value."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from madoguchi.compliance.inventory import AdditionalItem, Declaration, Extra, NotPersonal

CODE = NotPersonal()

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "lifecycle.ProgramErasure": {
        "approved_at": CODE,
        "certificate_pdf": NotPersonal("消去証明書（表ごとの件数のみ）"),
        "certificate_sha256": CODE,
        "counts": CODE,
        "finished_at": CODE,
        "physical": CODE,
        "reason": NotPersonal("消去の理由（職員が記入）"),
        "requested_at": CODE,
        "return_manifest_sha256": CODE,
        "scan": NotPersonal("走査の結果（件数のみ）"),
        "scan_values_sealed": Extra(
            AdditionalItem.OTHER,
            reason=_("消去後の検査で探す値（消去前に読み、暗号化して保持。証明書の発行時に消去）"),
        ),
        "started_at": CODE,
        "state": CODE,
        "steps_done": CODE,
    },
    "lifecycle.ReturnExport": {
        "created_at": CODE,
        "manifest": NotPersonal("ファイル名・件数・SHA-256"),
        "manifest_sha256": CODE,
        "via": CODE,
    },
}
