import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.cases import callbacks, services
from madoguchi.cases.models import CallbackOutcome, Case, Category, Channel, Status
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.dashboards.models import CaseCount
from madoguchi.dashboards.selectors import callback_deadline_filters, dashboard_for, figures_for

JST = zoneinfo.ZoneInfo("Asia/Tokyo")


def at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=JST)


def client_for(user):
    client = Client()
    login(client, user)
    return client


def callback_case(world, user, day, start=None, until=None):
    """A case of `user` waiting for a callback on `day` (in the window start-until)."""
    case = make_case(world.program, user)
    services.assign(case=case, actor=user, assignee=user, expected_version=1)
    case.refresh_from_db()
    callbacks.schedule_callback(
        case=case, actor=user, due_on=day, start=start, until=until, expected_version=case.version
    )
    case.refresh_from_db()
    return case


def escalate(case, world):
    return services.escalate(case=case, actor=world.operator, question="確認", expected_version=case.version)


def answer(case, world):
    case.refresh_from_db()
    return services.answer(case=case, actor=world.ward_staff, body="回答", expected_version=case.version)


@pytest.mark.django_db
class OperatorDashboardTests:
    def test_it_counts_my_open_cases_by_status_and_not_others(self, world):
        mine = [make_case(world.program, world.operator) for _ in range(3)]
        for case in mine:
            services.assign(case=case, actor=world.operator, assignee=world.operator, expected_version=1)
        closed = mine[2]
        closed.refresh_from_db()
        services.transition(
            case=closed, to=Status.CLOSED, actor=world.operator, expected_version=closed.version
        )
        # Someone else's case and another program's case do not count.
        make_case(world.program, world.supervisor)
        board = dashboard_for(world.operator)
        assert sum(board.my_open.values()) == 2
        assert board.my_open == {Status.NEW: 2}

    def test_it_counts_callbacks_by_their_due_day_and_window_and_not_the_done_ones(self, world):
        today = timezone.localdate()
        noon = at(today, 12)
        due_today = callback_case(world, world.operator, today)
        window_ahead = callback_case(world, world.operator, today, datetime.time(13), datetime.time(17))
        window_over = callback_case(world, world.operator, today, datetime.time(9), datetime.time(11))
        yesterday = callback_case(world, world.operator, today)
        Case.objects.filter(pk=yesterday.pk).update(callback_due_on=today - datetime.timedelta(days=1))
        callback_case(world, world.operator, today + datetime.timedelta(days=1))  # not yet due
        done = callback_case(world, world.operator, today)
        callbacks.record_attempt(
            case=done, actor=world.operator, outcome=CallbackOutcome.REACHED, expected_version=done.version
        )
        # Someone else's overdue callback is not mine.
        theirs = callback_case(world, world.supervisor, today)
        Case.objects.filter(pk=theirs.pk).update(callback_due_on=today - datetime.timedelta(days=2))
        board = dashboard_for(world.operator, now=noon)
        assert board.my_callbacks_today == 2  # due_today, window_ahead
        assert board.my_callbacks_overdue == 2  # window_over, yesterday
        # The lists behind the figures (and the alert) use the same rule.
        due, overdue = callback_deadline_filters(noon)
        assert set(Case.objects.filter(due).values_list("pk", flat=True)) == {due_today.pk, window_ahead.pk}
        assert set(Case.objects.filter(overdue).values_list("pk", flat=True)) == {
            window_over.pk,
            yesterday.pk,
            theirs.pk,
        }
        # The same morning, before the window closed, it was still due today.
        early = dashboard_for(world.operator, now=at(today, 10))
        assert (early.my_callbacks_today, early.my_callbacks_overdue) == (3, 1)

    def test_a_ward_answer_waits_for_a_callback_day_before_it_is_due(self, world):
        today = timezone.localdate()
        cases = [make_case(world.program, world.operator) for _ in range(2)]
        for case in cases:
            services.assign(case=case, actor=world.operator, assignee=world.operator, expected_version=1)
            case.refresh_from_db()
            escalate(case, world)
            answer(case, world)
        # An answer from yesterday with no callback day: an answer to see, not a late callback.
        Case.objects.filter(pk=cases[0].pk).update(
            ward_answered_at=at(today - datetime.timedelta(days=1), 10)
        )
        board = dashboard_for(world.operator, now=at(today, 12))
        assert board.my_answers == 2
        assert (board.my_callbacks_today, board.my_callbacks_overdue) == (0, 0)
        cases[1].refresh_from_db()
        callbacks.schedule_callback(
            case=cases[1], actor=world.operator, due_on=today, expected_version=cases[1].version
        )
        board = dashboard_for(world.operator, now=at(today, 12))
        assert (board.my_callbacks_today, board.my_callbacks_overdue, board.my_answers) == (1, 0, 2)

    def test_the_operator_does_not_get_the_supervisors_or_the_wards_figures(self, world):
        client = client_for(world.operator)
        response = client.get("/")
        keys = [panel.key for panel in response.context["panels"]]
        assert keys == ["my_open", "my_callbacks", "my_answers"]
        html = response.content.decode()
        assert 'id="panel-load"' not in html and "担当者別" not in html


