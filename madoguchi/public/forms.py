"""The resident's inquiry form: validation and cleaning only, no side effects.

Every limit is counted in code points on the server (R-28). The HTML `maxlength` is set to
twice the server limit: browsers count UTF-16 units, so a name of 𠮷 (two units each) at
the server limit must not be blocked by the browser.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import Category
from madoguchi.lib.dates import parse_date
from madoguchi.lib.email import normalize_email
from madoguchi.lib.errors import InputError
from madoguchi.lib.phone import normalize_phone
from madoguchi.lib.text import clean_name, clean_text, normalize_kana
from madoguchi.programs.models import Program
from madoguchi.public.selectors import categories_for

NAME_LIMIT = 50
KANA_LIMIT = 60
DATE_LIMIT = 30
PHONE_LIMIT = 30
EMAIL_LIMIT = 254
MESSAGE_LIMIT = 2000
# No program serves children older than this; anything earlier is a typing mistake.
CHILD_MAX_AGE_DAYS = 30 * 366

# Plain words for each reason the lib helpers give (their codes), so the resident reads the
# same sentence in either language. Unknown codes fall back to the helper's own message.
_REASONS: dict[str, Any] = {
    "control_character": _("改行や、目に見えない特別な文字は使えません。入力し直してください。"),
    "bidi_control": _("文字の向きを変える特別な文字は使えません。入力し直してください。"),
    "surrogate": _("読み取れない文字が含まれています。入力し直してください。"),
    "invalid_kana": _("フリガナは、カタカナかひらがなで入力してください。"),
    "invalid_phone": _(
        "電話番号を確かめてください。市外局番から数字で入力してください（例: 03-1234-5678、090-1234-5678）。"
    ),
    "invalid_email": _("メールアドレスを確かめてください（例: hanako@example.jp）。"),
    "invalid_format": _(
        "日付の書き方がわかりませんでした。例のように入力してください（例: 2020-05-03、令和2年5月3日）。"
    ),
    "incomplete_date": _("年・月・日まで入力してください（例: 2020-05-03、令和2年5月3日）。"),
    "invalid_date": _("この日付はカレンダーにありません。日付を確かめてください。"),
    "invalid_month": _("この日付はカレンダーにありません。日付を確かめてください。"),
    "invalid_year": _("この日付はカレンダーにありません。日付を確かめてください。"),
    "invalid_era_year": _("この日付はカレンダーにありません。元号と年を確かめてください。"),
    "outside_era": _("この元号にその日付はありません。元号と年を確かめてください。"),
    "before_meiji": _("この日付はカレンダーにありません。日付を確かめてください。"),
}


def _too_long(limit: int, count: int) -> ValidationError:
    return ValidationError(
        _("%(limit)s文字以内で入力してください（いまは%(count)s文字です）。"),
        code="max_length",
        params={"limit": f"{limit:,}", "count": f"{count:,}"},
    )


def _reason(error: InputError) -> ValidationError:
    message = _REASONS.get(error.code, error.message)
    return ValidationError(message, code=error.code)


class ResidentTextField(forms.CharField):
    """A text field cleaned by one of the `madoguchi.lib` helpers.

    The length is checked before the helper runs, so a 1 MB value is refused at once
    without being scanned character by character.
    """

    def __init__(self, *, limit: int, cleaner: Callable[[str], str] = clean_name, **kwargs: Any) -> None:
        self.limit = limit
        self.cleaner = cleaner
        # strip=False: the helper trims (it also knows the ideographic space).
        super().__init__(strip=False, **kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        if len(text) > self.limit:
            raise _too_long(self.limit, len(text))
        try:
            return self.cleaner(text)
        except InputError as error:
            raise _reason(error) from error

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        if not widget.is_hidden:
            attrs["maxlength"] = str(self.limit * 2)
        return attrs


def _format_date(day: datetime.date) -> str:
    return date_format(day, "DATE_FORMAT")


def dob_problem(day: datetime.date, program: Program) -> str | None:
    """Why a child's birth date cannot be taken today (an error code), or None."""
    today = timezone.localdate()
    if day > today:
        return "future"
    if day < today - datetime.timedelta(days=CHILD_MAX_AGE_DAYS):
        return "too_old"
    if not program.is_child_eligible(day):
        return "not_eligible"
    return None


