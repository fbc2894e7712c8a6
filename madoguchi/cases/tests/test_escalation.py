import re

import pytest
from django.core import mail
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditEvent
from madoguchi.cases.models import Case, Notification, Status, TimelineEntry
from madoguchi.cases.testing import make_case, seed_categories


def version_of(case: Case) -> int:
    return Case.objects.get(pk=case.pk).version


@pytest.mark.django_db
class EscalationRoundTripTests:
    def test_the_operator_asks_the_ward_answers_and_the_operator_closes(
        self, client, world, django_capture_on_commit_callbacks
    ):
        world.ward_staff.email = "ward@example.jp"
        world.ward_staff.save()
        world.operator.email = "op@example.jp"
        world.operator.save()
        categories = seed_categories(world.program)
        login(client, world.operator)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("cases:new"),
                {
                    "channel": "phone",
                    "caller_relation": "guardian",
                    "caller_name": "試験 花子",
                    "contact_phone": "090-1234-5678",
                    "category": categories["対象要件"].pk,
                    "inquiry": "上の子が対象になるか知りたい",
                    "priority": "normal",
                    "then": "escalate",
                    "question": "2019年4月1日生まれは対象外でよいか",
                    "idempotency_key": "abc",
                },
            )
        assert response.status_code == 302
        case = Case.objects.get()
        assert case.status == Status.ESCALATED
        assert case.ward_due_on is not None
        # the ward is told by e-mail: receipt number and a link, nothing personal
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert case.receipt_number in message.subject
        assert str(case.public_id) in message.body
        # the link's random id could contain "090" by chance: look at the text around it
        text = (message.subject + message.body).replace(str(case.public_id), "")
        for personal in ("試験", "花子", "1234", "090", "上の子", "2019"):
            assert personal not in text

        login(client, world.ward_staff)
        queue = client.get(reverse("cases:queue", args=["escalated"]))
        assert case.receipt_number in queue.content.decode()
        page = client.get(reverse("cases:detail", args=[case.public_id]))
        assert "2019年4月1日生まれは対象外でよいか" in page.content.decode()
        assert Notification.objects.filter(user=world.ward_staff, case=case).exists()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("cases:answer", args=[case.public_id]),
                {"body": "対象外です。案内文書2を送付してください。", "version": version_of(case)},
            )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.status == Status.CALLBACK
        answer = TimelineEntry.objects.get(case=case, kind="ward_answer")
        assert answer.author_organisation == world.ward.name
        assert mail.outbox[-1].to == ["op@example.jp"]

        login(client, world.operator)
        page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
        assert "対象外です。案内文書2を送付してください。" in page
        response = client.post(
            reverse("cases:transition", args=[case.public_id]), {"to": "closed", "version": version_of(case)}
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.status == Status.CLOSED
        statuses = list(
            TimelineEntry.objects.filter(case=case, kind="status_change").values_list("to_status", flat=True)
        )
        assert statuses == ["escalated", "ward_answered", "callback", "closed"]

    def test_the_contractor_cannot_answer_and_the_ward_cannot_escalate(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.operator)
        response = client.post(reverse("cases:answer", args=[case.public_id]), {"body": "x", "version": 1})
        assert response.status_code == 403
        login(client, world.ward_staff)
        response = client.post(
            reverse("cases:escalate", args=[case.public_id]), {"question": "x", "version": 1}
        )
        assert response.status_code == 403
        assert Case.objects.get().status == Status.NEW

    def test_the_badges_count_what_waits(self, client, world):
        case = make_case(world.program, world.operator)
        from madoguchi.cases import services

        services.escalate(case=case, actor=world.operator, question="確認", expected_version=case.version)
        login(client, world.ward_staff)
        response = client.get(reverse("cases:list"))
        badges = {item["label"]: item["badge"] for item in response.context["nav_items"]}
        assert badges["区確認待ち"] == 1
        assert re.search(r"区確認待ち\s*<span class=\"count-badge\">1<", response.content.decode())
        login(client, world.operator)
        badges = {item["label"]: item["badge"] for item in client.get("/cases/").context["nav_items"]}
        assert "区確認待ち" not in badges and not badges["折り返し待ち"]

    def test_every_case_view_is_audited(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.ward_staff)
        client.get(reverse("cases:detail", args=[case.public_id]))
        event = AuditEvent.objects.filter(
            action="view", object_type="case", object_id=str(case.public_id)
        ).get()
        assert event.actor_id == world.ward_staff.pk


@pytest.mark.django_db
class BadgeCapTests:
    def test_a_long_queue_shows_a_capped_badge(self, client, world, settings):
        from madoguchi.cases import selectors

        for _ in range(3):
            case = make_case(world.program, world.operator)
            Case.objects.filter(pk=case.pk).update(status=Status.ESCALATED)
        original = selectors.BADGE_CAP
        selectors.BADGE_CAP = 2
        try:
            login(client, world.ward_staff)
            response = client.get(reverse("cases:list"))
            badges = {item["label"]: item["badge"] for item in response.context["nav_items"]}
            assert badges["区確認待ち"] == "2+"
        finally:
            selectors.BADGE_CAP = original
