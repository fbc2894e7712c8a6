"""Every field's bad input (security.md T-IN-01..14 as they apply to a public form)."""

from __future__ import annotations

import datetime
import time

import pytest
from django.test import Client

from madoguchi.cases.models import Case, Category
from madoguchi.programs.models import Program
from madoguchi.public.forms import MESSAGE_LIMIT, NAME_LIMIT, InquiryForm

from .conftest import form_data


def errors_for(world, **changes):
    form = InquiryForm(form_data(**changes), program=world.program)
    form.is_valid()
    return form


@pytest.mark.django_db
class FieldTests:
    def test_a_valid_form_cleans_every_field(self, world):
        form = errors_for(world)
        assert form.is_valid(), form.errors
        data = form.cleaned_data
        assert data["guardian_kana"] == "シケン ハナコ"
        assert data["child_dob"] == datetime.date(2020, 5, 3)
        assert data["phone"] == "090-1234-5678"
        assert data["category"] is None

    def test_it_keeps_a_name_with_a_four_byte_kanji_exactly(self, world):
        form = errors_for(world, guardian_name="𠮷田 花子")
        assert form.is_valid()
        assert form.cleaned_data["guardian_name"] == "𠮷田 花子"
        assert len(form.cleaned_data["guardian_name"].split()[0]) == 2

    def test_it_keeps_variant_kanji_and_ivs_selectors_byte_for_byte(self, world):
        for name in ("髙橋 花子", "山﨑 花子", "葛\U000e0100飾 花子", "\ufa30田 花子"):
            form = errors_for(world, guardian_name=name)
            assert form.is_valid()
            assert form.cleaned_data["guardian_name"] == name

    def test_it_removes_zero_width_characters_and_refuses_a_direction_override(self, world):
        form = errors_for(world, guardian_name="\ufeff試験\u200b 花子")
        assert form.cleaned_data["guardian_name"] == "試験 花子"
        form = errors_for(world, guardian_name="試験\u202e花子")
        assert "guardian_name" in form.errors
        assert "文字の向き" in str(form.errors["guardian_name"])

    def test_it_refuses_a_nul_character_with_a_field_error(self, world):
        form = errors_for(world, child_name="試験\x00太郎")
        assert "child_name" in form.errors

    def test_it_refuses_a_line_break_in_a_name(self, world):
        form = errors_for(world, guardian_name="試験\r\nFAKE LOG ENTRY user=admin")
        assert "guardian_name" in form.errors

    def test_it_accepts_the_limit_in_code_points_and_refuses_one_more(self, world):
        assert errors_for(world, guardian_name="𠮷" * NAME_LIMIT).is_valid()
        form = errors_for(world, guardian_name="𠮷" * (NAME_LIMIT + 1))
        assert "guardian_name" in form.errors
        assert f"{NAME_LIMIT}文字以内" in str(form.errors["guardian_name"])

    def test_the_browser_limit_is_never_stricter_than_the_server(self, world):
        form = InquiryForm(program=world.program)
        html = str(form["guardian_name"])
        assert f'maxlength="{NAME_LIMIT * 2}"' in html
        assert f'maxlength="{MESSAGE_LIMIT * 2}"' in str(form["message"])

    def test_it_refuses_a_one_megabyte_name_quickly(self, world):
        started = time.monotonic()
        form = errors_for(world, guardian_name="あ" * 1_000_000, message="x" * 100_000)
        assert "guardian_name" in form.errors and "message" in form.errors
        assert time.monotonic() - started < 2

    def test_it_allows_line_breaks_in_the_message_up_to_its_limit(self, world):
        form = errors_for(world, message="一行目\r\n二行目\tタブ")
        assert form.cleaned_data["message"] == "一行目\n二行目\tタブ"
        assert errors_for(world, message="あ" * MESSAGE_LIMIT).is_valid()
        assert "message" in errors_for(world, message="あ" * (MESSAGE_LIMIT + 1)).errors

    def test_it_turns_half_width_kana_into_full_width_and_refuses_latin_letters(self, world):
        assert errors_for(world, guardian_kana="ﾔﾏﾀﾞ ﾀﾛｳ").cleaned_data["guardian_kana"] == "ヤマダ タロウ"
        form = errors_for(world, guardian_kana="abc")
        assert "カタカナかひらがな" in str(form.errors["guardian_kana"])

    @pytest.mark.parametrize(
        "typed", ["０３－１２３４－５６７８", "03ー1234ー5678", "03‐1234−5678", "03–1234—5678"]
    )
    def test_it_normalises_every_phone_notation(self, world, typed):
        assert errors_for(world, phone=typed).cleaned_data["phone"] == "03-1234-5678"

    def test_it_refuses_a_phone_number_with_too_many_digits(self, world):
        assert "phone" in errors_for(world, phone="03-12345-678901").errors

    def test_it_normalises_a_full_width_email_and_refuses_a_malformed_one(self, world):
        assert (
            errors_for(world, email="ｈａｎａｋｏ＠Example.JP").cleaned_data["email"] == "hanako@example.jp"
        )
        assert "email" in errors_for(world, email="hanako@").errors

    def test_it_needs_a_phone_number_or_an_email_address(self, world):
        form = errors_for(world, phone="", email="")
        assert "どちらか" in str(form.errors["phone"])
        assert errors_for(world, phone="").is_valid()
        assert errors_for(world, email="").is_valid()

    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("2020-05-03", datetime.date(2020, 5, 3)),
            ("２０２０／５／３", datetime.date(2020, 5, 3)),
            ("R2.5.3", datetime.date(2020, 5, 3)),
            ("令和二年五月三日", datetime.date(2020, 5, 3)),
            ("20200503", datetime.date(2020, 5, 3)),
        ],
    )
    def test_it_reads_the_date_of_birth_in_any_notation(self, world, typed, expected):
        assert errors_for(world, child_dob=typed).cleaned_data["child_dob"] == expected

    def test_it_refuses_a_day_that_does_not_exist(self, world):
        form = errors_for(world, child_dob="2021-02-30")
        assert "カレンダーにありません" in str(form.errors["child_dob"])

    def test_it_refuses_a_date_in_the_future(self, world):
        assert "今日より後" in str(errors_for(world, child_dob="2099-01-01").errors["child_dob"])

    def test_it_explains_gently_when_the_child_is_outside_the_programs_window(self, world):
        form = errors_for(world, child_dob="2023-02-28")
        message = str(form.errors["child_dob"])
        assert "対象は" in message and "お確かめください" in message

    def test_it_refuses_a_date_it_cannot_read(self, world):
        assert "書き方" in str(errors_for(world, child_dob="むかし").errors["child_dob"])

    def test_it_offers_only_the_programs_active_categories(self, world, categories):
        form = InquiryForm(program=world.program)
        names = [label for _value, label in form.fields["category"].choices]
        assert "申請について" in names and "廃止した分類" not in names
        assert "category" in errors_for(world, category=str(categories[2].pk)).errors

    def test_it_requires_consent(self, world):
        form = errors_for(world, consent=None)
        assert "同意が必要" in str(form.errors["consent"])


