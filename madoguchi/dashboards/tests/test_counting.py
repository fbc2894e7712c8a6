import datetime

import pytest
from django.db import connection
from django.utils import timezone

from madoguchi.cases import callbacks, services
from madoguchi.cases.models import Case, Channel, Status, TimelineEntry
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.dashboards import counting
from madoguchi.dashboards.models import CaseCount

KEY = ("program_id", "kind", "day", "status", "channel", "category_key", "assignee_key", "answered", "hour")


def snapshot():
    """The counts as the dashboards read them: summed over the stripes."""
    summed: dict[tuple, int] = {}
    for *key, n in CaseCount.objects.values_list(*KEY, "n"):
        summed[tuple(key)] = summed.get(tuple(key), 0) + n
    return sorted((*key, n) for key, n in summed.items() if n)


@pytest.mark.django_db
class CountingTests:
    def test_the_triggers_keep_the_counts_equal_to_a_recount(self, world):
        categories = list(seed_categories(world.program).values())
        cases = [
            make_case(world.program, world.operator, channel=channel, category=categories[i % 3])
            for i, channel in enumerate([Channel.PHONE, Channel.FORM, Channel.EMAIL, Channel.PHONE])
        ]
        services.assign(case=cases[0], actor=world.supervisor, assignee=world.operator, expected_version=1)
        cases[0].refresh_from_db()
        first = cases[0]
        services.escalate(case=first, actor=world.operator, question="確認", expected_version=first.version)
        cases[0].refresh_from_db()
        services.answer(case=first, actor=world.ward_staff, body="回答", expected_version=first.version)
        first.refresh_from_db()
        callbacks.schedule_callback(
            case=first, actor=world.operator, due_on=timezone.localdate(), expected_version=first.version
        )
        # Moved to the next day: the case moves to the other day's state row.
        Case.objects.filter(pk=first.pk).update(
            callback_due_on=timezone.localdate() + datetime.timedelta(days=1)
        )
        services.transition(case=cases[1], to=Status.CLOSED, actor=world.operator, expected_version=1)
        Case.objects.filter(pk=cases[2].pk).update(
            category=categories[5], received_at=cases[2].received_at - datetime.timedelta(days=3)
        )
        TimelineEntry.objects.filter(case=cases[3]).delete()
        Case.objects.filter(pk=cases[3].pk).delete()
        live = snapshot()
        assert sum(n for *_key, n in live if _key[1] == "received") == 3
        callback_days = [key[2] for *key, n in live if key[1] == "state" and key[3] == Status.CALLBACK and n]
        assert callback_days == [timezone.localdate() + datetime.timedelta(days=1)]
        counting.rebuild(connection)
        assert snapshot() == live

    def test_each_case_counts_in_the_hour_it_was_received_in_japan(self, world):
        # 23:30 UTC on 1 March is 8:30 on 2 March in Tokyo.
        late_evening_utc = datetime.datetime(2023, 3, 1, 23, 30, tzinfo=datetime.UTC)
        case = make_case(world.program, world.operator, received_at=late_evening_utc)
        hourly = [key for *key, n in snapshot() if key[1] == CaseCount.Kind.HOURLY and n]
        assert [(key[2], key[4], key[8]) for key in hourly] == [(datetime.date(2023, 3, 2), Channel.PHONE, 8)]
        Case.objects.filter(pk=case.pk).update(received_at=late_evening_utc + datetime.timedelta(hours=5))
        hourly = [key for *key, n in snapshot() if key[1] == CaseCount.Kind.HOURLY and n]
        assert [(key[2], key[8]) for key in hourly] == [(datetime.date(2023, 3, 2), 13)]
        live = snapshot()
        counting.rebuild(connection)
        assert snapshot() == live

    def test_an_unrelated_change_does_not_touch_the_counts(self, world):
        case = make_case(world.program, world.operator)
        before = list(CaseCount.objects.values_list("pk", "n"))
        Case.objects.filter(pk=case.pk).update(response="追記")
        assert list(CaseCount.objects.values_list("pk", "n")) == before

    def test_the_triggers_come_back_after_they_were_dropped(self, world):
        make_case(world.program, world.operator)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("DROP TRIGGER dashboards_casecount_insdel ON cases_case")
            else:
                cursor.execute("DROP TRIGGER dashboards_casecount_insert")
        assert not counting.is_installed(connection)
        make_case(world.program, world.operator)  # not counted: the trigger is gone
        counting.ensure_installed(connection)
        assert counting.is_installed(connection)
        assert CaseCount.objects.filter(kind="received").get().n == 2

    def test_a_bulk_load_without_the_triggers_ends_with_the_same_counts(self, world):
        def received() -> int:
            return sum(CaseCount.objects.filter(kind="received").values_list("n", flat=True))

        categories = list(seed_categories(world.program).values())
        make_case(world.program, world.operator, category=categories[0])
        if connection.vendor == "postgresql":
            # The test's transaction holds deferred FK checks, which forbid an ALTER TABLE (a bulk
            # load runs in its own transaction).
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with counting.triggers_off(connection):
            for _ in range(3):
                make_case(world.program, world.operator, category=categories[1])
            assert received() == 1  # not counted while the triggers are off
        assert counting.is_installed(connection)
        assert received() == 4
        live = snapshot()
        counting.rebuild(connection)
        assert snapshot() == live
        make_case(world.program, world.operator)  # counted by the trigger again
        assert received() == 5


