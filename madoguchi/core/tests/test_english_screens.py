"""The staff screens in English (Japanese stays the default): every word of the screens is translated.

Each role walks its screens with the language cookie set to English. What remains Japanese on a
page must be data (names of organisations, programs, categories, what callers said), never a
word of the screen itself.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from madoguchi.accounts.testing import browser_login, login
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.core.tests.test_japanese_screens import _populate, _VisibleText, walk

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60\u3000-\u303f]+")


def _data_text() -> str:
    """Every text value stored in the project's tables: what a page may show as data."""
    values: list[str] = ["日本語"]
    for model in apps.get_models():
        if not model.__module__.startswith("madoguchi."):
            continue
        fields = [
            f.name for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)
        ]
        if fields:
            for row in model.objects.values_list(*fields):
                values.extend(str(value) for value in row if value)
    return "\n".join(values)


def untranslated(html: str, data: str) -> set[str]:
    parser = _VisibleText()
    parser.feed(html)
    runs = JAPANESE.findall(" ".join(parser.text))
    return {run for run in runs if run not in data}


class EnglishScreenTests:
    @pytest.mark.parametrize("persona", ["operator", "supervisor", "ward_staff", "ward_manager", "auditor"])
    def test_every_screen_a_role_reaches_is_in_english(self, client, world, persona):
        _populate(world)
        login(client, getattr(world, persona))
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        pages: list[str] = []
        walk(client, pages=pages)
        data = _data_text()
        problems = {}
        for url in pages:
            response = client.get(url)
            assert '<html lang="en">' in response.content.decode(), url
            left = untranslated(response.content.decode(), data)
            if left:
                problems[url] = sorted(left)
        assert len(pages) >= 4
        assert problems == {}, "\n".join(f"{url}: {words}" for url, words in sorted(problems.items()))

    def test_japanese_stays_the_default(self, client, world):
        login(client, world.operator)
        html = client.get("/").content.decode()
        assert '<html lang="ja">' in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class EnglishBrowserTests:
    def test_a_ward_manager_switches_to_english_and_back(self, live_server, page, world):
        csp = watch_csp(page)
        browser_login(page, live_server.url, world.ward_manager)
        page.goto(f"{live_server.url}/audit/events")
        page.click(".site-header .language-switch button[value=en]")
        page.wait_for_selector("html[lang=en]")
        assert "Audit log" in page.text_content("main")
        assert_accessible(page, "staff-audit-en", csp)
        page.click(".site-header .language-switch button[value=ja]")
        page.wait_for_selector("html[lang=ja]")
        assert "監査ログ" in page.text_content("main")
        assert csp == []
