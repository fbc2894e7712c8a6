"""The ward manager's setting: how many days callback contacts are kept after a case is closed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from madoguchi.cases import program_settings
from madoguchi.cases.services import CaseError
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import ward_program_or_404


class RetentionForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("折り返し連絡先の保存日数（完了後）"),
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy(
            "問い合わせの完了からこの日数が過ぎると、連絡先の電話番号とメールアドレスを消去します。"
        ),
    )


def _managed_program(request: HttpRequest, code: str) -> Program:
    return ward_program_or_404(request.user, "manage", code)


@login_required
@require_http_methods(["GET", "POST"])
def callback_retention(request: HttpRequest, code: str) -> HttpResponse:
    program = _managed_program(request, code)
    form = RetentionForm(request.POST or None, initial={"days": program.callback_retention_days})
    if request.method == "POST" and form.is_valid():
        try:
            program_settings.set_callback_retention(
                program=program, actor=request.user, days=form.cleaned_data["days"]
            )
        except CaseError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("折り返し連絡先の保存日数を更新しました。"))
            return redirect("cases:callback_retention", program.code)
    return render(
        request,
        "cases/callback_retention.html",
        {"form": form, "program": program},
        status=400 if form.errors else 200,
    )