@pytest.mark.django_db
class SupervisorDashboardTests:
    def test_it_counts_todays_intake_by_hour_and_channel(self, world):
        today = datetime.date.today()
        make_case(world.program, world.operator, received_at=at(today, 9))
        make_case(world.program, world.operator, received_at=at(today, 9), channel=Channel.EMAIL)
        make_case(world.program, world.operator, received_at=at(today, 14))
        make_case(world.program, world.operator, received_at=at(today - datetime.timedelta(days=1), 9))
        make_case(world.other_program, world.outsider, received_at=at(today, 9))
        board = dashboard_for(world.supervisor, today=today)
        assert board.intake_by_hour == {(9, "phone"): 1, (9, "email"): 1, (14, "phone"): 1}

    def test_todays_intake_by_hour_is_read_from_the_counts_not_from_the_cases(self, world):
        # 150,000 cases in a day took 110 ms to group by hour; the hourly counts are a few rows.
        today = datetime.date.today()
        CaseCount.objects.create(
            program=world.program, kind=CaseCount.Kind.HOURLY, day=today, channel=Channel.FORM, hour=10, n=7
        )
        board = dashboard_for(world.supervisor, today=today)
        assert board.intake_by_hour == {(10, "form"): 7}

    def test_it_counts_backlog_deadlines_load_and_waiting_web_inquiries(self, world):
        today = datetime.date.today()
        web = make_case(world.program, None, channel=Channel.FORM)
        make_case(world.program, None, channel=Channel.FORM)
        late = make_case(world.program, world.operator)
        services.assign(case=late, actor=world.supervisor, assignee=world.operator, expected_version=1)
        late.refresh_from_db()
        escalate(late, world)
        Case.objects.filter(pk=late.pk).update(ward_due_on=today - datetime.timedelta(days=1))
        services.transition(case=web, to=Status.IN_PROGRESS, actor=world.operator, expected_version=1)
        board = dashboard_for(world.supervisor, today=today)
        assert board.backlog == {Status.NEW: 1, Status.IN_PROGRESS: 1, Status.ESCALATED: 1}
        assert board.ward_overdue == 1
        assert board.web_waiting == 1
        assert board.load == [(world.operator.pk, world.operator.display_name, 1)]

    def test_it_counts_every_operators_callbacks_past_their_due_time(self, world):
        today = timezone.localdate()
        late = callback_case(world, world.operator, today)
        Case.objects.filter(pk=late.pk).update(callback_due_on=today - datetime.timedelta(days=1))
        callback_case(world, world.supervisor, today, datetime.time(9), datetime.time(11))  # window over
        callback_case(world, world.operator, today, datetime.time(13), datetime.time(17))  # still due
        callback_case(world, world.operator, today)  # due by the end of the day
        board = dashboard_for(world.supervisor, now=at(today, 12))
        assert board.callbacks_overdue == 2
        assert board.backlog == {Status.CALLBACK: 4}

    def test_the_supervisor_sees_the_load_per_operator_and_the_ward_staff_does_not(self, world):
        case = make_case(world.program, world.operator)
        services.assign(case=case, actor=world.supervisor, assignee=world.operator, expected_version=1)
        html = client_for(world.supervisor).get("/").content.decode()
        assert 'id="panel-load"' in html and world.operator.display_name in html
        html = client_for(world.ward_staff).get("/").content.decode()
        assert 'id="panel-load"' not in html and world.operator.display_name not in html
        assert "load" in figures_for(world.ward_manager)
        assert "load" not in figures_for(world.ward_staff)
        assert figures_for(world.auditor) == () and figures_for(world.sysadmin) == ()