def split_into_stripes():
    """Spread every count over two stripes, as two connections writing at once would."""
    for row in CaseCount.objects.filter(stripe=0, n__gt=1):
        CaseCount.objects.create(**{f: getattr(row, f) for f in KEY}, stripe=7, n=1)
        CaseCount.objects.filter(pk=row.pk).update(n=row.n - 1)
    return CaseCount.objects.exclude(stripe=0).count()


@pytest.mark.django_db
class StripeTests:
    def test_the_dashboards_sum_the_stripes(self, world):
        from madoguchi.dashboards.selectors import dashboard_for

        for channel in (Channel.PHONE, Channel.PHONE, Channel.FORM, Channel.FORM, Channel.FORM):
            make_case(world.program, None if channel == Channel.FORM else world.operator, channel=channel)
        CaseCount.objects.update(stripe=0)
        before = dashboard_for(world.ward_manager, today=timezone.localdate())
        supervisor_before = dashboard_for(world.supervisor, today=timezone.localdate())
        assert split_into_stripes() > 0
        after = dashboard_for(world.ward_manager, today=timezone.localdate())
        supervisor_after = dashboard_for(world.supervisor, today=timezone.localdate())
        assert after.by_channel == before.by_channel == {"phone": 2, "form": 3, "email": 0, "counter": 0}
        assert after.trend == before.trend
        assert supervisor_after.backlog == supervisor_before.backlog
        assert supervisor_after.web_waiting == supervisor_before.web_waiting == 3

    def test_each_connection_counts_in_a_stripe_of_its_own(self, world):
        """The stripe is the backend's pid: no two live connections share one, so no writer waits
        for another's COMMIT on a count (a form worker preempted inside its transaction would hold
        up the staff writer beside it)."""
        if connection.vendor != "postgresql":
            pytest.skip("SQLite writes one stripe only")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        make_case(world.program, None, channel=Channel.FORM)
        assert set(CaseCount.objects.values_list("stripe", flat=True)) == {pid}

    def test_compaction_folds_the_stripes_and_keeps_every_count(self, world):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite writes one stripe only")
        for _ in range(3):
            make_case(world.program, None, channel=Channel.FORM)
        CaseCount.objects.update(stripe=0)
        split_into_stripes()
        CaseCount.objects.create(
            program_id=world.program.pk, kind="received", day=timezone.localdate(), channel="email", n=0
        )
        live = snapshot()
        assert counting.compact(connection) > 0
        assert snapshot() == live
        assert not CaseCount.objects.exclude(stripe=0).exists()
        assert not CaseCount.objects.filter(n=0).exists()

    def test_the_command_compacts(self, world):
        import io

        from django.core.management import call_command

        make_case(world.program, None, channel=Channel.FORM)
        out = io.StringIO()
        call_command("compact_counts", stdout=out)
        assert "集計行を整理しました" in out.getvalue()
        assert not CaseCount.objects.exclude(stripe=0).exists()
