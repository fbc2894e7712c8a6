"""What the form does to be fast, and the guarantees it keeps while doing it.

The residents' own session (its cookie, its store), the per-process copy of the program, and
the input page rendered once per language and program version.
"""

from __future__ import annotations

import datetime
import re
import threading
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client, override_settings

from madoguchi.accounts.testing import login
from madoguchi.cases.models import Case, Category
from madoguchi.programs.models import Program
from madoguchi.public import selectors, views
from madoguchi.public.forms import InquiryForm
from madoguchi.public.services import submit_inquiry

from .conftest import form_data, public_session
from .test_flow import receipt_of, send, start, token_of


def csrf_token_of(page: str) -> str:
    return page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


@pytest.mark.django_db
class ResidentSessionTests:
    def test_the_draft_lives_under_its_own_cookie_scoped_to_the_form(self, world):
        client = Client()
        response = client.post(f"/inquiry/{world.program.code}/", form_data())
        cookie = response.cookies[settings.PUBLIC_SESSION_COOKIE_NAME]
        assert cookie["path"] == "/inquiry/"
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert settings.SESSION_COOKIE_NAME not in response.cookies
        # Server-side: the cookie holds a key, never the draft.
        assert "試験" not in cookie.value and len(cookie.value) >= 32
        assert public_session(client)["public_inquiry_draft"]["data"]["guardian_name"] == "試験 花子"

    def test_a_staff_user_on_the_form_is_an_anonymous_resident_and_keeps_the_staff_session(self, world):
        client = Client()
        login(client, world.operator)
        staff_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        token = start(client, world.program)
        assert receipt_of(send(client, world.program, token)) == Case.objects.get().receipt_number
        assert Case.objects.get().created_by is None
        # The staff session is neither read as the resident's nor replaced by it.
        assert client.cookies[settings.SESSION_COOKIE_NAME].value == staff_key
        assert "public_inquiry_draft" not in client.session and "public_inquiry_done" not in client.session
        assert client.get("/cases/").status_code == 200

    def test_only_the_input_and_the_send_write_the_session(self, world):
        client = Client()
        name = settings.PUBLIC_SESSION_COOKIE_NAME
        assert name not in client.get(f"/inquiry/{world.program.code}/").cookies
        assert name in client.post(f"/inquiry/{world.program.code}/", form_data()).cookies
        confirm = client.get(f"/inquiry/{world.program.code}/confirm/")
        assert confirm.status_code == 200 and name not in confirm.cookies
        token = confirm.content.decode().split('name="token" value="')[1].split('"')[0]
        assert token == public_session(client)["public_inquiry_draft"]["token"]
        assert name in send(client, world.program, token).cookies

    def test_a_draft_expires_after_the_public_session_age(self, world):
        client = Client()
        with override_settings(PUBLIC_SESSION_AGE=60):
            client.post(f"/inquiry/{world.program.code}/", form_data())
        session = Session.objects.get(session_key=client.cookies[settings.PUBLIC_SESSION_COOKIE_NAME].value)
        remaining = session.expire_date - datetime.datetime.now(datetime.UTC)
        assert datetime.timedelta(seconds=0) < remaining <= datetime.timedelta(seconds=60)


@pytest.mark.django_db
class CacheSessionTests:
    """The production shape: the draft in the shared cache (Redis), no session row at all."""

    @pytest.fixture(autouse=True)
    def _cache_sessions(self, settings):
        settings.PUBLIC_SESSION_BACKEND = "cache"

    def test_the_whole_path_works_without_a_session_row(self, world):
        client = Client()
        token = start(client, world.program)
        response = send(client, world.program, token)
        assert receipt_of(response) == Case.objects.get().receipt_number
        assert not Session.objects.exists()
        key = client.cookies[settings.PUBLIC_SESSION_COOKIE_NAME].value
        assert cache.get(f"mdg:public:session:{key}") is not None
        # A double click still makes one case.
        assert receipt_of(send(client, world.program, token)) == receipt_of(response)
        assert Case.objects.count() == 1

    def test_a_cache_that_does_not_answer_gives_the_503_page_and_no_case(self, world):
        client = Client()
        token = start(client, world.program)
        with mock.patch.object(type(caches["default"]), "get", side_effect=ConnectionError("redis down")):
            response = send(client, world.program, token)
        assert response.status_code == 503
        assert "もう一度お試しください" in response.content.decode()
        assert not Case.objects.exists()
        # Back up: the draft is still there and sending makes the case.
        assert receipt_of(send(client, world.program, token)) == Case.objects.get().receipt_number

    def test_a_receipt_whose_session_cannot_be_saved_is_still_shown_and_stays_one_case(self, world):
        client = Client()
        token = start(client, world.program)
        with mock.patch.object(type(caches["default"]), "set", side_effect=ConnectionError("redis down")):
            response = send(client, world.program, token)
        # Committed before the session is saved: the number is shown all the same.
        number = receipt_of(response)
        assert number == Case.objects.get().receipt_number
        # The session still holds the draft and token: sending again finds the same case.
        assert receipt_of(send(client, world.program, token)) == number
        assert Case.objects.count() == 1

    def test_a_draft_that_cannot_be_saved_is_not_confirmed(self, world):
        client = Client()
        with mock.patch.object(type(caches["default"]), "add", side_effect=ConnectionError("redis down")):
            response = client.post(f"/inquiry/{world.program.code}/", form_data())
        assert response.status_code == 503
        assert settings.PUBLIC_SESSION_COOKIE_NAME not in response.cookies