class InquiryForm(forms.Form):
    guardian_name = ResidentTextField(
        limit=NAME_LIMIT,
        label=_("保護者のお名前"),
        help_text=_("戸籍や住民票のとおりの漢字で入力してください。例: 山田 花子"),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    guardian_kana = ResidentTextField(
        limit=KANA_LIMIT,
        cleaner=normalize_kana,
        label=_("保護者のお名前（フリガナ）"),
        help_text=_("カタカナかひらがなで入力してください。例: ヤマダ ハナコ"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    child_name = ResidentTextField(
        limit=NAME_LIMIT,
        label=_("お子さまのお名前"),
        help_text=_("例: 山田 太郎"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    child_dob = ResidentTextField(
        limit=DATE_LIMIT,
        label=_("お子さまの生年月日"),
        help_text=_("西暦でも和暦でも入力できます。例: 2020-05-03、2020/5/3、令和2年5月3日、R2.5.3"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-era-helper": "1"}),
    )
    phone = ResidentTextField(
        limit=PHONE_LIMIT,
        cleaner=normalize_phone,
        required=False,
        label=_("電話番号"),
        help_text=_("日中につながる番号。例: 090-1234-5678"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    email = ResidentTextField(
        limit=EMAIL_LIMIT,
        cleaner=normalize_email,
        required=False,
        label=_("メールアドレス"),
        help_text=_("入力すると、受付番号をメールでお送りします。例: hanako@example.jp"),
        widget=forms.TextInput(attrs={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"}),
    )
    # A plain choice over the categories read once in __init__: the same rows serve the
    # options and the validation (a ModelChoiceField reads them twice, through a cursor).
    category = forms.ChoiceField(
        required=False,
        label=_("お問い合わせの種類"),
        help_text=_("わからないときは「わからない・その他」のままで構いません。"),
        error_messages={"invalid_choice": _("一覧の中から選んでください。")},
    )
    message = ResidentTextField(
        limit=MESSAGE_LIMIT,
        cleaner=clean_text,
        label=_("お問い合わせの内容"),
        help_text=_("2,000文字以内。マイナンバーや口座番号は書かないでください。"),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    consent = forms.BooleanField(
        label=_("上の「個人情報の利用目的」に同意します"),
        error_messages={
            "required": _(
                "送信するには、個人情報の利用目的への同意が必要です。同意いただけない場合は、お電話でお問い合わせください。"
            )
        },
    )

    def __init__(
        self, *args: Any, program: Program, categories: Iterable[Category] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.program = program
        if categories is None:
            categories = categories_for(program)
        self.categories: dict[str, Category] = {str(c.pk): c for c in categories}
        # The one field this form changes: its own copy (the others are shared, _SharedFields).
        category = self.fields["category"] = copy.deepcopy(self.fields["category"])
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("わからない・その他"))] + [
            (key, item.name) for key, item in self.categories.items()
        ]

    def _clean_fields(self) -> None:
        """Django's loop (`BaseForm._clean_fields`, Django 5.2) without a BoundField per field.

        Making the nine BoundFields (each translating its label and help text) was half of
        checking a valid form; a field's value is read from its widget as `BoundField.data`
        reads it. No field here is disabled or a file. The page with errors still makes them.
        """
        for name, field in self.fields.items():
            value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            try:
                self.cleaned_data[name] = field.clean(value)
                clean_field = getattr(self, f"clean_{name}", None)
                if clean_field is not None:
                    self.cleaned_data[name] = clean_field()
            except ValidationError as error:
                self.add_error(name, error)

    def clean_category(self) -> Category | None:
        return self.categories.get(self.cleaned_data.get("category") or "")

    def clean_child_dob(self) -> datetime.date | None:
        raw: str = self.cleaned_data["child_dob"]
        try:
            day = parse_date(raw, strict_era=False)
        except InputError as error:
            raise _reason(error) from error
        problem = dob_problem(day, self.program)
        if problem == "future":
            raise ValidationError(
                _("生年月日が今日より後の日付になっています。日付を確かめてください。"), code="future"
            )
        if problem == "too_old":
            raise ValidationError(_("お子さまの生年月日を確かめてください。"), code="too_old")
        if problem == "not_eligible":
            raise ValidationError(self._eligibility_message(), code="not_eligible")
        return day

    def _eligibility_message(self) -> str:
        start, end = self.program.child_dob_from, self.program.child_dob_to
        if start and end:
            window = _("%(start)sから%(end)sまでに生まれたお子さま") % {
                "start": _format_date(start),
                "end": _format_date(end),
            }
        elif start:
            window = _("%(start)s以降に生まれたお子さま") % {"start": _format_date(start)}
        else:
            window = _("%(end)sまでに生まれたお子さま") % {"end": _format_date(end) if end else ""}
        return str(
            _(
                "この受付の対象は、%(window)sです。生年月日をもう一度お確かめください。"
                "対象かどうかわからないときは、お電話でもご相談いただけます。"
            )
            % {"window": window}
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        no_errors_on_contact = "phone" not in self.errors and "email" not in self.errors
        if no_errors_on_contact and not data.get("phone") and not data.get("email"):
            self.add_error(
                "phone",
                ValidationError(
                    _("連絡先として、電話番号かメールアドレスのどちらかを入力してください。"),
                    code="contact_required",
                ),
            )
        return data


_REQUIRED: dict[str, Any] = {
    "guardian_name": _("保護者のお名前を入力してください。"),
    "guardian_kana": _("保護者のお名前のフリガナを入力してください。"),
    "child_name": _("お子さまのお名前を入力してください。"),
    "child_dob": _("お子さまの生年月日を入力してください。"),
    "message": _("お問い合わせの内容を入力してください。"),
}


class _SharedFields(dict[str, forms.Field]):
    """A form's declared fields, shared by its instances instead of deep-copied for each.

    Django deep-copies every field (its widget, attributes and messages) for every form, so
    that an instance may change its own: that was a third of this form's CPU, paid on every
    post of the input and on every error page. These fields are set up once, below, and not
    changed afterwards; the category's choices differ per program, so `InquiryForm` copies
    that one field for itself. Reading a shared field from several threads is safe.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


def _share_fields() -> None:
    for name, field in InquiryForm.base_fields.items():
        if field.required and not isinstance(field, forms.BooleanField):
            field.error_messages["required"] = _REQUIRED.get(name, _("入力してください。"))
    InquiryForm.base_fields = _SharedFields(InquiryForm.base_fields)


_share_fields()


def storable(cleaned: dict[str, Any]) -> dict[str, str]:
    """The checked values as the draft keeps them in the session (JSON); `still_valid` reads
    them back."""
    category = cleaned.get("category")
    return {
        "guardian_name": cleaned["guardian_name"],
        "guardian_kana": cleaned["guardian_kana"],
        "child_name": cleaned["child_name"],
        "child_dob": cleaned["child_dob"].isoformat(),
        "phone": cleaned.get("phone") or "",
        "email": cleaned.get("email") or "",
        "category": str(category.pk) if category else "",
        "message": cleaned["message"],
    }


def still_valid(stored: Any, *, program: Program, categories: Iterable[Category]) -> dict[str, Any] | None:
    """The checked values a draft stored when its form was posted, as `cleaned_data`, if they
    still hold now; None when the form must check the draft afresh.

    The draft lives server-side (the residents' session store), written only by the input
    step after the form accepted it, so its checked copy is what the form gave then. Cleaning
    depends on nothing but the typed text, except for what is asked again here: the category
    must still be active and the birth date still within today's and the program's bounds
    (the program may have been edited since). Checking the whole form again cost about a
    twentieth of a submission's CPU.
    """
    if not isinstance(stored, dict):
        return None
    try:
        day = datetime.date.fromisoformat(stored["child_dob"])
        values = {name: stored[name] for name in _STORED_TEXT}
    except (KeyError, TypeError, ValueError):
        return None
    category: Category | None = None
    if stored.get("category"):
        category = next((item for item in categories if str(item.pk) == stored["category"]), None)
        if category is None:
            return None
    if dob_problem(day, program) is not None:
        return None
    return {**values, "child_dob": day, "category": category, "consent": True}


# The text values of a stored draft (`storable`), as the form cleaned them.
_STORED_TEXT = ("guardian_name", "guardian_kana", "child_name", "phone", "email", "message")
