"""The resident's path: input → confirmation → completion, and everything that can go wrong."""

from __future__ import annotations

import datetime
import re
import types
from unittest import mock

import pytest
from django.core import mail
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client, override_settings

from madoguchi.cases.models import Case, Channel
from madoguchi.programs.models import Program

from .conftest import form_data, public_session


def start(client: Client, program: Program, **changes) -> str:
    """Fill in the form: the answer is the confirmation; returns the idempotency token shown."""
    response = client.post(f"/inquiry/{program.code}/", form_data(**changes))
    return token_of(response)


def token_of(response) -> str:
    """The idempotency token on a confirmation page."""
    assert response.status_code == 200, response.content.decode()[:2000]
    page = response.content.decode()
    assert 'name="token"' in page, page[:2000]
    return page.split('name="token" value="')[1].split('"')[0]


def send(client: Client, program: Program, token: str, **extra):
    return client.post(f"/inquiry/{program.code}/send/", {"token": token}, **extra)


def receipt_of(response) -> str:
    """The receipt number on the receipt page (the answer to the send POST)."""
    assert response.status_code == 200, response.content.decode()[:2000]
    page = response.content.decode()
    assert 'id="receipt-number"' in page, page[:2000]
    return page.split('id="receipt-number">')[1].split("<")[0]