@pytest.mark.django_db
class ProgramCopyTests:
    def test_a_change_made_in_this_process_is_seen_at_once(self, world):
        client = Client()
        assert client.get(f"/inquiry/{world.program.code}/").status_code == 200
        Category.objects.create(program=world.program, name="新しい分類", order=9)
        assert "新しい分類" in client.get(f"/inquiry/{world.program.code}/").content.decode()

    def test_a_change_made_elsewhere_is_seen_after_the_cache_time(self, world):
        client = Client()
        client.get(f"/inquiry/{world.program.code}/")
        # Another process's change: no signal reaches this one.
        Program.objects.filter(pk=world.program.pk).update(name="名前を変えた事業")
        assert "名前を変えた事業" not in client.get(f"/inquiry/{world.program.code}/").content.decode()
        later = selectors.time.monotonic() + settings.PUBLIC_PROGRAM_CACHE_SECONDS + 1
        with mock.patch.object(selectors.time, "monotonic", return_value=later):
            assert "名前を変えた事業" in client.get(f"/inquiry/{world.program.code}/").content.decode()

    def test_the_write_checks_the_period_as_the_database_holds_it(self, world):
        client = Client()
        token = start(client, world.program)
        # Closed by another process a moment ago: this process's copy still says open.
        yesterday = datetime.date.today() - datetime.timedelta(days=1)
        Program.objects.filter(pk=world.program.pk).update(
            recording_start=yesterday - datetime.timedelta(days=30), recording_end=yesterday
        )
        response = send(client, world.program, token)
        assert "受付期間外" in response.content.decode()
        assert not Case.objects.exists()


@pytest.mark.django_db
class EmptyFormPageTests:
    def test_each_resident_gets_their_own_csrf_token_and_request_id(self, world):
        first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        pages = [c.get(f"/inquiry/{world.program.code}/") for c in (first, second)]
        tokens = [csrf_token_of(p.content.decode()) for p in pages]
        assert tokens[0] != tokens[1]
        for page in pages:
            text = page.content.decode()
            assert "\x00" not in text and "slot:" not in text
            assert page["X-Request-ID"] in text
            assert text.count(csrf_token_of(text)) == 3  # meta, language switch, the form
        # Each token works with its own cookie: the cached page is a real form.
        response = first.post(
            f"/inquiry/{world.program.code}/", {**form_data(), "csrfmiddlewaretoken": tokens[0]}
        )
        assert response.status_code == 200 and 'name="token"' in response.content.decode()

    def test_the_cached_page_is_the_page_rendered_afresh(self, world):
        client = Client()
        client.get(f"/inquiry/{world.program.code}/")
        cached = client.get(f"/inquiry/{world.program.code}/")

        def render_afresh(request, entry):
            form = InquiryForm(program=entry.program, categories=entry.categories)
            return views._form_page(request, entry, form)

        with mock.patch.object(views, "_empty_form_page", side_effect=render_afresh) as afresh:
            fresh = client.get(f"/inquiry/{world.program.code}/")
        assert afresh.called

        def normalised(response):
            text = response.content.decode()
            return text.replace(response["X-Request-ID"], "RID").replace(csrf_token_of(text), "CSRF")

        assert normalised(cached) == normalised(fresh)

    def test_the_page_is_kept_per_language(self, world):
        client = Client()
        assert '<html lang="ja">' in client.get(f"/inquiry/{world.program.code}/").content.decode()
        client.post("/inquiry/i18n/setlang/", {"language": "en", "next": "/"})
        page = client.get(f"/inquiry/{world.program.code}/").content.decode()
        assert '<html lang="en">' in page and "Purpose of use of personal information" in page

    def test_a_resident_with_a_draft_gets_a_page_with_their_values(self, world):
        client = Client()
        client.get(f"/inquiry/{world.program.code}/")
        start(client, world.program, guardian_name="𠮷田 花子")
        assert 'value="𠮷田 花子"' in client.get(f"/inquiry/{world.program.code}/").content.decode()
        # … and nobody else does.
        assert "𠮷田" not in Client().get(f"/inquiry/{world.program.code}/").content.decode()