@pytest.mark.django_db
class WardDashboardTests:
    def test_the_tables_escape_what_they_show(self, world):
        categories = seed_categories(world.program)
        Category.objects.filter(pk=next(iter(categories.values())).pk).update(name="<b>分類</b>")
        html = client_for(world.ward_staff).get("/").content.decode()
        assert "&lt;b&gt;分類&lt;/b&gt;" in html and "<b>分類</b>" not in html

    def test_the_age_of_a_waiting_case_counts_business_days_across_a_holiday(self, world):
        # Friday 2025-11-21; Monday 24 is a substitute holiday (勤労感謝の日 fell on a Sunday).
        case = make_case(world.program, world.operator)
        escalate(case, world)
        Case.objects.filter(pk=case.pk).update(
            escalated_at=at(datetime.date(2025, 11, 21), 10), ward_due_on=datetime.date(2025, 11, 26)
        )
        board = dashboard_for(world.ward_staff, today=datetime.date(2025, 11, 25))
        (row,) = board.ward_waiting
        assert row.waited_business_days == 1
        assert not row.overdue
        board = dashboard_for(world.ward_staff, today=datetime.date(2025, 11, 27))
        assert board.ward_waiting[0].waited_business_days == 3 and board.ward_waiting[0].overdue
        assert board.ward_overdue == 1 and board.ward_waiting_count == 1

    def test_it_counts_answers_this_week_categories_channels_and_the_daily_trend(self, world):
        categories = seed_categories(world.program)
        today = datetime.date.today()
        start = world.program.recording_start
        make_case(world.program, world.operator, received_at=at(start, 10), category=categories["対象要件"])
        make_case(world.program, world.operator, received_at=at(start, 11), channel=Channel.EMAIL)
        answered = make_case(world.program, world.operator, received_at=at(today, 9))
        escalate(answered, world)
        answer(answered, world)
        old = make_case(world.program, world.operator)
        escalate(old, world)
        answer(old, world)
        Case.objects.filter(pk=old.pk).update(ward_answered_at=at(today - datetime.timedelta(days=8), 10))
        make_case(world.other_program, world.outsider)
        board = dashboard_for(world.ward_manager, today=today)
        assert board.answered_week == 1
        categories_count = {name: n for _pk, name, n in board.by_category}
        assert categories_count["対象要件"] == 1 and categories_count[""] == 3
        assert board.by_channel == {"phone": 3, "form": 0, "email": 1, "counter": 0}
        assert board.trend[0] == (start, 2) and board.trend[-1][0] == today
        assert sum(n for _day, n in board.trend) == 4

    def test_each_figure_links_to_the_list_that_counts_it(self, world):
        today = datetime.date.today()
        cases = [make_case(world.program, world.operator, received_at=at(today, 9)) for _ in range(2)]
        escalate(cases[0], world)
        Case.objects.filter(pk=cases[0].pk).update(ward_due_on=today - datetime.timedelta(days=1))
        client = client_for(world.ward_manager)
        panels = {panel.key: panel for panel in client.get("/").context["panels"]}
        waiting = panels["ward_waiting"].numbers[0]
        overdue = panels["ward_waiting"].numbers[1]
        trend_today = panels["trend"].rows[0][1]
        for cell, expected in ((waiting, 1), (overdue, 1), (trend_today, 2)):
            assert cell.url.startswith("/cases/?")
            listed = client.get(cell.url)
            assert listed.status_code == 200
            assert len(listed.context["page"].cases) == expected == int(cell.text)

    def test_the_list_filters_the_dashboards_add_hold_no_personal_value(self, world):
        client = client_for(world.supervisor)
        board_html = client.get("/").content.decode()
        assert "open=on" in board_html
        case = make_case(world.program, world.operator)
        services.transition(case=case, to=Status.CLOSED, actor=world.operator, expected_version=1)
        make_case(world.program, world.operator)
        assert len(client.get("/cases/?open=on").context["page"].cases) == 1


