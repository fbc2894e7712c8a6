import pytest

from madoguchi.accounts.testing import browser_login
from madoguchi.cases import services
from madoguchi.cases.models import Channel
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.core.browser_testing import assert_accessible, watch_csp


def _some_cases(world):
    categories = seed_categories(world.program)
    for index in range(6):
        case = make_case(
            world.program,
            world.operator,
            channel=[Channel.PHONE, Channel.EMAIL, Channel.FORM][index % 3],
            category=list(categories.values())[index % 4],
        )
        services.assign(case=case, actor=world.supervisor, assignee=world.operator, expected_version=1)
        if index % 2:
            case.refresh_from_db()
            services.escalate(case=case, actor=world.operator, question="確認", expected_version=case.version)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
class DashboardBrowserTests:
    @pytest.mark.parametrize(
        ("persona", "panel", "absent"),
        [
            ("operator", "my_open", "load"),
            ("supervisor", "intake_today", "ward_waiting"),
            ("ward_staff", "ward_waiting", "load"),
            ("ward_manager", "trend", "my_open"),
        ],
    )
    def test_each_role_sees_its_dashboard_without_an_axe_violation(
        self, live_server, page, world, persona, panel, absent
    ):
        _some_cases(world)
        csp = watch_csp(page)
        browser_login(page, live_server.url, getattr(world, persona))
        page.goto(f"{live_server.url}/")
        page.wait_for_selector(f"#panel-{panel}")
        assert page.locator(f"#panel-{absent}").count() == 0
        assert page.locator("svg.chart").count() >= 1 or persona == "operator"
        assert_accessible(page, f"dashboard-{persona}", csp, screenshot=f"dashboard-{persona}")
        assert not csp, csp
        # A figure opens the list it counts.
        page.locator(f"#panel-{panel} a").first.click()
        page.wait_for_selector("h1:has-text('問い合わせ一覧'), h1:has-text('区確認待ち')")
