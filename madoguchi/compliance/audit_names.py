"""How the audit screens name the compliance records and the reasons a login was refused."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from madoguchi.audit import describe
from madoguchi.audit.describe import register_object_type, register_value_labels


def register() -> None:
    register_object_type("compliance", gettext_lazy("コンプライアンス記録"))
    register_object_type("staff_compliance", gettext_lazy("職員の誓約・研修記録"))
    register_object_type("training_policy", gettext_lazy("研修の有効期間"))
    register_object_type("responsible_person", gettext_lazy("事業の責任者"))
    register_object_type("incident", gettext_lazy("事故報告"))
    register_object_type("data_inventory", gettext_lazy("データ項目一覧"))
    register_value_labels(
        "reason",
        {
            "no_pledge": gettext_lazy("秘密保持誓約の記録なし"),
            "no_training": gettext_lazy("研修の受講記録なし"),
            "training_expired": gettext_lazy("研修の有効期限切れ"),
        },
    )
    register_value_labels("scope", {"organisation": gettext_lazy("組織"), "program": gettext_lazy("事業")})
    describe.DETAIL_LABELS.setdefault("scope", gettext_lazy("範囲"))
