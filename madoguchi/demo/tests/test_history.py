import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from madoguchi.cases import receipts
from madoguchi.cases.models import Case, Status, TimelineEntry
from madoguchi.cases.selectors import callback_filters
from madoguchi.cases.testing import seed_categories
from madoguchi.dashboards.selectors import dashboard_for
from madoguchi.demo.history import seed_history
from madoguchi.demo.services import DEMO_PROGRAM_CODE


def signature(program):
    return list(
        Case.objects.filter(program=program)
        .order_by("receipt_number")
        .values_list("receipt_number", "received_at", "channel", "status", "category_id", "ward_due_on")
    )


@pytest.mark.django_db
class HistoryTests:
    def test_seed_demo_gives_a_living_program_up_to_today(self):
        call_command("seed_demo", stdout=io.StringIO())
        cases = Case.objects.filter(program__code=DEMO_PROGRAM_CODE)
        program = cases.first().program
        assert program.recording_start <= timezone.localdate() <= program.recording_end
        assert 2000 <= cases.count() <= 5000
        statuses = set(cases.values_list("status", flat=True))
        assert {Status.CLOSED, Status.ESCALATED, Status.CALLBACK, Status.IN_PROGRESS, Status.NEW} <= statuses
        assert set(cases.values_list("channel", flat=True)) == {"phone", "form", "email", "counter"}
        assert cases.filter(ward_answered_at__isnull=False).exists()
        # Every callback has its day (the dashboards count callbacks by it), some already late.
        assert not cases.filter(status=Status.CALLBACK, callback_due_on__isnull=True).exists()
        assert cases.filter(callback_filters(timezone.now())[1]).exists()
        first = cases.order_by("received_at").first().received_at
        last = cases.order_by("-received_at").first().received_at
        assert timezone.localtime(first).date() >= program.recording_start
        assert last <= timezone.now() and timezone.localtime(
            last
        ).date() >= timezone.localdate() - datetime.timedelta(1)
        # Every case has its timeline, dated with the case's own times.
        created = TimelineEntry.objects.filter(case__program=program, kind="created")
        assert created.count() == cases.count()
        entry = created.select_related("case").first()
        assert entry.created_at == entry.case.received_at
        # The counter continues after the history: the next real case gets a fresh number.
        assert receipts.last_number(program) == cases.count()

    def test_a_second_seed_adds_nothing(self):
        call_command("seed_demo", stdout=io.StringIO())
        before = Case.objects.count()
        call_command("seed_demo", stdout=io.StringIO())
        assert Case.objects.count() == before

    def test_the_same_seed_gives_the_same_history(self, world):
        now = timezone.now()
        seed_categories(world.program)
        assert seed_history(program=world.program, cases=300, seed=7, now=now) == 300
        first = signature(world.program)
        TimelineEntry.objects.all().delete()
        Case.objects.all().delete()
        receipts.continue_after(world.program.pk, 0)
        assert seed_history(program=world.program, cases=300, seed=7, now=now) == 300
        assert signature(world.program) == first

    def test_the_dashboards_show_the_history(self, world):
        seed_categories(world.program)
        seed_history(program=world.program, cases=500)
        board = dashboard_for(world.ward_manager)
        assert sum(n for _day, n in board.trend) == 500
        assert board.ward_waiting_count > 0 and board.answered_week >= 0