@pytest.mark.django_db
class QueryCountTests:
    @pytest.mark.parametrize("persona", ["operator", "supervisor", "ward_staff", "ward_manager"])
    def test_each_dashboard_takes_a_fixed_number_of_queries(
        self, world, persona, django_assert_max_num_queries
    ):
        seed_categories(world.program)
        user = getattr(world, persona)

        def add_cases(count):
            for _ in range(count):
                case = make_case(world.program, world.operator)
                supervisor, operator = world.supervisor, world.operator
                services.assign(case=case, actor=supervisor, assignee=operator, expected_version=1)
                case.refresh_from_db()
                escalate(case, world)

        add_cases(1)
        client = client_for(user)
        client.get("/")  # warm the session and the caches
        with django_assert_max_num_queries(30) as few:
            client.get("/")
        base = len(few.captured_queries)
        add_cases(6)
        with django_assert_max_num_queries(base):
            response = client.get("/")
        assert response.status_code == 200

    @pytest.mark.parametrize("persona", ["operator", "supervisor", "ward_staff", "ward_manager"])
    def test_the_figures_take_the_same_queries_at_two_data_sizes(self, world, persona):
        seed_categories(world.program)
        user = getattr(world, persona)
        today = timezone.localdate()

        def add_cases(count):
            for _ in range(count):
                escalated = make_case(world.program, world.operator)
                services.assign(
                    case=escalated, actor=world.supervisor, assignee=world.operator, expected_version=1
                )
                escalated.refresh_from_db()
                escalate(escalated, world)
                callback_case(world, world.operator, today)
                callback_case(world, world.operator, today, datetime.time(9), datetime.time(11))
                late = callback_case(world, world.supervisor, today)
                Case.objects.filter(pk=late.pk).update(callback_due_on=today - datetime.timedelta(days=1))
                make_case(world.program, None, channel=Channel.FORM)

        def queries():
            with CaptureQueriesContext(connection) as captured:
                dashboard_for(user, now=at(today, 12))
            return len(captured.captured_queries)

        add_cases(1)
        small = queries()
        add_cases(5)
        assert queries() == small


@pytest.mark.django_db
class HomeTests:
    def test_home_keeps_the_links_it_offered(self, world):
        html = client_for(world.operator).get("/").content.decode()
        assert "メニュー" in html and "/cases/new/" in html

    def test_the_dashboards_url_shows_the_same_dashboard(self, world):
        response = client_for(world.ward_staff).get("/dashboards/")
        assert response.context["panels"][0].key == "ward_waiting"

    def test_an_anonymous_visitor_is_sent_to_the_login(self, world, client):
        assert client.get("/").status_code == 302


@pytest.mark.django_db
class OperatorLinkTests:
    def test_the_operators_figures_open_the_lists_they_count(self, world):
        cases = [make_case(world.program, world.operator) for _ in range(3)]
        for case in cases:
            services.assign(case=case, actor=world.operator, assignee=world.operator, expected_version=1)
        case = cases[0]
        case.refresh_from_db()
        escalate(case, world)
        answer(case, world)
        today = timezone.localdate()
        callback_case(world, world.operator, today)
        late = callback_case(world, world.operator, today)
        Case.objects.filter(pk=late.pk).update(callback_due_on=today - datetime.timedelta(days=1))
        client = client_for(world.operator)
        panels = {panel.key: panel for panel in client.get("/").context["panels"]}
        assert [cell.text for cell in panels["my_callbacks"].numbers] == ["1", "1"]
        for cell in [
            *panels["my_open"].numbers,
            *panels["my_answers"].numbers,
            *panels["my_callbacks"].numbers,
        ]:
            listed = client.get(cell.url)
            assert len(listed.context["page"].cases) == int(cell.text), cell