@pytest.mark.django_db
class FlowTests:
    def test_a_resident_sends_an_inquiry_and_sees_the_receipt_number(self, world, categories):
        client = Client()
        token = start(client, world.program, guardian_name="𠮷田 花子", category=str(categories[0].pk))
        response = send(client, world.program, token)
        case = Case.objects.get()
        assert receipt_of(response) == case.receipt_number
        assert case.channel == Channel.FORM
        assert case.caller_name == "𠮷田 花子"
        assert case.caller_kana == "シケン ハナコ"
        assert case.child_dob == datetime.date(2020, 5, 3)
        assert case.contact_phone == "090-1234-5678"
        assert case.category == categories[0]
        assert case.household is None and case.created_by is None
        page = response.content.decode()
        assert "𠮷田" not in page and "090-1234" not in page

    def test_the_confirmation_shows_what_will_be_sent_and_nothing_is_sent_yet(self, world):
        client = Client()
        posted = client.post(f"/inquiry/{world.program.code}/", form_data(child_dob="R2.5.3"))
        again = client.get(f"/inquiry/{world.program.code}/confirm/")
        for response in (posted, again):
            page = response.content.decode()
            assert "試験 花子" in page and "2020年5月3日（令和2年）" in page and "090-1234-5678" in page
        assert not Case.objects.exists()

    def test_the_valid_input_is_answered_with_the_confirmation_and_its_token(self, world):
        # Three requests per inquiry: the form's POST is answered with the confirmation itself
        # (200, not a redirect to confirm/), carrying the token of the draft just stored.
        client = Client()
        response = client.post(f"/inquiry/{world.program.code}/", form_data())
        assert response.status_code == 200 and "Location" not in response
        page = response.content.decode()
        assert "入力内容の確認" in page and "試験 花子" in page and "シケン ハナコ" in page
        token = token_of(response)
        draft = public_session(client)["public_inquiry_draft"]
        assert draft["token"] == token and draft["data"]["guardian_name"] == "試験 花子"
        # Its own address is confirm/: the script shows it in the address bar, and the
        # language switch comes back there.
        confirm_url = f"/inquiry/{world.program.code}/confirm/"
        assert f'<link rel="canonical" href="{confirm_url}">' in page
        assert f'name="next" value="{confirm_url}"' in page
        assert "public/inquiry" in page.split("</head>")[0]
        # The token shown sends: form POST, send POST, and the receipt.
        assert receipt_of(send(client, world.program, token)) == Case.objects.get().receipt_number

    def test_confirm_shows_the_same_page_the_post_answered_for_reload_back_and_language(self, world):
        client = Client()
        posted = client.post(f"/inquiry/{world.program.code}/", form_data(message="<b>一行目</b>"))
        again = client.get(f"/inquiry/{world.program.code}/confirm/")
        assert again.status_code == 200
        assert token_of(again) == token_of(posted)

        def normalised(response) -> str:
            text = response.content.decode()
            csrf = r'(name="csrfmiddlewaretoken" value=|name="csrf-token" content=)"[^"]+"'
            return re.sub(csrf, r"\1T", text).replace(response["X-Request-ID"], "RID")

        assert normalised(posted) == normalised(again)
        # The language switch (on either page it returns to confirm/): the same draft in English.
        confirm_url = f"/inquiry/{world.program.code}/confirm/"
        switched = client.post("/inquiry/i18n/setlang/", {"language": "en", "next": confirm_url})
        assert switched["Location"] == confirm_url
        english = client.get(confirm_url)
        assert '<html lang="en">' in english.content.decode() and token_of(english) == token_of(posted)
        assert not Case.objects.exists()

    def test_posting_the_form_again_makes_a_new_draft_with_a_new_token(self, world):
        # What a reload that re-posts the input does (a browser without the script): the same
        # values stored again, under a new token; the page shown carries the new one.
        client = Client()
        first = start(client, world.program)
        second = start(client, world.program)
        assert first != second
        assert public_session(client)["public_inquiry_draft"]["token"] == second
        assert send(client, world.program, first)["Location"] == f"/inquiry/{world.program.code}/confirm/"
        assert receipt_of(send(client, world.program, second)) == Case.objects.get().receipt_number

    def test_a_category_withdrawn_before_the_confirmation_sends_the_resident_back_to_choose(
        self, world, categories
    ):
        client = Client()
        client.post(f"/inquiry/{world.program.code}/", form_data(category=str(categories[0].pk)))
        categories[0].is_active = False
        categories[0].save()
        page = client.get(f"/inquiry/{world.program.code}/confirm/").content.decode()
        assert "一覧の中から選んでください" in page and 'value="試験 花子"' in page
        assert 'name="token"' not in page

    def test_going_back_to_edit_keeps_everything_as_typed(self, world):
        client = Client()
        start(client, world.program, child_dob="R2.5.3", message="一行目\n二行目")
        page = client.get(f"/inquiry/{world.program.code}/").content.decode()
        assert 'value="R2.5.3"' in page
        assert 'value="試験 花子"' in page
        assert "一行目\n二行目</textarea>" in page
        assert "checked" in page.split('name="consent"')[1].split(">")[0]

    def test_errors_keep_everything_typed_and_sit_next_to_their_field(self, world):
        response = Client().post(
            f"/inquiry/{world.program.code}/", form_data(child_dob="2021-02-30", email="hanako@")
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert 'value="試験 花子"' in page and 'value="2021-02-30"' in page
        assert 'id="id_child_dob_error"' in page and 'id="id_email_error"' in page
        assert 'aria-invalid="true"' in page
        assert 'class="error-summary"' in page

    def test_a_double_click_or_a_reload_makes_one_case_with_one_receipt_number(self, world):
        client = Client()
        token = start(client, world.program)
        first = send(client, world.program, token)
        # The second click, or a reload of the receipt page (the browser posts the token again).
        second = send(client, world.program, token)
        assert Case.objects.count() == 1
        assert receipt_of(first) == receipt_of(second) == Case.objects.get().receipt_number

    def test_two_requests_racing_with_the_same_token_make_one_case(self, world):
        # The second request of a double click arrives before the first has saved the
        # session: both reach create_case with the same idempotency key.
        client = Client()
        token = start(client, world.program)
        session_before = dict(public_session(client).items())
        assert session_before["public_inquiry_draft"]["token"] == token
        first = send(client, world.program, token)
        stale = public_session(client)
        assert "public_inquiry_draft" not in stale
        # The session as the second request read it: the draft, no receipt yet.
        stale.clear()
        for key, value in session_before.items():
            stale[key] = value
        stale.save()
        second = send(client, world.program, token)
        assert receipt_of(first) == receipt_of(second)
        assert Case.objects.count() == 1

    def test_a_stale_confirmation_tab_goes_back_to_the_current_confirmation(self, world):
        client = Client()
        old = start(client, world.program)
        start(client, world.program, message="直した内容")
        response = send(client, world.program, old)
        assert response["Location"] == f"/inquiry/{world.program.code}/confirm/"
        assert not Case.objects.exists()

    def test_a_lost_session_asks_to_start_again_and_creates_nothing(self, world):
        response = send(Client(), world.program, "made-up-token")
        assert response.status_code == 400
        assert "はじめから入力" in response.content.decode()
        assert not Case.objects.exists()

    def test_the_receipt_number_is_mailed_without_personal_items(self, world):
        client = Client()
        send(client, world.program, start(client, world.program, guardian_name="𠮷田 花子"))
        case = Case.objects.get()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["hanako@example.jp"]
        assert case.receipt_number in message.subject and case.receipt_number in message.body
        for personal in ("𠮷田", "花子", "シケン", "090-1234", "令和", "申請書"):
            assert personal not in message.subject + message.body

    def test_no_mail_is_sent_without_an_email_address(self, world):
        client = Client()
        send(client, world.program, start(client, world.program, email=""))
        assert Case.objects.count() == 1
        assert mail.outbox == []

    def test_a_mail_failure_does_not_lose_the_case(self, world):
        client = Client()
        token = start(client, world.program)
        with mock.patch("madoguchi.public.services.send_mail", side_effect=OSError("smtp down")):
            response = send(client, world.program, token)
        case = Case.objects.get()
        assert receipt_of(response) == case.receipt_number
        assert "メールアドレスに、受付番号をお送りしました" not in response.content.decode()

    def test_the_receipt_page_has_an_address_of_its_own_for_its_language_switch(self, world):
        client = Client()
        url = f"/inquiry/{world.program.code}/send/"
        assert client.get(url)["Location"] == f"/inquiry/{world.program.code}/"
        number = receipt_of(send(client, world.program, start(client, world.program)))
        page = client.get(url).content.decode()
        assert f'name="next" value="{url}"' in page
        client.post("/inquiry/i18n/setlang/", {"language": "en", "next": url})
        english = client.get(url)
        assert receipt_of(english) == number and '<html lang="en">' in english.content.decode()
        assert Case.objects.count() == 1

    def test_the_receipt_is_not_shown_to_another_session_even_with_the_same_token(self, world):
        client = Client()
        token = start(client, world.program)
        receipt_of(send(client, world.program, token))
        # Another browser sending that token has no draft and no receipt: nothing shown or made.
        response = send(Client(), world.program, token)
        assert response.status_code == 400 and "KJ-" not in response.content.decode()
        assert Case.objects.count() == 1

    def test_the_form_needs_consent_and_says_why(self, world):
        response = Client().post(f"/inquiry/{world.program.code}/", form_data(consent=None))
        assert response.status_code == 200
        assert "同意が必要" in response.content.decode()

    def test_the_purpose_of_use_is_stated_before_submission(self, world):
        page = Client().get(f"/inquiry/{world.program.code}/").content.decode()
        assert "個人情報の利用目的" in page
        assert world.ward.name in page

    def test_an_unknown_program_is_not_found(self, world):
        assert Client().get("/inquiry/no-such-program/").status_code == 404


@pytest.mark.django_db
class ProgramChoiceTests:
    def test_it_goes_straight_to_the_only_open_program(self, world):
        world.other_program.recording_end = world.other_program.recording_start
        world.other_program.save()
        response = Client().get("/inquiry/")
        assert response["Location"] == f"/inquiry/{world.program.code}/"

    def test_it_lists_the_open_programs_when_there_are_several(self, world):
        page = Client().get("/inquiry/").content.decode()
        assert world.program.name in page and world.other_program.name in page


@pytest.mark.django_db
class ClosedPeriodTests:
    def close(self, program: Program) -> None:
        today = datetime.date.today()
        program.recording_start = today - datetime.timedelta(days=60)
        program.recording_end = today - datetime.timedelta(days=1)
        program.save()

    def test_after_the_period_the_form_explains_and_takes_nothing(self, world):
        self.close(world.program)
        client = Client()
        page = client.get(f"/inquiry/{world.program.code}/").content.decode()
        assert "受付期間外" in page and "<textarea" not in page
        response = client.post(f"/inquiry/{world.program.code}/", form_data())
        assert "受付期間外" in response.content.decode()
        assert "public_inquiry_draft" not in public_session(client)

    def test_a_period_ending_between_confirmation_and_sending_creates_nothing(self, world):
        client = Client()
        token = start(client, world.program)
        self.close(world.program)
        response = send(client, world.program, token)
        assert "受付期間外" in response.content.decode()
        assert not Case.objects.exists()

    def test_the_service_refuses_too_even_if_the_page_let_it_through(self, world):
        client = Client()
        token = start(client, world.program)
        with mock.patch("madoguchi.public.views.is_accepting", return_value=True):
            self.close(world.program)
            response = send(client, world.program, token)
        assert "受付期間外" in response.content.decode()
        assert not Case.objects.exists()

    def test_a_correction_window_does_not_reopen_the_public_form(self, world):
        from django.utils import timezone

        self.close(world.program)
        world.program.correction_allowed_until = timezone.now() + datetime.timedelta(days=3)
        world.program.save()
        assert "受付期間外" in Client().get(f"/inquiry/{world.program.code}/").content.decode()

    def test_before_the_period_it_says_when_it_opens(self, world):
        today = datetime.date.today()
        world.program.recording_start = today + datetime.timedelta(days=3)
        world.program.recording_end = today + datetime.timedelta(days=30)
        world.program.save()
        page = Client().get(f"/inquiry/{world.program.code}/").content.decode()
        assert "始まります" in page


@pytest.mark.django_db
class DatabaseFailureTests:
    def test_a_failure_in_create_case_shows_a_503_page_and_leaves_no_case(self, world):
        client = Client()
        token = start(client, world.program)
        with mock.patch(
            "madoguchi.public.services.create_case",
            side_effect=OperationalError("server closed the connection"),
        ):
            response = send(client, world.program, token)
        assert response.status_code == 503
        page = response.content.decode()
        assert "もう一度お試しください" in page
        assert response["X-Request-ID"] in page
        assert "KJ-" not in page
        assert not Case.objects.exists()
        # The draft and token survived: sending again makes exactly one case.
        again = send(client, world.program, token)
        assert receipt_of(again) == Case.objects.get().receipt_number

    def test_the_database_failing_in_the_middle_of_the_write_leaves_no_half_record(self, world):
        client = Client()
        token = start(client, world.program)
        real_execute = CursorWrapper.execute
        seen: list[str] = []

        def failing_execute(self, sql, params=None):
            seen.append(sql)
            # Let the case row go in, then fail on the next write of the same transaction
            # (its timeline entry, or on PostgreSQL, where the case and its entry are one
            # statement, the audit chain's head): the whole case must roll back.
            if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "WITH")) and any(
                'INSERT INTO "cases_case"' in s for s in seen[:-1]
            ):
                raise OperationalError("could not send data to server")
            return real_execute(self, sql, params)

        with mock.patch.object(CursorWrapper, "execute", failing_execute):
            response = send(client, world.program, token)
        assert any('INSERT INTO "cases_case"' in sql for sql in seen)
        assert response.status_code == 503
        assert not Case.objects.exists()
        assert receipt_of(send(client, world.program, token)) == Case.objects.get().receipt_number

    def test_the_log_line_never_quotes_the_failing_row(self, world, caplog):
        client = Client()
        token = start(client, world.program, guardian_name="𠮷田 花子")
        leak = OperationalError(
            "new row violates check constraint\nDETAIL: Failing row contains (𠮷田 花子, 090-1234-5678)"
        )
        with mock.patch("madoguchi.public.services.create_case", side_effect=leak):
            response = send(client, world.program, token)
        assert response.status_code == 503
        assert "database unavailable (OperationalError" in caplog.text
        assert "𠮷田" not in caplog.text and "090-1234" not in caplog.text

    def test_a_database_that_does_not_answer_at_all_gives_the_503_page(self, world):
        client = Client()
        token = start(client, world.program)

        def down(self, sql, params=None):
            raise OperationalError("connection refused")

        with mock.patch.object(CursorWrapper, "execute", down):
            response = send(client, world.program, token)
            form_page = client.get(f"/inquiry/{world.program.code}/")
        assert response.status_code == 503 and form_page.status_code == 503
        assert "ただいま、お問い合わせを受け付けられません" in response.content.decode()
        assert not Case.objects.exists()