@pytest.mark.django_db
class RawPostTests:
    """Requests no browser would send: still a page, never a 500, nothing written."""

    def test_a_nul_byte_in_a_raw_post_is_a_form_error(self, world):
        client = Client()
        response = client.post(
            f"/inquiry/{world.program.code}/",
            form_data(guardian_name="試験\x00花子"),
            REMOTE_ADDR="192.0.2.1",
        )
        assert response.status_code == 200
        assert 'aria-invalid="true"' in response.content.decode()
        assert not Case.objects.exists()

    def test_twenty_thousand_fields_are_refused_with_400(self, world):
        body = "&".join(f"f{i}=x" for i in range(20_000))
        response = Client().post(
            f"/inquiry/{world.program.code}/", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400

    def test_markup_is_shown_as_text(self, world):
        client = Client()
        response = client.post(
            f"/inquiry/{world.program.code}/",
            form_data(guardian_name="＜script＞alert(1)＜/script＞", message="<img src=x onerror=alert(1)>"),
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "＜script＞alert(1)＜/script＞" in page

    def test_sql_looking_text_is_stored_literally(self, world):
        client = Client()
        client.post(f"/inquiry/{world.program.code}/", form_data(message="' OR 1=1 --"))
        page = client.get(f"/inquiry/{world.program.code}/confirm/").content.decode()
        token = page.split('name="token" value="')[1].split('"')[0]
        client.post(f"/inquiry/{world.program.code}/send/", {"token": token})
        assert Case.objects.get().inquiry == "' OR 1=1 --"

    def test_a_line_break_in_a_name_cannot_forge_a_log_line(self, world, caplog):
        client = Client()
        response = client.post(
            f"/inquiry/{world.program.code}/", form_data(guardian_name="試験\r\nFAKE LOG ENTRY user=admin")
        )
        assert response.status_code == 200
        assert "FAKE LOG ENTRY" not in caplog.text


@pytest.mark.django_db
class SharedFieldTests:
    """The form's fields are shared by its instances (not deep-copied per form), except the
    category, whose choices are each program's own."""

    def test_instances_share_the_fields_they_never_change(self, world):
        first, second = InquiryForm(program=world.program), InquiryForm(program=world.program)
        assert first.fields["guardian_name"] is second.fields["guardian_name"]
        assert first.fields["guardian_name"] is InquiryForm.base_fields["guardian_name"]
        assert first.fields["category"] is not second.fields["category"]

    def test_each_form_lists_its_own_programs_categories(self, world, categories):
        other = Program.objects.get(pk=world.program.pk)
        other.pk = None
        other.code = "shared-fields-other"
        other.receipt_prefix = "SF"
        other.save()
        theirs = Category.objects.create(program=other, name="別の事業の分類")
        mine = InquiryForm(program=world.program).fields["category"].choices
        their_choices = InquiryForm(program=other).fields["category"].choices
        assert [label for _key, label in mine][1:] == ["申請について", "支給日について"]
        assert [str(key) for key, _label in their_choices] == ["", str(theirs.pk)]
        assert list(InquiryForm.base_fields["category"].choices) == []

    def test_a_missing_required_value_still_gets_its_own_message(self, world):
        form = InquiryForm(form_data(guardian_name="", message=""), program=world.program)
        assert not form.is_valid()
        assert form.errors["guardian_name"] == ["保護者のお名前を入力してください。"]
        assert form.errors["message"] == ["お問い合わせの内容を入力してください。"]

    @pytest.mark.parametrize(
        "changes",
        [
            {},
            {"guardian_name": "", "message": "", "consent": None},
            {"guardian_kana": "Yamada", "phone": "12", "email": "no-at-sign", "child_dob": "2099-01-01"},
            {"phone": "", "email": "", "category": "999999", "guardian_name": "𠮷" * 51},
        ],
    )
    def test_checking_without_bound_fields_gives_what_djangos_own_loop_gives(
        self, world, categories, changes
    ):
        from unittest import mock

        from django import forms

        def checked(with_djangos_loop: bool) -> tuple[dict, dict]:
            form = InquiryForm(form_data(**changes), program=world.program)
            if with_djangos_loop:
                with mock.patch.object(InquiryForm, "_clean_fields", forms.BaseForm._clean_fields):
                    form.is_valid()
            else:
                form.is_valid()
            return form.cleaned_data, form.errors.get_json_data()

        assert checked(with_djangos_loop=False) == checked(with_djangos_loop=True)

    def test_checking_a_form_makes_no_bound_field(self, world):
        from unittest import mock

        from django.forms.boundfield import BoundField

        with mock.patch.object(BoundField, "__init__", side_effect=AssertionError("a bound field")):
            assert InquiryForm(form_data(), program=world.program).is_valid()