@pytest.mark.django_db(transaction=True)
class ConcurrentSendTests:
    def test_the_same_token_sent_at_once_from_many_threads_makes_one_case(self, world):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
        cleaned = {
            "guardian_name": "試験 花子",
            "guardian_kana": "シケン ハナコ",
            "child_name": "試験 太郎",
            "child_dob": datetime.date(2020, 5, 3),
            "phone": "090-1234-5678",
            "email": "",
            "category": None,
            "message": "同時に届いた二つの送信",
        }
        numbers: list[str] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(6)

        def send_once() -> None:
            try:
                barrier.wait()
                numbers.append(
                    submit_inquiry(
                        program=world.program, cleaned=cleaned, idempotency_key="same"
                    ).receipt_number
                )
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=send_once) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert Case.objects.count() == 1 and set(numbers) == {Case.objects.get().receipt_number}
        # The losers' transactions were undone whole. Their receipt numbers, drawn from the
        # program's sequence (no lock, see cases.receipts), are gaps: the next case goes on after.
        following = submit_inquiry(program=world.program, cleaned=cleaned, idempotency_key="next")
        first = int(numbers[0].rsplit("-", 1)[1])
        assert int(following.receipt_number.rsplit("-", 1)[1]) > first


@pytest.mark.django_db
class CachedPageTests:
    """Pages rendered once with placeholders, filled in per request (public/pages.py)."""

    TRICKY = {
        "guardian_name": "<b>𠮷田</b> & 'はな' \"こ\"",
        "message": "一行目\n<script>alert(1)</script>\nslot:token ＆ \\x00slot:token\\x00",
    }

    def pages_of(self, world, **values):
        """The confirmation as the answer to the input's POST, then from confirm/, the receipt."""
        client = Client()
        posted = client.post(f"/inquiry/{world.program.code}/", form_data(**values))
        confirm = client.get(f"/inquiry/{world.program.code}/confirm/")
        receipt = send(client, world.program, token_of(posted))
        return posted, confirm, receipt

    def normalised(self, response) -> str:
        text = response.content.decode()
        fields = r'(name="csrfmiddlewaretoken" value=|name="csrf-token" content=|name="token" value=)"[^"]+"'
        text = re.sub(fields, r"\1TOKEN", text)
        return text.replace(response["X-Request-ID"], "RID")

    def test_a_filled_in_page_is_the_page_the_template_renders_with_the_same_values(self, world):
        cached = self.pages_of(world, **self.TRICKY)
        assert selectors.form_program(world.program.code).pages  # they came from the cache
        with mock.patch.object(views, "render_page", side_effect=render_afresh) as afresh:
            fresh = self.pages_of(world, **self.TRICKY)
        assert afresh.call_count == 3  # the confirmation twice, the receipt
        for mine, theirs in zip(cached, fresh, strict=True):
            numbers = [receipt_number(mine), receipt_number(theirs)]
            assert self.normalised(mine).replace(numbers[0], "N") == self.normalised(theirs).replace(
                numbers[1], "N"
            )
        # The POST's answer and confirm/ are one page, kept once.
        assert self.normalised(cached[0]) == self.normalised(cached[1])
        assert sum("confirm.html" in key for key in selectors.form_program(world.program.code).pages) == 1
        confirm = cached[0].content.decode()
        assert "&lt;b&gt;𠮷田&lt;/b&gt; &amp; &#x27;はな&#x27; &quot;こ&quot;" in confirm
        assert "&lt;script&gt;" in confirm and "<script>alert" not in confirm

    def test_residents_never_see_each_others_values(self, world):
        first, _, _ = self.pages_of(world, guardian_name="一人目 花子", message="一人目の問い合わせ")
        second, _, _ = self.pages_of(world, guardian_name="二人目 花子", message="二人目の問い合わせ")
        assert "一人目" in first.content.decode() and "二人目" not in first.content.decode()
        assert "二人目" in second.content.decode() and "一人目" not in second.content.decode()
        for page in selectors.form_program(world.program.code).pages.values():
            assert "花子" not in page and "問い合わせ</dd>" not in page

    def test_the_receipt_says_mail_was_sent_only_when_it_was(self, world):
        _, _, mailed = self.pages_of(world)
        _, _, not_mailed = self.pages_of(world, email="")
        assert "受付番号をお送りしました" in mailed.content.decode()
        assert "受付番号をお送りしました" not in not_mailed.content.decode()

    def test_an_address_with_a_query_string_is_rendered_afresh(self, world):
        client = Client()
        page = client.get(f"/inquiry/{world.program.code}/?utm_source=%22%3E%3Cx").content.decode()
        assert f'name="next" value="/inquiry/{world.program.code}/?utm_source=%22%3E%3Cx"' in page
        assert not any("utm_source" in p for p in selectors.form_program(world.program.code).pages.values())


