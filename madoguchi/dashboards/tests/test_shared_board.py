"""A board of aggregate figures is kept a few seconds and shared (issue 15, hC, eighth session):
who may see which figures of which programs is decided on every request, the operator's own
figures are never shared, the user's own write is counted at once, and the page says when the
figures were counted."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.accounts.testing import login
from madoguchi.cases import services
from madoguchi.cases.models import Channel
from madoguchi.cases.testing import make_case
from madoguchi.conftest import make_user
from madoguchi.core import replica
from madoguchi.dashboards import panels, selectors
from madoguchi.dashboards.selectors import FIGURES_MAX_AGE, shared_dashboard


def client_for(user):
    client = Client()
    login(client, user)
    return client


def web_inquiry(world, program=None):
    return make_case(program or world.program, None, channel=Channel.FORM)


def counting_queries(call):
    """The dashboard's own reads: the count rows and the case table (not the session, the
    navigation's badges or the audit event)."""
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [q["sql"] for q in captured.captured_queries if "dashboards_casecount" in q["sql"]]


@pytest.mark.django_db
class SharedBoardTests:
    def test_a_second_view_within_the_max_age_reads_no_figure_and_shows_the_same_board(self, world):
        web_inquiry(world)
        first, counted = counting_queries(lambda: shared_dashboard(world.supervisor))
        assert first.web_waiting == 1 and counted
        web_inquiry(world)
        again, counted = counting_queries(lambda: shared_dashboard(world.supervisor))
        assert again.web_waiting == 1 and not counted
        assert again.counted_at == first.counted_at

    def test_after_the_max_age_the_figures_are_counted_again(self, world):
        web_inquiry(world)
        assert shared_dashboard(world.supervisor).web_waiting == 1
        web_inquiry(world)
        later = time.time() + FIGURES_MAX_AGE + 1
        with mock.patch("django.core.cache.backends.locmem.time.time", return_value=later):
            assert shared_dashboard(world.supervisor).web_waiting == 2

    def test_users_with_the_same_figures_of_the_same_programs_share_one_board(self, world):
        colleague = make_user("supervisor-2", Role.SUPERVISOR, world.contractor, world.program)
        web_inquiry(world)
        shared_dashboard(world.supervisor)
        web_inquiry(world)
        board, counted = counting_queries(lambda: shared_dashboard(colleague))
        assert board.web_waiting == 1 and not counted

    def test_a_user_of_other_programs_never_gets_a_board_of_programs_they_may_not_see(self, world):
        web_inquiry(world)
        web_inquiry(world)
        assert shared_dashboard(world.supervisor).web_waiting == 2
        other = make_user("other-sv", Role.SUPERVISOR, world.other_contractor, world.other_program)
        web_inquiry(world, world.other_program)
        board = shared_dashboard(other)
        assert board.web_waiting == 1 and board.program_ids == [world.other_program.pk]

    def test_leaving_a_program_takes_effect_on_the_next_request(self, world):
        web_inquiry(world)
        assert shared_dashboard(world.supervisor).web_waiting == 1
        world.program.members.remove(world.supervisor)
        board = shared_dashboard(world.supervisor)
        assert board.web_waiting == 0 and board.program_ids == []

    def test_a_role_change_takes_effect_on_the_next_request(self, world):
        case = make_case(world.program, world.operator)
        services.assign(case=case, actor=world.operator, assignee=world.supervisor, expected_version=1)
        assert shared_dashboard(world.supervisor).figures == selectors.SUPERVISOR_FIGURES
        world.supervisor.role = Role.OPERATOR
        board = shared_dashboard(world.supervisor)
        assert board.figures == selectors.OPERATOR_FIGURES and sum(board.my_open.values()) == 1
        world.supervisor.role = Role.AUDITOR
        assert shared_dashboard(world.supervisor).figures == ()

    def test_the_operators_own_figures_are_never_shared(self, world):
        case = make_case(world.program, world.operator)
        services.assign(case=case, actor=world.operator, assignee=world.operator, expected_version=1)
        assert sum(shared_dashboard(world.operator).my_open.values()) == 1
        other = make_case(world.program, world.operator)
        services.assign(case=other, actor=world.operator, assignee=world.operator, expected_version=1)
        assert sum(shared_dashboard(world.operator).my_open.values()) == 2

    def test_the_users_own_write_is_counted_at_once(self, world):
        web_inquiry(world)
        assert shared_dashboard(world.supervisor).web_waiting == 1
        web_inquiry(world)
        assert shared_dashboard(world.supervisor, fresh=True).web_waiting == 2
        # ... and the recount is what the others now share.
        assert shared_dashboard(world.supervisor).web_waiting == 2

    def test_the_home_page_recounts_for_a_user_who_just_wrote(self, world):
        web_inquiry(world)
        client = client_for(world.supervisor)
        assert client.get("/").context["board"].web_waiting == 1
        web_inquiry(world)
        assert client.get("/").context["board"].web_waiting == 1
        session = client.session
        session[replica.WROTE_AT_KEY] = time.time()
        session.save()
        assert client.get("/").context["board"].web_waiting == 2

    def test_without_the_cache_every_request_counts(self, world, caplog):
        web_inquiry(world)
        cache = type(caches["default"])
        with (
            mock.patch.object(cache, "get", side_effect=ConnectionError("redis down")),
            mock.patch.object(cache, "set", side_effect=ConnectionError("redis down")),
        ):
            assert shared_dashboard(world.supervisor).web_waiting == 1
            web_inquiry(world)
            response = client_for(world.supervisor).get("/")
        assert response.status_code == 200 and response.context["board"].web_waiting == 2
        assert "cache unavailable" in caplog.text

    def test_the_page_says_when_the_figures_were_counted(self, world):
        moment = timezone.localtime(timezone.now())
        with mock.patch("madoguchi.dashboards.selectors.timezone.now", return_value=moment):
            html = client_for(world.supervisor).get("/").content.decode()
        assert f"{moment:%Y-%m-%d %H:%M:%S} 現在の件数です。" in html


