from __future__ import annotations

import pytest

from madoguchi.accounts.testing import browser_login


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class BrowserLoginHelperTests:
    def test_it_logs_a_persona_in_through_the_real_screens(self, page, live_server, world):
        browser_login(page, live_server.url, world.operator)
        assert page.url.rstrip("/") == live_server.url
        assert "テスト operator" in page.content()