def receipt_number(response) -> str:
    text = response.content.decode()
    return text.split('id="receipt-number">')[1].split("<")[0] if 'id="receipt-number"' in text else "-"


def render_afresh(request, entry, template, context, *, values=None, variant="", status=200, address=""):
    from django.http import HttpResponse
    from django.template.loader import render_to_string

    own = {"page_address": address} if address else {}
    return HttpResponse(
        render_to_string(template, {**context, **own, **(values or {})}, request=request), status=status
    )


@pytest.mark.django_db
class SendWithoutCheckingAgainTests:
    """The send takes the values the input step checked (kept server-side in the draft) and
    asks again only what may have changed since: the category, the birth date's bounds."""

    def test_a_send_does_not_check_the_whole_form_again(self, world, categories):
        client = Client()
        token = start(client, world.program, category=str(categories[0].pk), child_dob="R2.5.3")
        with mock.patch.object(InquiryForm, "full_clean", side_effect=AssertionError("checked again")):
            response = send(client, world.program, token)
        case = Case.objects.get()
        assert receipt_of(response) == case.receipt_number
        assert case.category == categories[0] and case.child_dob == datetime.date(2020, 5, 3)
        assert case.caller_kana == "シケン ハナコ" and case.contact_phone == "090-1234-5678"
        assert case.contact_email == "hanako@example.jp" and case.inquiry == "申請書が届いていません。"

    def test_a_birth_date_the_program_no_longer_takes_sends_the_resident_back_to_the_form(self, world):
        client = Client()
        token = start(client, world.program)
        Program.objects.filter(pk=world.program.pk).update(child_dob_from=datetime.date(2021, 4, 2))
        response = send(client, world.program, token)
        page = response.content.decode()
        assert response.status_code == 200 and "この受付の対象は" in page and 'value="試験 花子"' in page
        assert not Case.objects.exists()

    def test_a_category_withdrawn_after_the_confirmation_sends_the_resident_back_to_choose(
        self, world, categories
    ):
        client = Client()
        token = start(client, world.program, category=str(categories[0].pk))
        categories[0].is_active = False
        categories[0].save()
        page = send(client, world.program, token).content.decode()
        assert "一覧の中から選んでください" in page and 'value="試験 花子"' in page
        assert not Case.objects.exists()

    def test_a_draft_without_its_checked_copy_is_checked_afresh(self, world):
        client = Client()
        token = start(client, world.program)
        session = public_session(client)
        draft = session["public_inquiry_draft"]
        del draft["cleaned"]
        session["public_inquiry_draft"] = draft
        session.save()
        with mock.patch.object(
            InquiryForm, "full_clean", autospec=True, side_effect=InquiryForm.full_clean
        ) as checked:
            assert receipt_of(send(client, world.program, token)) == Case.objects.get().receipt_number
        assert checked.called


@pytest.mark.django_db
class PlainRequestCostTests:
    """What every request of the form pays before its view: the staff side's work is skipped."""

    def test_the_residents_pages_make_no_message_storage_and_the_staff_pages_do(self, world):
        public = Client().get(f"/inquiry/{world.program.code}/")
        assert public.status_code == 200 and not hasattr(public.wsgi_request, "_messages")
        client = Client()
        login(client, world.operator)
        staff = client.get("/cases/")
        assert staff.status_code == 200 and hasattr(staff.wsgi_request, "_messages")

    def test_the_form_is_the_first_prefix_the_resolver_tries(self):
        from django.urls import get_resolver, resolve

        first = get_resolver().url_patterns[0]
        assert str(first.pattern) == "inquiry/"
        assert resolve("/inquiry/i18n/setlang/").url_name == "set_language"
        assert resolve("/healthz").view_name == "core:healthz"
