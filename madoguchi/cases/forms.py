"""Forms validate and clean; they bind only the fields they list and have no side effects.

Program, organisation, author, status and version never come from a form's bound fields:
the program is the one in the URL checked against the user's programs, the author is
`request.user`, the status moves only through the services, and `version` is read as the
expected version for optimistic locking, never written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django import forms
from django.db.models import Q
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import (
    CallbackOutcome,
    CallerRelation,
    Case,
    Category,
    Channel,
    Priority,
    StandardAnswer,
    Status,
)
from madoguchi.programs.models import Program

TEXT_LIMIT = 10000


class _ListedChoices(ModelChoiceIterator):
    """A program's few categories in one plain query. Django's iterator reads them through
    `.iterator()`, a server-side cursor on PostgreSQL: three round trips for ten rows."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class CategoryChoiceField(forms.ModelChoiceField):
    iterator = _ListedChoices


def _category_field(program_ids: list[int], keep: int | None = None) -> forms.ModelChoiceField:
    """The program's active categories; `keep` (the record's current one) stays selectable
    after a ward manager deactivated it, so saving an old case never drops its category."""
    choosable = Q(is_active=True) | Q(pk=keep) if keep else Q(is_active=True)
    return CategoryChoiceField(
        queryset=Category.objects.filter(choosable, program_id__in=program_ids).order_by("order", "id"),
        required=False,
        label=_("分類"),
        empty_label=_("（未選択）"),
    )


