import datetime

import pytest
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.cases import services
from madoguchi.cases.models import Case, StandardAnswer, Status, TimelineEntry
from madoguchi.cases.testing import make_case


def close_period(program):
    program.recording_start = datetime.date.today() - datetime.timedelta(days=40)
    program.recording_end = datetime.date.today() - datetime.timedelta(days=1)
    program.save()


@pytest.mark.django_db
class RecordingPeriodTests:
    def test_every_service_refuses_after_the_end(self, world):
        case = make_case(world.program, world.operator)
        note = services.add_note(case=case, actor=world.operator, body="記録")
        close_period(world.program)
        case.refresh_from_db()
        v = case.version
        attempts = [
            lambda: make_case(world.program, world.operator),
            lambda: services.update_case(
                case=case, actor=world.operator, expected_version=v, changes={"response": "x"}
            ),
            lambda: services.add_note(case=case, actor=world.operator, body="x"),
            lambda: services.correct_entry(entry=note, actor=world.operator, body="x"),
            lambda: services.transition(
                case=case, to=Status.CLOSED, actor=world.operator, expected_version=v
            ),
            lambda: services.escalate(case=case, actor=world.operator, question="x", expected_version=v),
            lambda: services.assign(
                case=case, actor=world.supervisor, assignee=world.operator, expected_version=v
            ),
        ]
        for attempt in attempts:
            with pytest.raises(services.RecordingClosed):
                attempt()
        Case.objects.filter(pk=case.pk).update(status=Status.ESCALATED)
        case.refresh_from_db()
        with pytest.raises(services.RecordingClosed):
            services.answer(case=case, actor=world.ward_staff, body="x", expected_version=case.version)
        assert Case.objects.count() == 1
        assert TimelineEntry.objects.filter(case=case).count() == 2

    def test_the_screens_refuse_after_the_end(self, client, world):
        case = make_case(world.program, world.operator)
        close_period(world.program)
        login(client, world.operator)
        response = client.post(
            reverse("cases:new"),
            {
                "channel": "phone",
                "caller_relation": "guardian",
                "inquiry": "問い合わせ",
                "priority": "normal",
                "then": "in_progress",
            },
        )
        assert response.status_code == 400
        assert "記録期間外" in response.content.decode()
        response = client.post(
            reverse("cases:edit", args=[case.public_id]),
            {
                "channel": "phone",
                "caller_relation": "guardian",
                "inquiry": "変更",
                "priority": "normal",
                "version": 1,
            },
            follow=True,
        )
        assert "記録期間外" in response.content.decode()
        case.refresh_from_db()
        assert case.inquiry != "変更" and Case.objects.count() == 1
        page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
        assert 'action="' + reverse("cases:edit", args=[case.public_id]) not in page


@pytest.mark.django_db
class StandardAnswerTests:
    def test_the_ward_keeps_every_version_and_operators_find_the_current_one(self, client, world):
        first = services.save_standard_answer(
            program=world.program, actor=world.ward_staff, title="配送の目安", body="約2週間でお届けします。"
        )
        second = services.save_standard_answer(
            program=world.program,
            actor=world.ward_manager,
            title="配送の目安",
            body="約3週間でお届けします。",
            previous=first,
        )
        assert StandardAnswer.objects.filter(key=first.key).count() == 2
        assert second.version == 2
        first.refresh_from_db()
        assert not first.is_current
        login(client, world.operator)
        html = client.post(
            reverse("cases:answer_search", args=[world.program.code]), {"q": "配送"}
        ).content.decode()
        assert "約3週間" in html and "約2週間" not in html

    def test_operators_cannot_edit_answers(self, client, world):
        with pytest.raises(services.TransitionRefused):
            services.save_standard_answer(program=world.program, actor=world.operator, title="x", body="y")
        login(client, world.operator)
        assert client.get(reverse("cases:standard_answer_new", args=[world.program.code])).status_code == 403

    def test_the_ward_edits_through_the_screen(self, client, world):
        login(client, world.ward_staff)
        response = client.post(
            reverse("cases:standard_answer_new", args=[world.program.code]),
            {"title": "申請方法", "body": "同封の申請書で申請してください。", "is_active": "on"},
        )
        assert response.status_code == 302
        answer = StandardAnswer.objects.get()
        response = client.post(
            reverse("cases:standard_answer_edit", args=[world.program.code, answer.key]),
            {"title": "申請方法", "body": "オンラインでも申請できます。", "is_active": "on"},
        )
        assert response.status_code == 302
        assert list(StandardAnswer.objects.order_by("version").values_list("version", "is_current")) == [
            (1, False),
            (2, True),
        ]
