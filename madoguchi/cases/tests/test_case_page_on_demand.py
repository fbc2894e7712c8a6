"""The case page of an open case (issue 15, hC, eighth session): the edit and assign forms are
loaded when the user opens them (htmx, or a page of their own without JavaScript), the
timeline's correction form is rendered once per page, and the page keeps a query budget."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditEvent
from madoguchi.cases import services
from madoguchi.cases.models import Status
from madoguchi.cases.testing import make_case, seed_categories

HTMX = {"HTTP_HX_REQUEST": "true"}


def edit_url(case):
    return reverse("cases:edit", args=[case.public_id])


def assign_url(case):
    return reverse("cases:assign", args=[case.public_id])


def detail_url(case):
    return reverse("cases:detail", args=[case.public_id])


@pytest.fixture
def case(world):
    seed_categories(world.program)
    return make_case(
        world.program,
        world.operator,
        caller=services.CallerDetails(name="試験 花子", kana="シケン ハナコ"),
        inquiry="配送予定日を知りたい",
    )


@pytest.mark.django_db
class CasePageTests:
    def test_the_page_shows_the_text_and_opens_the_edit_and_assign_forms_on_demand(self, client, world, case):
        login(client, world.operator)
        page = client.get(detail_url(case)).content.decode()
        assert "配送予定日を知りたい" in page  # the inquiry, read-only until the form is opened
        assert 'id="case-edit-form"' not in page and 'id="assign-select"' not in page
        for key, url in (("case-edit", edit_url(case)), ("case-assign", assign_url(case))):
            # A <details> that fetches the form the first time it opens, and a link to the same
            # form on a page of its own for a browser without JavaScript.
            assert f'<details class="on-demand" id="{key}" hx-get="{url}" hx-trigger="toggle once"' in page
            assert f'hx-target="#{key}-body"' in page and f'id="{key}-body"' in page
            assert f'<a href="{url}">' in page

    def test_a_closed_case_offers_neither_form(self, client, world, case):
        services.transition(case=case, to=Status.CLOSED, actor=world.operator, expected_version=case.version)
        login(client, world.operator)
        page = client.get(detail_url(case)).content.decode()
        assert edit_url(case) not in page and assign_url(case) not in page

    def test_the_open_case_page_stays_within_its_query_budget(
        self, client, world, case, django_assert_max_num_queries
    ):
        """Session, user with device, program ids, the case, the audit event (four statements
        on PostgreSQL), the timeline, the badges and the erasure banner: no categories for the
        edit form, no assignees for the assign form (13 before they were loaded on demand)."""
        login(client, world.operator)
        client.get(detail_url(case))
        with django_assert_max_num_queries(11):
            assert client.get(detail_url(case)).status_code == 200


@pytest.mark.django_db
class EditOnDemandTests:
    def test_htmx_gets_the_form_alone_with_the_saved_values(self, client, world, case):
        login(client, world.operator)
        response = client.get(edit_url(case), **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html and "site-header" not in html  # the fragment, not a page
        assert 'id="case-edit-form"' in html and f'action="{edit_url(case)}"' in html
        assert f'name="version" value="{case.version}"' in html
        assert 'value="シケン ハナコ"' in html and "配送予定日を知りたい</textarea>" in html
        assert 'name="category"' in html and 'data-shortcut="Alt+S"' in html
        assert 'id="answer-q"' in html  # the standard answers to insert into the response
        assert "HX-Request" in response["Vary"]

    def test_without_javascript_the_link_opens_a_page_with_the_same_form(self, client, world, case):
        login(client, world.operator)
        response = client.get(edit_url(case))
        html = response.content.decode()
        assert response.status_code == 200
        assert '<html lang="ja">' in html and "問い合わせ内容を編集" in html
        assert 'id="case-edit-form"' in html and 'value="シケン ハナコ"' in html
        assert f'<a href="{detail_url(case)}">問い合わせ {case.receipt_number} に戻る</a>' in html
        assert "HX-Request" in response["Vary"]

    def test_opening_the_form_is_recorded_as_a_view(self, client, world, case):
        login(client, world.operator)
        client.get(edit_url(case), **HTMX)
        event = AuditEvent.objects.filter(object_type="case", object_id=str(case.public_id)).latest("seq")
        assert event.action == "view" and event.details == {"screen": "edit"}

    def test_a_closed_case_sends_the_user_back_to_its_page(self, client, world, case):
        services.transition(case=case, to=Status.CLOSED, actor=world.operator, expected_version=case.version)
        login(client, world.operator)
        response = client.get(edit_url(case))
        assert response.status_code == 302 and response["Location"] == detail_url(case)
        response = client.get(edit_url(case), **HTMX)
        assert response.status_code == 204 and response["HX-Redirect"] == detail_url(case)
        assert not AuditEvent.objects.filter(details={"screen": "edit"}).exists()

    def test_after_the_recording_period_the_form_is_not_given(self, client, world, case):
        world.program.recording_start = timezone.localdate() - datetime.timedelta(days=10)
        world.program.recording_end = timezone.localdate() - datetime.timedelta(days=1)
        world.program.save()
        login(client, world.operator)
        assert client.get(edit_url(case)).status_code == 302

    def test_another_programs_user_and_a_reader_get_404(self, client, world, case):
        for user in (world.other_program_operator, world.auditor):
            login(client, user)
            assert client.get(edit_url(case), **HTMX).status_code == 404
            assert client.get(assign_url(case)).status_code == 404

    def test_a_refused_edit_shows_the_typed_text_and_the_error_in_the_open_form(self, client, world, case):
        login(client, world.operator)
        response = client.post(
            edit_url(case),
            {
                "channel": "phone",
                "caller_relation": "guardian",
                "priority": "normal",
                "caller_name": '田中 <b>"花子"</b>',
                "inquiry": "",
                "version": case.version,
            },
        )
        html = response.content.decode()
        assert response.status_code == 400
        assert '<details class="on-demand" id="case-edit" open>' in html
        assert 'value="田中 &lt;b&gt;&quot;花子&quot;&lt;/b&gt;"' in html
        assert "このフィールドは必須です。" in html
        case.refresh_from_db()
        assert case.inquiry == "配送予定日を知りたい"


@pytest.mark.django_db
class AssignOnDemandTests:
    def test_htmx_gets_the_assignees_with_the_current_one_selected(self, client, world, case):
        login(client, world.supervisor)
        response = client.get(assign_url(case), **HTMX)
        html = response.content.decode()
        assert "<html" not in html and 'id="assign-select"' in html
        assert f'<option value="{world.operator.pk}" selected>' in html
        assert f'value="{world.ward_staff.pk}"' in html
        assert f'value="{world.other_program_operator.pk}"' not in html

    def test_without_javascript_the_page_has_the_same_form(self, client, world, case):
        login(client, world.supervisor)
        html = client.get(assign_url(case)).content.decode()
        assert '<html lang="ja">' in html and 'id="assign-select"' in html


@pytest.mark.django_db
class CorrectionFormTests:
    def test_one_form_is_rendered_per_page_and_each_entry_gets_its_own_copy(self, client, world, case):
        notes = [services.add_note(case=case, actor=world.operator, body=f"記録{n}") for n in range(3)]
        login(client, world.operator)
        response = client.get(detail_url(case))
        html = response.content.decode()
        rendered = [template.name for template in response.templates]
        assert rendered.count("cases/_correction.html") == 1
        for note in notes:
            action = reverse("cases:correct", args=[case.public_id, note.pk])
            assert f'<form method="post" action="{action}">' in html
            assert f'<label for="correct-{note.pk}">' in html and f'<textarea id="correct-{note.pk}"' in html
        assert html.count('name="csrfmiddlewaretoken"') >= len(notes)
        assert "mdgentry" not in html and "mdgaction" not in html

    def test_a_refused_correction_is_open_with_what_was_typed(self, client, world, case):
        note = services.add_note(case=case, actor=world.operator, body="元の記録")
        login(client, world.operator)
        response = client.post(reverse("cases:correct", args=[case.public_id, note.pk]), {"body": "   "})
        html = response.content.decode()
        assert response.status_code == 400
        assert "訂正内容を入力してください。" in html
        start = html.index(f'<textarea id="correct-{note.pk}"')
        assert html.rfind("<details open>", 0, start) > html.rfind("</details>", 0, start)
