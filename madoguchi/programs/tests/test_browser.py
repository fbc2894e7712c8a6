import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.programs.models import Program


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class CloseRecordingBrowserTests:
    def test_the_ward_manager_ends_recording_and_the_screen_says_so(self, live_server, page, world):
        csp = watch_csp(page)
        browser_login(page, live_server.url, world.ward_manager)
        page.click("nav >> text=記録の終了・連絡先")
        page.wait_for_selector("form textarea[name=reason]")
        assert_accessible(page, "close-form", csp, screenshot="lifecycle-close")
        page.click("main form button[type=submit]")  # nothing filled: refused with the reasons
        page.wait_for_selector("text=理由を入力してください")
        assert_accessible(page, "close-errors", csp)
        page.fill("textarea[name=reason]", "事業の前倒し終了のため")
        page.check("input[name=confirm]")
        page.click("main form button[type=submit]")
        page.wait_for_selector("[data-recording-ended]")
        assert "繰上げ終了" in page.text_content("main")
        assert_accessible(page, "closed", csp)
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is not None
