from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.services import record_denied, record_view
from madoguchi.core.request_context import client_ip_var, request_id_var


class _Household:
    """Stands in for a registry household: an opaque public id and a program."""

    class _meta:  # mimics a model's _meta
        model_name = "household"

    public_id = "3f0c1b4e-0000-4000-8000-000000000042"
    pk = 42

    def __init__(self, program_id: int) -> None:
        self.program_id = program_id


@pytest.mark.django_db
class RequestHelperTests:
    def test_record_view_names_the_object_by_its_opaque_id_and_the_fields_shown(self, world):
        request = RequestFactory().get("/households/x")
        request.user = world.operator
        ip_token, id_token = client_ip_var.set("192.0.2.44"), request_id_var.set("feedfacefeedface")
        try:
            record_view(request, _Household(world.program.pk), fields=["guardian.name", "guardian.phone"])
        finally:
            client_ip_var.reset(ip_token)
            request_id_var.reset(id_token)
        event = AuditEvent.objects.get()
        assert (event.action, event.object_type, event.object_id) == (
            "view",
            "household",
            "3f0c1b4e-0000-4000-8000-000000000042",
        )
        assert event.program_id == world.program.pk
        assert event.details == {"fields": ["guardian.name", "guardian.phone"]}
        assert (event.client_ip, event.request_id) == ("192.0.2.44", "feedfacefeedface")

    def test_record_denied_records_a_refusal_with_a_reason_code(self, world):
        request = RequestFactory().post("/cases/1/answer")
        request.user = world.operator
        record_denied(request, program_id=world.program.pk, object_type="case", object_id=1, reason="role")
        event = AuditEvent.objects.get()
        assert (event.action, event.outcome) == ("denied", "denied")
        assert event.details == {"method": "POST", "reason": "role"}

    def test_an_anonymous_permission_denied_is_not_recorded_by_the_middleware(self, client, world):
        client.get(reverse("audit:events"))  # redirected to the login page, no event
        assert not AuditEvent.objects.filter(action=Action.PERMISSION_DENIED).exists()


@pytest.mark.django_db
class NavigationTests:
    def test_only_those_who_may_audit_see_the_menu_entry(self, client, world):
        login(client, world.auditor)
        assert "監査ログ" in client.get(reverse("core:home")).content.decode()
        client.logout()
        login(client, world.operator)
        assert "監査ログ" not in client.get(reverse("core:home")).content.decode()
