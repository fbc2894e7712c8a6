"""What every staff page pays before its own work (issue 15, hN): the session, the user and its
device, the navigation with its badges, the erasure banner, the base template. Budgets for what
was cut, and guards that the shortcuts change nothing a user sees or may do."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models.sql import compiler
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.models import User
from madoguchi.accounts.testing import login
from madoguchi.core.templatetags.navigation import nav_links
from madoguchi.identify.tests.helpers import add_household
from madoguchi.lifecycle.models import ErasureState, ProgramErasure


def requested(client, url, **headers):
    """The response, the SQL it ran and how many querysets it compiled."""
    compiled = [0]
    as_sql = compiler.SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled[0] += 1
        return as_sql(self, *args, **kwargs)

    compiler.SQLCompiler.as_sql = counting  # type: ignore[method-assign]
    try:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, **headers)
    finally:
        compiler.SQLCompiler.as_sql = as_sql  # type: ignore[method-assign]
    return response, [query["sql"] for query in captured.captured_queries], compiled[0]


def badge_reads(sql):
    return [text for text in sql if '"cases_notification"' in text and "read_at IS NULL" in text]


def erasure_reads(sql):
    """Statements of their own reading the erasure banner (the session's statement reads it with
    the user: accounts.otp, lifecycle.context_processors)."""
    return [text for text in sql if '"lifecycle_programerasure"' in text and "otp_totp" not in text]


@pytest.fixture
def household(world):
    return add_household(
        world.program,
        "400001",
        guardian=("試験　花子", "シケン　ハナコ", "1990-01-02"),
        children=[("試験　陽翔", "シケン　ハルト", "2020-05-03")],
        phone="090-1111-2222",
    )


@pytest.mark.django_db
class FixedCostTests:
    def test_the_identify_page_reads_four_statements_and_compiles_no_queryset(self, client, world):
        # Session; user with organisation and device, with the allowlist, the program ids and
        # the erasure banner; the user's programs; the badges: each one written statement.
        login(client, world.operator)
        client.get(reverse("identify:page"))
        response, sql, compiled = requested(client, reverse("identify:page"))
        assert response.status_code == 200
        assert len(sql) == 4, sql
        assert compiled == 0

    def test_an_htmx_fragment_reads_neither_the_badges_nor_the_erasure_banner(self, client, world, household):
        login(client, world.operator)
        url = reverse("cases:household_cases", args=[household.public_id])
        response, sql, _ = requested(client, url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert not badge_reads(sql) and not erasure_reads(sql)
        _, sql, _ = requested(client, reverse("identify:page"))
        assert len(badge_reads(sql)) == 1 and not erasure_reads(sql)

    def test_a_full_page_still_shows_the_badges_and_the_erasure_banner(self, client, world):
        ProgramErasure.objects.create(
            program=world.program,
            state=ErasureState.ERASED,
            reason="試験",
            requested_by=world.ward_manager,
            requested_at=timezone.now(),
        )
        login(client, world.ward_staff)
        body = client.get(reverse("identify:page")).content.decode()
        assert "の個人データは消去済みです" in body
        assert 'class="global-nav__link" href="/identify/" aria-current="page"' in body

    def test_the_view_sees_the_user_itself_not_the_lazy_object(self, client, world):
        login(client, world.operator)
        response = client.get(reverse("identify:page"))
        assert type(response.wsgi_request.user) is User
        assert response.wsgi_request.user.pk == world.operator.pk

    def test_a_roster_end_takes_effect_on_the_next_request(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("identify:page")).status_code == 200
        User.objects.filter(pk=world.operator.pk).update(
            valid_until=datetime.date.today() - datetime.timedelta(days=1)
        )
        response = client.get(reverse("identify:page"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_a_role_that_loses_identification_is_refused_on_the_next_request(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("identify:page")).status_code == 200
        User.objects.filter(pk=world.operator.pk).update(role="auditor")
        assert client.get(reverse("identify:page")).status_code == 403

    def test_a_user_removed_from_the_program_is_offered_it_no_more(self, client, world):
        login(client, world.operator)
        assert world.program.name in client.get(reverse("identify:page")).content.decode()
        world.program.members.remove(world.operator)
        body = client.get(reverse("identify:page")).content.decode()
        assert world.program.name not in body
        assert "本人特定できる事業がありません。" in body


# The loop base.html had before `{% nav_links %}`, kept here to prove the tag's HTML equal.
OLD_LOOP = Template(
    "\n".join(
        [
            "{% load i18n %}      {% for item in nav_items %}",
            "      <li>",
            '        <a class="global-nav__link" href="{{ item.url }}"'
            '{% if item.current %} aria-current="page"{% endif %}'
            '{% if item.shortcut %} data-shortcut="{{ item.shortcut }}"'
            ' data-shortcut-label="{{ item.label }}"{% endif %}>',
            "          {{ item.label }}",
            '          {% if item.badge %}<span class="count-badge">{{ item.badge }}'
            '<span class="visually-hidden">{% translate "件" %}</span></span>{% endif %}',
            "        </a>",
            "      </li>",
            "      {% endfor %}",
            "",
        ]
    )
)


class NavLinksTests:
    def test_the_links_are_the_old_loops_html_byte_for_byte(self):
        items = [
            {
                "label": "問い合わせ一覧",
                "url": "/cases/",
                "badge": None,
                "shortcut": "Alt+L",
                "current": True,
            },
            {"label": "<b>&\"'", "url": "/a?b=1&c=<2>", "badge": "99+", "shortcut": "", "current": False},
            {
                "label": "区確認待ち",
                "url": "/cases/queue/escalated/",
                "badge": 3,
                "shortcut": "",
                "current": False,
            },
            {"label": "お知らせ", "url": "/n/", "badge": 0, "shortcut": 'A&"B', "current": True},
        ]
        for chosen in (items, items[:1], []):
            expected = OLD_LOOP.render(Context({"nav_items": chosen}))
            assert "      " + nav_links(chosen) + "\n" == expected


@pytest.mark.django_db
class CaseFormProgramTests:
    def test_the_case_form_and_its_save_read_the_users_programs_once(self, client, world, household):
        login(client, world.operator)
        url = reverse("cases:new_for", args=[world.program.code])
        response, sql, _ = requested(client, url)
        assert response.status_code == 200
        # Besides the ids the session's statement reads with the user (accounts.otp).
        own = [text for text in sql if "programs_program_members" in text and "otp_totp" not in text]
        assert len(own) == 1, sql

    def test_a_program_the_user_is_not_a_member_of_answers_404(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("cases:new_for", args=[world.other_program.code])).status_code == 404
        assert client.get(reverse("cases:new_for", args=["no-such-program"])).status_code == 404
        world.program.members.remove(world.operator)
        assert client.get(reverse("cases:new_for", args=[world.program.code])).status_code == 404


@pytest.mark.django_db
class ErasureBannerReadTests:
    """The banner's programs are read with the session's user (lifecycle SESSION_READ)."""

    def _erasure(self, world, program, state):
        return ProgramErasure.objects.create(
            program=program,
            state=state,
            reason="試験",
            requested_by=world.ward_manager,
            requested_at=timezone.now(),
        )

    def test_the_rows_read_with_the_user_are_the_banners_own_query(self, world):
        from madoguchi.accounts.otp import _device_with_user
        from madoguchi.accounts.testing import totp_device
        from madoguchi.core.request_context import request_memo_var
        from madoguchi.lifecycle.context_processors import _erasures, _memo_key
        from madoguchi.programs.models import Program
        from madoguchi.programs.scoping import program_ids

        third = Program.objects.create(
            code="aaa-first",
            name="三つ目<&>",
            ward=world.program.ward,
            contractor=world.program.contractor,
            recording_start=world.program.recording_start,
            recording_end=world.program.recording_end,
        )
        third.members.add(world.operator)
        self._erasure(world, third, ErasureState.ERASING)
        self._erasure(world, world.program, ErasureState.APPROVED)  # not shown
        self._erasure(world, world.other_program, ErasureState.ERASED)  # not the user's
        for persona, expected in (
            ("operator", [("三つ目<&>", "erasing")]),
            ("ward_staff", []),
            ("sysadmin", []),
        ):
            user = getattr(world, persona)
            token = request_memo_var.set({})
            try:
                _device_with_user(totp_device(user).pk, user.pk)
                kept = request_memo_var.get().get(_memo_key(user), [])
                ids = program_ids(user, "view")
            finally:
                request_memo_var.reset(token)
            assert kept == expected, persona
            if ids:
                assert kept == _erasures(ids), persona

    def test_an_erasure_started_in_the_request_shows_on_its_page(self, world):
        from madoguchi.accounts.otp import _device_with_user
        from madoguchi.accounts.testing import totp_device
        from madoguchi.core.request_context import request_memo_var
        from madoguchi.lifecycle.context_processors import _notices, forget_notices

        erasure = self._erasure(world, world.program, ErasureState.APPROVED)
        token = request_memo_var.set({})
        try:
            _device_with_user(totp_device(world.operator).pk, world.operator.pk)
            assert _notices(world.operator) == []
            erasure.state = ErasureState.ERASING
            erasure.save()
            forget_notices()  # what lifecycle.services does when it changes the state
            assert _notices(world.operator) == [{"program": world.program.name, "erasing": True}]
        finally:
            request_memo_var.reset(token)