@pytest.mark.django_db
class RenderedPanelsTests:
    """A shared board's panels are built and rendered once per process and language (issue 15,
    hW, ninth session); the page is the same as when they were built at every view."""

    def test_a_second_view_of_a_shared_board_builds_no_panel_and_shows_the_same_html(self, world):
        web_inquiry(world)
        client = client_for(world.supervisor)
        first = client.get("/").content.decode()
        with mock.patch("madoguchi.dashboards.panels.panels_for", side_effect=AssertionError("built")):
            again = client.get("/").content.decode()
        assert 'id="panel-web_waiting"' in again
        assert _without_tokens(again) == _without_tokens(first)

    def test_a_recounted_board_is_rendered_again(self, world):
        web_inquiry(world)
        client = client_for(world.supervisor)
        client.get("/")
        web_inquiry(world)
        shared_dashboard(world.supervisor, fresh=True)  # a colleague's write: a new board shared
        html = client.get("/").content.decode()
        assert client.get("/").context["board"].web_waiting == 2
        panel = html.split('id="panel-web_waiting"', 1)[1].split("</section>", 1)[0]
        assert ">2</span>" in panel

    def test_each_language_gets_its_own_panels(self, world):
        client = client_for(world.supervisor)
        japanese = client.get("/").content.decode()
        client.cookies["django_language"] = "en"
        english = client.get("/").content.decode()
        assert "未完了の状態別" in japanese or "現在の件数です" in japanese
        assert "現在の件数です" not in english

    def test_the_operators_own_board_is_rendered_at_every_view(self, world):
        case = make_case(world.program, world.operator)
        services.assign(case=case, actor=world.operator, assignee=world.operator, expected_version=1)
        client = client_for(world.operator)
        client.get("/")
        with mock.patch("madoguchi.dashboards.panels.panels_for", wraps=panels.panels_for) as built:
            client.get("/")
        assert built.call_count == 1


def _without_tokens(html: str) -> str:
    import re

    html = re.sub(r'(csrfmiddlewaretoken" value=|csrf-token" content=)"[^"]+"', r'\1""', html)
    return re.sub(r'<span class="request-id">[^<]*</span>', "", html)


class RenderedPanelsKeptTests:
    def test_at_most_the_kept_number_of_boards_is_kept_the_oldest_dropped(self):
        from madoguchi.dashboards.selectors import SUPERVISOR_FIGURES, Dashboard

        boards = [
            Dashboard(role="supervisor", figures=(), today=timezone.localdate(), counted_at=timezone.now())
            for _ in range(panels.RENDERED_KEPT + 3)
        ]
        for board in boards:
            board.figures = SUPERVISOR_FIGURES
        with mock.patch.object(panels, "_render_panels", side_effect=lambda board: board.stamp):
            panels._RENDERED.clear()
            for board in boards:
                assert panels.panels_html(board) == board.stamp
        kept = {key[0] for key in panels._RENDERED}
        assert len(kept) == panels.RENDERED_KEPT
        assert boards[0].stamp not in kept and boards[-1].stamp in kept
