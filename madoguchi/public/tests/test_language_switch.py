"""Switching the language on the input page keeps what the resident typed (nothing checked, nothing sent)."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.cases.models import Case

from .conftest import form_data


class LanguageSwitchTests:
    def test_the_typed_values_come_back_in_the_other_language(self, world):
        client = Client()
        typed = form_data(child_dob="R2.5.3", message="一行目\n二行目", email="")
        response = client.post(f"/inquiry/{world.program.code}/", {**typed, "switch_language": "en"})
        assert response.status_code == 302
        assert response["Location"] == f"/inquiry/{world.program.code}/"
        page = client.get(response["Location"]).content.decode()
        assert '<html lang="en">' in page
        assert 'value="R2.5.3"' in page and 'value="試験 花子"' in page
        assert "一行目\n二行目</textarea>" in page
        assert "checked" in page.split('name="consent"')[1].split(">")[0]
        assert Case.objects.count() == 0

    def test_half_typed_values_are_kept_without_being_checked(self, world):
        client = Client()
        response = client.post(
            f"/inquiry/{world.program.code}/",
            {"guardian_name": "𠮷田", "child_dob": "2021-02-30", "switch_language": "en"},
        )
        assert response.status_code == 302
        page = client.get(f"/inquiry/{world.program.code}/").content.decode()
        assert 'value="𠮷田"' in page and 'value="2021-02-30"' in page
        assert 'class="error-summary"' not in page
        # The confirmation checks the kept draft as usual: back to the form with the errors.
        confirm = client.get(f"/inquiry/{world.program.code}/confirm/")
        assert 'class="error-summary"' in confirm.content.decode()

    def test_an_unknown_language_changes_nothing(self, world):
        client = Client()
        client.post(f"/inquiry/{world.program.code}/", {"guardian_name": "試験", "switch_language": "xx"})
        page = client.get(f"/inquiry/{world.program.code}/").content.decode()
        assert '<html lang="ja">' in page
        assert 'value="試験"' not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class LanguageSwitchBrowserTests:
    def test_the_draft_survives_the_switch_in_the_browser(self, live_server, page, world):
        page.goto(f"{live_server.url}/inquiry/{world.program.code}/")
        page.fill("#id_guardian_name", "𠮷田 花子")
        page.fill("#id_message", "カタログが届きません。")
        page.click(".language-switch button[value=en]")
        page.wait_for_selector("html[lang=en]")
        assert page.input_value("#id_guardian_name") == "𠮷田 花子"
        assert page.input_value("#id_message") == "カタログが届きません。"
        page.click(".language-switch button[value=ja]")
        page.wait_for_selector("html[lang=ja]")
        assert page.input_value("#id_guardian_name") == "𠮷田 花子"
