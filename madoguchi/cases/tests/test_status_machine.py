import pytest
from django.db import transaction

from madoguchi.cases import services
from madoguchi.cases.models import Case, Status, TimelineEntry
from madoguchi.cases.testing import make_case

S = Status
C = {"operator", "supervisor"}
W = {"ward_staff", "ward_manager"}
ALL = C | W

# Written out from the issue, independently of services.TRANSITIONS.
EXPECTED: dict[tuple[str, str], set[str]] = {
    (S.NEW, S.IN_PROGRESS): ALL,
    (S.NEW, S.ESCALATED): C,
    (S.NEW, S.CALLBACK): C,
    (S.NEW, S.CLOSED): ALL,
    (S.IN_PROGRESS, S.ESCALATED): C,
    (S.IN_PROGRESS, S.CALLBACK): C,
    (S.IN_PROGRESS, S.CLOSED): ALL,
    (S.ESCALATED, S.IN_PROGRESS): ALL,
    (S.ESCALATED, S.WARD_ANSWERED): W,
    (S.WARD_ANSWERED, S.CALLBACK): ALL,
    (S.WARD_ANSWERED, S.IN_PROGRESS): C,
    (S.WARD_ANSWERED, S.ESCALATED): C,
    (S.WARD_ANSWERED, S.CLOSED): C,
    (S.CALLBACK, S.IN_PROGRESS): C,
    (S.CALLBACK, S.ESCALATED): C,
    (S.CALLBACK, S.CLOSED): C,
    (S.CLOSED, S.IN_PROGRESS): {"operator", "supervisor", "ward_manager"},
}


def attempt(case: Case, to: str, actor) -> None:
    if to == S.ESCALATED:
        services.escalate(
            case=case, actor=actor, question="確認をお願いします。", expected_version=case.version
        )
    elif to == S.WARD_ANSWERED:
        services.answer(case=case, actor=actor, body="対象です。", expected_version=case.version)
    else:
        services.transition(case=case, to=to, actor=actor, note="", expected_version=case.version)


@pytest.mark.django_db
class StatusMachineTests:
    @pytest.mark.parametrize("role", ["operator", "supervisor", "ward_staff", "ward_manager", "auditor"])
    def test_every_transition_is_allowed_or_refused_as_the_table_says(self, world, role):
        actor = getattr(world, role)
        case = make_case(world.program, world.operator)
        mismatches = []
        for frm in S.values:
            for to in S.values:
                if frm == to:
                    continue
                Case.objects.filter(pk=case.pk).update(status=frm)
                case.refresh_from_db()
                entries_before = TimelineEntry.objects.filter(case=case).count()
                allowed = role in EXPECTED.get((frm, to), set())
                try:
                    with transaction.atomic():
                        attempt(case, to, actor)
                    done = True
                except services.TransitionRefused:
                    done = False
                if done != allowed:
                    mismatches.append((frm, to, "allowed" if done else "refused"))
                    continue
                case.refresh_from_db()
                if done:
                    assert TimelineEntry.objects.filter(case=case, kind="status_change").exists()
                    if to != S.WARD_ANSWERED:
                        assert case.status == to
                    else:
                        # the answer returns the case to the contractor
                        assert case.status == S.CALLBACK
                else:
                    assert case.status == frm
                    assert TimelineEntry.objects.filter(case=case).count() == entries_before
        assert mismatches == []

    def test_a_status_change_records_who_when_from_and_to(self, world):
        case = make_case(world.program, world.operator)
        services.transition(
            case=case, to=S.IN_PROGRESS, actor=world.supervisor, expected_version=case.version
        )
        entry = TimelineEntry.objects.filter(case=case, kind="status_change").get()
        assert (entry.from_status, entry.to_status) == (S.NEW, S.IN_PROGRESS)
        assert entry.author == world.supervisor
        assert entry.author_organisation == world.contractor.name
        assert entry.created_at is not None

    def test_closing_and_reopening_keeps_both_entries(self, world):
        case = make_case(world.program, world.operator)
        services.transition(case=case, to=S.CLOSED, actor=world.operator, expected_version=case.version)
        assert case.closed_at is not None
        services.transition(case=case, to=S.IN_PROGRESS, actor=world.operator, expected_version=case.version)
        assert case.closed_at is None
        kinds = list(
            TimelineEntry.objects.filter(case=case, kind="status_change").values_list(
                "from_status", "to_status"
            )
        )
        assert kinds == [(S.NEW, S.CLOSED), (S.CLOSED, S.IN_PROGRESS)]

    def test_a_stale_version_is_refused(self, world):
        case = make_case(world.program, world.operator)
        stale = case.version
        services.transition(case=case, to=S.IN_PROGRESS, actor=world.operator, expected_version=stale)
        with pytest.raises(services.VersionConflict):
            services.transition(case=case, to=S.CLOSED, actor=world.supervisor, expected_version=stale)
        case.refresh_from_db()
        assert case.status == S.IN_PROGRESS

    def test_another_programs_user_cannot_move_a_case(self, world):
        case = make_case(world.program, world.operator)
        with pytest.raises(services.TransitionRefused):
            services.transition(
                case=case, to=S.IN_PROGRESS, actor=world.other_program_operator, expected_version=case.version
            )

    def test_timeline_corrections_are_new_entries(self, world):
        case = make_case(world.program, world.operator)
        note = services.add_note(case=case, actor=world.operator, body="折り返しは午後希望")
        correction = services.correct_entry(entry=note, actor=world.operator, body="折り返しは午前希望")
        note.refresh_from_db()
        assert note.body == "折り返しは午後希望"
        assert correction.corrects == note
        assert correction.kind == TimelineEntry.Kind.CORRECTION
