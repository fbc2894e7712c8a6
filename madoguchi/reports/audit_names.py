"""How the audit screens name the reports' events and the export's details."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from madoguchi.audit.describe import DETAIL_LABELS, register_object_type, register_value_labels
from madoguchi.reports.selectors import KINDS

LABELS = {
    "report": gettext_lazy("報告書の種類"),
    "days": gettext_lazy("日数"),
    "cases": gettext_lazy("問い合わせ件数"),
    "escalations": gettext_lazy("区確認依頼件数"),
    "operator_section": gettext_lazy("担当者別を含む"),
    "stage": gettext_lazy("段階"),
    "columns": gettext_lazy("出力した項目"),
    "filters": gettext_lazy("絞り込み条件"),
    "rows": gettext_lazy("行数"),
    "bytes": gettext_lazy("バイト数"),
    "sha256": gettext_lazy("ファイルのSHA-256"),
    "started_seq": gettext_lazy("開始の記録番号"),
}


def register() -> None:
    register_object_type("report", gettext_lazy("報告書"))
    register_object_type("case_export", gettext_lazy("問い合わせの出力"))
    register_value_labels("report", {key: gettext_lazy(label) for key, label in KINDS.items()})
    register_value_labels(
        "stage",
        {
            "started": gettext_lazy("開始"),
            "completed": gettext_lazy("完了"),
            "interrupted": gettext_lazy("中断"),
        },
    )
    for key, label in LABELS.items():
        DETAIL_LABELS.setdefault(key, label)