@pytest.mark.django_db
class AbuseTests:
    @override_settings(PUBLIC_FORM_RATE_LIMIT=2, PUBLIC_FORM_RATE_WINDOW=600)
    def test_the_rate_limit_stops_a_third_submission_from_one_address(self, world, monkeypatch):
        # Fixed windows: keep all three submissions inside one window, however slow the machine.
        frozen = 1_800_000_000.0
        monkeypatch.setattr("madoguchi.public.ratelimit.time", types.SimpleNamespace(time=lambda: frozen))
        client = Client(REMOTE_ADDR="198.51.100.7")
        for _ in range(2):
            receipt_of(send(client, world.program, start(client, world.program)))
        token = start(client, world.program)
        response = send(client, world.program, token)
        assert response.status_code == 429
        assert "しばらく" in response.content.decode()
        assert int(response["Retry-After"]) > 0
        assert Case.objects.count() == 2
        # Another address is not affected.
        other = Client(REMOTE_ADDR="198.51.100.8")
        receipt_of(send(other, world.program, start(other, world.program)))

    @override_settings(PUBLIC_FORM_RATE_LIMIT=1, PUBLIC_FORM_RATE_WINDOW=600)
    def test_the_rate_limit_counts_an_ipv6_slash_64_as_one_address(self, world):
        first = Client(REMOTE_ADDR="2001:db8:1:2::10")
        receipt_of(send(first, world.program, start(first, world.program)))
        second = Client(REMOTE_ADDR="2001:db8:1:2::99")
        assert send(second, world.program, start(second, world.program)).status_code == 429

    @override_settings(PUBLIC_FORM_RATE_LIMIT=1, PUBLIC_FORM_RATE_WINDOW=600)
    def test_the_rate_limit_also_bounds_form_posts(self, world):
        client = Client(REMOTE_ADDR="198.51.100.9")
        statuses = [
            client.post(f"/inquiry/{world.program.code}/", form_data(child_dob="x")).status_code
            for _ in range(7)
        ]
        assert statuses[:6] == [200] * 6 and statuses[6] == 429

    def test_a_filled_honeypot_gets_a_neutral_page_and_creates_nothing(self, world):
        client = Client()
        response = client.post(f"/inquiry/{world.program.code}/", form_data(website="http://spam.example"))
        assert response.status_code == 200
        page = response.content.decode()
        assert "ありがとうございました" in page and "KJ-" not in page
        assert "public_inquiry_draft" not in public_session(client)
        assert not Case.objects.exists()

    def test_the_honeypot_is_hidden_from_people_and_screen_readers(self, world):
        page = Client().get(f"/inquiry/{world.program.code}/").content.decode()
        trap = page.split('class="honeypot"')[1].split("</div>")[0]
        assert 'aria-hidden="true"' in page.split('class="honeypot"')[1][:40]
        assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap

    def test_csrf_protection_is_on_for_anonymous_residents(self, world):
        client = Client(enforce_csrf_checks=True)
        assert client.post(f"/inquiry/{world.program.code}/", form_data()).status_code == 403
        page = client.get(f"/inquiry/{world.program.code}/").content.decode()
        token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        response = client.post(
            f"/inquiry/{world.program.code}/", {**form_data(), "csrfmiddlewaretoken": token}
        )
        assert token_of(response)

    def test_no_personal_item_ever_appears_in_a_url(self, world):
        client = Client()
        response = client.post(f"/inquiry/{world.program.code}/", form_data())
        page = response.content.decode()
        urls = re.findall(r'(?:href|action|name="next" value)="([^"]*)"', page)
        receipt = send(client, world.program, token_of(response))
        urls += re.findall(r'(?:href|action|name="next" value)="([^"]*)"', receipt.content.decode())
        assert len(urls) > 3
        for url in urls:
            for value in ("試験", "090-1234", "hanako", "2020-05", "令和"):
                assert value not in url


@pytest.mark.django_db
class ReachTests:
    """Anyone on the internet reaches the form: no staff allowlist, no login."""

    def test_the_form_answers_an_address_on_no_allowlist(self, world):
        client = Client(REMOTE_ADDR="203.0.113.5")
        assert client.get(f"/inquiry/{world.program.code}/").status_code == 200
        token = start(client, world.program)
        receipt_of(send(client, world.program, token))

    def test_the_language_switch_works_from_any_address_and_the_form_turns_english(self, world):
        client = Client(REMOTE_ADDR="203.0.113.5")
        form_url = f"/inquiry/{world.program.code}/"
        response = client.post("/inquiry/i18n/setlang/", {"language": "en", "next": form_url})
        assert response.status_code == 302 and response["Location"] == form_url
        page = client.get(form_url).content.decode()
        assert '<html lang="en">' in page
        assert "Child&#x27;s date of birth" in page and "Purpose of use of personal information" in page
