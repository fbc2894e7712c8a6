from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.services import record
from madoguchi.audit.tests.helpers import CANARIES, events_table_text
from madoguchi.audit.tests.test_fail_closed import audit_store_down

HOUSEHOLD = "3f0c1b4e-0000-4000-8000-000000000001"
OTHER_HOUSEHOLD = "3f0c1b4e-0000-4000-8000-000000000002"


def _trail(world):
    """A small trail: the operator opens two households of our program; an outsider opens one of theirs."""
    record(
        action=Action.VIEW,
        actor=world.operator,
        program_id=world.program.pk,
        object_type="household",
        object_id=HOUSEHOLD,
    )
    record(
        action=Action.VIEW,
        actor=world.supervisor,
        program_id=world.program.pk,
        object_type="household",
        object_id=HOUSEHOLD,
    )
    record(
        action=Action.VIEW,
        actor=world.operator,
        program_id=world.program.pk,
        object_type="household",
        object_id=OTHER_HOUSEHOLD,
    )
    record(
        action=Action.UPDATE,
        actor=world.ward_staff,
        program_id=world.program.pk,
        object_type="guardian",
        object_id=7,
        details={"fields": ["guardian.phone"]},
        before={"guardian.phone": CANARIES[1]},
        after={"guardian.phone": "03-0000-0000"},
    )
    record(
        action=Action.VIEW,
        actor=world.outsider,
        program_id=world.other_program.pk,
        object_type="household",
        object_id="9f0c1b4e-0000-4000-8000-000000000009",
    )


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.django_db
class EventScreenTests:
    def test_an_operator_is_refused_and_the_refusal_is_recorded(self, client, world):
        login(client, world.operator)
        response = client.get(reverse("audit:events"))
        assert response.status_code == 403
        denied = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, actor_id=world.operator.pk)
        assert denied.count() == 1
        assert denied.get().details["view"] == "audit:events"
        assert denied.get().outcome == "denied"

    def test_the_auditor_sees_our_events_and_none_of_the_other_wards(self, client, world):
        _trail(world)
        login(client, world.auditor)
        response = client.get(reverse("audit:events"))
        assert response.status_code == 200
        page = response.content.decode()
        assert HOUSEHOLD in page
        assert "9f0c1b4e-0000-4000-8000-000000000009" not in page
        assert "監査ログ" in page  # the navigation entry

    def test_the_other_wards_manager_sees_none_of_ours(self, client, world):
        from madoguchi.accounts.models import Role
        from madoguchi.conftest import make_user

        _trail(world)
        other_manager = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        login(client, other_manager)
        page = client.get(reverse("audit:events")).content.decode()
        assert HOUSEHOLD not in page
        assert "9f0c1b4e-0000-4000-8000-000000000009" in page

    def test_who_saw_this_household(self, client, world):
        _trail(world)
        login(client, world.ward_manager)
        page = client.get(reverse("audit:events"), {"object_type": "household", "object_id": HOUSEHOLD})
        rows = page.context["page"].events
        assert {event.actor_username for event in rows} == {"operator", "supervisor"}
        assert all(event.object_id == HOUSEHOLD for event in rows)

    def test_what_this_user_saw_between_two_moments(self, client, world):
        _trail(world)
        now = timezone.localtime()
        login(client, world.ward_manager)
        response = client.get(
            reverse("audit:events"),
            {
                "actor": world.operator.pk,
                "at_from": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                "at_to": (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            },
        )
        rows = response.context["page"].events
        assert [event.object_id for event in rows] == [OTHER_HOUSEHOLD, HOUSEHOLD]
        yesterday = client.get(
            reverse("audit:events"),
            {
                "actor": world.operator.pk,
                "at_to": (now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            },
        )
        assert yesterday.context["page"].events == []

    def test_pages_go_back_in_time_without_repeating_a_row(self, client, world, monkeypatch):
        from madoguchi.audit import selectors

        monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
        for number in range(5):
            record(
                action=Action.VIEW,
                actor=world.operator,
                program_id=world.program.pk,
                object_type="household",
                object_id=number,
            )
        login(client, world.auditor)
        seen: list[str] = []
        query: dict[str, str] = {"object_type": "household"}
        for _page in range(5):
            response = client.get(reverse("audit:events"), query)
            seen += [event.object_id for event in response.context["page"].events]
            cursor = response.context["page"].next_cursor
            if cursor is None:
                break
            query["cursor"] = str(cursor)
        assert seen == ["4", "3", "2", "1", "0"]

    def test_reading_the_trail_is_itself_recorded_with_the_filter_but_no_value(self, client, world):
        login(client, world.auditor)
        client.get(reverse("audit:events"), {"object_type": "household", "object_id": HOUSEHOLD})
        event = AuditEvent.objects.filter(action=Action.SEARCH, actor_id=world.auditor.pk).get()
        assert event.object_type == "audit_event"
        assert event.details["object_id"] == HOUSEHOLD

    def test_a_name_typed_as_an_object_id_is_refused(self, client, world):
        login(client, world.auditor)
        response = client.get(reverse("audit:events"), {"object_id": CANARIES[0]})
        assert response.status_code == 400
        assert CANARIES[0] not in events_table_text()

    def test_no_canary_value_reaches_the_events_table(self, client, world):
        _trail(world)
        login(client, world.ward_manager)
        change_event = AuditEvent.objects.get(action=Action.UPDATE)
        client.get(reverse("audit:change", args=[change_event.seq]))
        client.post(reverse("audit:export"), {})
        text = events_table_text()
        for canary in CANARIES:
            assert canary not in text


@pytest.mark.django_db
class ChangeScreenTests:
    def test_the_ward_manager_sees_before_and_after_and_that_read_is_recorded(self, client, world):
        _trail(world)
        change_event = AuditEvent.objects.get(action=Action.UPDATE)
        login(client, world.ward_manager)
        response = client.get(reverse("audit:change", args=[change_event.seq]))
        assert response.status_code == 200
        assert CANARIES[1] in response.content.decode()
        read = AuditEvent.objects.get(object_type="audit_change")
        assert (read.action, read.object_id, read.actor_id) == (
            "view",
            str(change_event.seq),
            world.ward_manager.pk,
        )
        assert read.details == {"fields": ["guardian.phone"]}

    def test_the_auditor_may_not_see_before_and_after(self, client, world):
        _trail(world)
        change_event = AuditEvent.objects.get(action=Action.UPDATE)
        login(client, world.auditor)
        assert client.get(reverse("audit:change", args=[change_event.seq])).status_code == 403

    def test_another_wards_change_answers_404(self, client, world):
        event = record(
            action=Action.UPDATE,
            actor=world.outsider,
            program_id=world.other_program.pk,
            object_type="guardian",
            object_id=1,
            before={"a": "x"},
            after={"a": "y"},
        )
        login(client, world.ward_manager)
        assert client.get(reverse("audit:change", args=[event.seq])).status_code == 404


@pytest.mark.django_db
class ExportTests:
    def test_the_csv_is_utf8_with_bom_an_attachment_and_its_download_is_recorded(self, client, world):
        _trail(world)
        login(client, world.auditor)
        response = client.post(reverse("audit:export"), {"object_type": "household", "object_id": HOUSEHOLD})
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
        rows = _csv(response)
        assert rows[0][0] == "seq"
        assert {row[3] for row in rows[1:]} == {"operator", "supervisor"}
        export = AuditEvent.objects.get(action=Action.EXPORT)
        assert export.actor_id == world.auditor.pk
        assert export.object_type == "audit_event"
        assert export.details["object_id"] == HOUSEHOLD and export.details["format"] == "csv"

    def test_the_export_is_a_post(self, client, world):
        login(client, world.auditor)
        assert client.get(reverse("audit:export")).status_code == 405

    def test_a_formula_in_a_snapshot_cannot_run_in_a_spreadsheet(self, client, world):
        world.operator.display_name = '=HYPERLINK("http://example.invalid","x")'
        world.operator.save()
        record(
            action=Action.VIEW,
            actor=world.operator,
            program_id=world.program.pk,
            object_type="household",
            object_id=1,
        )
        login(client, world.auditor)
        rows = _csv(client.post(reverse("audit:export"), {"actor": world.operator.pk}))
        names = [row[4] for row in rows[1:] if row[3] == "operator"]
        assert names == ['\'=HYPERLINK("http://example.invalid","x")']

    def test_an_operator_may_not_export(self, client, world):
        login(client, world.operator)
        assert client.post(reverse("audit:export"), {}).status_code == 403
        assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()

    def test_when_the_export_cannot_be_recorded_the_user_gets_the_error_page_with_the_request_id(
        self, client, world
    ):
        _trail(world)
        login(client, world.auditor)
        client.raise_request_exception = False
        with audit_store_down():
            response = client.post(reverse("audit:export"), {})
        assert response.status_code == 500
        request_id = response["X-Request-ID"]
        assert request_id and request_id in response.content.decode()
        assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
