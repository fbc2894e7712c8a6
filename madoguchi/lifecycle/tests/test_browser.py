"""The ward manager's lifecycle screen in a real browser, with axe-core and CSP checks."""

from __future__ import annotations

import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.core.browser_testing import assert_accessible, watch_csp
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.lifecycle.tests.conftest import end_recording, live_program


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_ward_manager_requests_and_the_auditor_approves(live_server, page, world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    life = live_program(world, tmp_path)
    end_recording(life.program)
    csp = watch_csp(page)
    browser_login(page, live_server.url, world.ward_manager)
    page.goto(f"{live_server.url}/lifecycle/")
    assert_accessible(page, "program list", csp)
    page.click(f"a[href='/lifecycle/{life.program.code}/']")
    page.wait_for_selector("h1")
    assert_accessible(page, "program page", csp, screenshot="lifecycle-program")
    # An empty reason: the error summary, accessible too.
    page.get_by_role("button", name="消去を依頼する").click()
    page.wait_for_selector(".error-summary")
    assert_accessible(page, "request with errors", csp)
    page.fill("#id_reason", "事業終了のため（返還は区と調整済み）")
    page.check("#id_waive_return")
    page.get_by_role("button", name="消去を依頼する").click()
    page.wait_for_selector("text=承認を待っています")
    assert ProgramErasure.objects.get(program=life.program).state == ErasureState.REQUESTED
    assert_accessible(page, "requested", csp)
    assert not csp, csp


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_erased_programs_page_and_banner(live_server, page, world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from madoguchi.lifecycle import services

    life = live_program(world, tmp_path)
    end_recording(life.program)
    services.request_purge(program=life.program, actor=world.ward_manager, reason="終了", waive_return=True)
    services.approve_purge(program=life.program, actor=world.auditor)
    services.purge(program=life.program, actor=world.ward_manager)
    csp = watch_csp(page)
    browser_login(page, live_server.url, world.auditor)
    page.goto(f"{live_server.url}/lifecycle/{life.program.code}/")
    assert "消去済みです" in page.inner_text("#main")
    assert page.get_by_role("link", name="消去証明書（PDF）をダウンロード").count() == 1
    assert_accessible(page, "erased program", csp, screenshot="lifecycle-erased")
    assert not csp, csp