class CaseCreateForm(forms.Form):
    channel = forms.ChoiceField(label=_("受付方法"), choices=Channel.choices, initial=Channel.PHONE)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, label=_("分類"))
    caller_relation = forms.ChoiceField(
        label=_("架電者"), choices=CallerRelation.choices, initial=CallerRelation.GUARDIAN
    )
    caller_name = forms.CharField(label=_("架電者氏名"), max_length=100, required=False)
    caller_kana = forms.CharField(label=_("架電者氏名カナ"), max_length=100, required=False)
    child_name = forms.CharField(label=_("児童氏名"), max_length=100, required=False)
    child_dob = forms.DateField(
        label=_("児童生年月日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    contact_phone = forms.CharField(label=_("連絡先電話番号"), max_length=30, required=False)
    contact_email = forms.CharField(label=_("連絡先メールアドレス"), max_length=254, required=False)
    inquiry = forms.CharField(
        label=_("問い合わせ内容"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 5})
    )
    response = forms.CharField(
        label=_("対応内容"), max_length=TEXT_LIMIT, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    priority = forms.ChoiceField(label=_("優先度"), choices=Priority.choices, initial=Priority.NORMAL)
    then = forms.ChoiceField(
        label=_("保存後の状態"),
        choices=[
            ("in_progress", _("対応中のまま")),
            ("closed", _("完了にする")),
            ("escalate", _("区へ確認依頼する")),
            ("callback", _("折り返し待ちにする")),
        ],
        initial="in_progress",
        widget=forms.RadioSelect,
    )
    question = forms.CharField(
        label=_("区への確認内容"),
        max_length=TEXT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"] = _category_field([program.pk])
        if not self.is_bound:
            self.fields["idempotency_key"].initial = uuid.uuid4().hex

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("then") == "escalate" and not (data.get("question") or "").strip():
            self.add_error("question", _("区への確認内容を入力してください。"))
        return data


class CaseEditForm(forms.ModelForm):
    """The editable fields of an existing case; status and version are not among them."""

    class Meta:
        model = Case
        fields = [
            "channel",
            "category",
            "caller_relation",
            "caller_name",
            "caller_kana",
            "child_name",
            "child_dob",
            "contact_phone",
            "contact_email",
            "inquiry",
            "response",
            "priority",
        ]
        widgets = {
            "inquiry": forms.Textarea(attrs={"rows": 5}),
            "response": forms.Textarea(attrs={"rows": 5}),
            "child_dob": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"] = _category_field([self.instance.program_id], keep=self.instance.category_id)
        # Normalised by the service; a raw "０３－…" must pass the form to get there.
        self.fields["contact_phone"] = forms.CharField(
            label=_("連絡先電話番号"), max_length=30, required=False
        )
        self.fields["contact_email"] = forms.CharField(
            label=_("連絡先メールアドレス"), max_length=254, required=False
        )
        if self.instance.channel == Channel.FORM:
            # A web inquiry has no caller: the person is the 問い合わせ者.
            self.fields["caller_relation"].label = _("問い合わせ者の続柄")
            self.fields["caller_name"].label = _("問い合わせ者氏名")
            self.fields["caller_kana"].label = _("問い合わせ者氏名カナ")

    def _post_clean(self) -> None:
        # Validation of the whole model happens in services.update_case (one place).
        pass

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("通話記録・対応記録"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(
        label=_("種別"),
        choices=[("call_note", _("通話記録")), ("response", _("対応内容"))],
        initial="call_note",
    )


class CorrectionForm(forms.Form):
    body = forms.CharField(
        label=_("訂正内容"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )


class EscalateForm(forms.Form):
    question = forms.CharField(
        label=_("区への確認内容"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 4})
    )


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("区の回答"), max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 4})
    )


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(label=_("メモ"), max_length=2000, required=False)


class AssignForm(forms.Form):
    assignee = forms.IntegerField(required=False)


class FilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状態"), choices=[("", _("すべて")), *Status.choices], required=False)
    category = forms.IntegerField(label=_("分類"), required=False)
    channel = forms.ChoiceField(
        label=_("受付方法"), choices=[("", _("すべて")), *Channel.choices], required=False
    )
    date_from = forms.DateField(
        label=_("受付日（から）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("受付日（まで）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    assignee = forms.IntegerField(label=_("担当者"), required=False)
    escalated = forms.BooleanField(label=_("区確認あり"), required=False)
    overdue = forms.BooleanField(label=_("区回答期限超過"), required=False)
    mine = forms.BooleanField(label=_("自分の担当"), required=False)
    # The dashboards' links: the open cases, and the ward's answers from a day on.
    open = forms.BooleanField(label=_("未完了のみ"), required=False)
    answered_from = forms.DateField(
        label=_("区回答日（から）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    callback = forms.ChoiceField(
        label=_("折り返しの期限"),
        choices=[("", _("すべて")), ("due_today", _("本日が期限")), ("overdue", _("期限超過"))],
        required=False,
    )


class SearchForm(FilterForm):
    text = forms.CharField(label=_("受付番号・内容の検索"), max_length=200, required=False)


class StandardAnswerForm(forms.ModelForm):
    class Meta:
        model = StandardAnswer
        fields = ["category", "title", "body", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"] = _category_field([program.pk], keep=self.initial.get("category"))


class AnswerSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False)
    category = forms.IntegerField(required=False)


class CorrectionWindowForm(forms.Form):
    until = forms.DateTimeField(
        label=_("訂正を許可する期限"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("空にすると訂正の許可を取り消します。"),
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("訂正を許可するときは必須です（監査記録に残ります）。"),
    )


class CategoryNameForm(forms.Form):
    name = forms.CharField(label=_("分類名"), max_length=100)


# --- identify later, callbacks, related cases ------------------------------------------------


class UnlinkForm(forms.Form):
    reason = forms.CharField(
        label=_("紐付けを解除する理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class VerificationForm(forms.Form):
    """The items the caller answered correctly; the choices are the program's items only."""

    items = forms.MultipleChoiceField(
        label=_("本人確認：正しく答えた項目"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["items"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = choices
        field.error_messages["invalid_choice"] = _("本人確認の項目にこの事業で使わない項目が含まれています。")


def _time_field(label: Any) -> forms.TimeField:
    return forms.TimeField(label=label, required=False, widget=forms.TimeInput(attrs={"type": "time"}))


class CallbackForm(forms.Form):
    due_on = forms.DateField(label=_("折り返し予定日"), widget=forms.DateInput(attrs={"type": "date"}))
    start = _time_field(_("時間帯（から）"))
    until = _time_field(_("時間帯（まで）"))
    note = forms.CharField(label=_("メモ"), max_length=500, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("until") and data["start"] >= data["until"]:
            self.add_error("until", _("時間帯の終わりは始まりより後にしてください。"))
        return data


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(label=_("結果"), choices=CallbackOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("メモ"), max_length=500, required=False)
    next_due_on = forms.DateField(
        label=_("次の折り返し予定日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    next_from = _time_field(_("次の時間帯（から）"))
    next_until = _time_field(_("次の時間帯（まで）"))


class MergeForm(forms.Form):
    receipt_number = forms.CharField(label=_("統合先の受付番号"), max_length=20)
