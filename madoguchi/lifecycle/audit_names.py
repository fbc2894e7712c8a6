"""How the audit screens name the life cycle's objects and details (return, erasure, certificate)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from madoguchi.audit import describe


def register() -> None:
    from madoguchi.lifecycle.erasure import STEPS

    describe.register_object_type("program_return", gettext_lazy("区への返還"))
    describe.register_object_type("erasure_request", gettext_lazy("消去の依頼"))
    describe.register_object_type("program_erasure", gettext_lazy("事業データの消去（封印）"))
    describe.register_object_type("erasure_certificate", gettext_lazy("消去証明書"))
    describe.DETAIL_LABELS.update(
        {
            "waive_return": gettext_lazy("返還なし"),
            "approved": gettext_lazy("承認"),
            "steps": gettext_lazy("消去の手順"),
            "certificate_sha256": gettext_lazy("消去証明書のSHA-256"),
            "manifest_sha256": gettext_lazy("ファイル一覧のSHA-256"),
            "return_manifest_sha256": gettext_lazy("返還ファイル一覧のSHA-256"),
            "scan_clean": gettext_lazy("消去後の検査で見つからなかった"),
            "files": gettext_lazy("ファイル数"),
            "target_list": gettext_lazy("対象者一覧"),
            "case_list": gettext_lazy("問い合わせ"),
            "timeline_list": gettext_lazy("対応記録"),
            **{step.name: step.label for step in STEPS},
        }
    )
    describe.register_value_labels("steps", {step.name: step.label for step in STEPS})
    describe.register_value_labels("via", {"command": gettext_lazy("コマンド")})
