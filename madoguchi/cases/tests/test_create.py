import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.audit.models import Action, AuditEvent
from madoguchi.cases.models import Case, Channel, Status, TimelineEntry, Verification
from madoguchi.cases.services import CallerDetails, RecordingClosed, create_case
from madoguchi.cases.testing import make_case, seed_categories


@pytest.mark.django_db
class CreateCaseTests:
    def test_it_numbers_cases_per_program_with_the_receipt_prefix(self, world):
        first = make_case(world.program, world.operator)
        second = make_case(world.program, world.operator)
        other = make_case(world.other_program, world.other_program_operator)
        assert first.receipt_number == "KJ-000001"
        assert second.receipt_number == "KJ-000002"
        assert other.receipt_number == "OT-000001"

    def test_it_writes_the_first_timeline_entry_and_an_audit_event_without_personal_values(self, world):
        case = make_case(
            world.program,
            world.operator,
            caller=CallerDetails(name="試験 花子", kana="シケン ハナコ"),
            contact_phone="０３－１２３４－５６７８",
        )
        entry = TimelineEntry.objects.get(case=case)
        assert entry.kind == TimelineEntry.Kind.CREATED
        assert entry.author == world.operator
        assert entry.author_organisation == world.contractor.name
        event = AuditEvent.objects.get(object_type="case", object_id=str(case.public_id))
        assert event.action == Action.CREATE
        assert event.actor_id == world.operator.pk
        flat = str(event.details)
        assert "試験" not in flat and "1234" not in flat
        assert "caller_name" in event.details["fields"]

    def test_it_normalises_the_contact_phone_and_email(self, world):
        case = make_case(
            world.program,
            world.operator,
            contact_phone="０３ー１２３４ー５６７８",
            contact_email="Ａ@Example.JP",
        )
        assert case.contact_phone == "03-1234-5678"
        assert case.contact_email == "A@example.jp"

    def test_it_refuses_a_malformed_phone_number(self, world):
        with pytest.raises(ValidationError):
            make_case(world.program, world.operator, contact_phone="03-12345-678901")
        assert not Case.objects.exists()

    def test_it_returns_the_same_case_for_a_repeated_idempotency_key(self, world):
        first = make_case(world.program, world.operator, idempotency_key="k-1")
        again = make_case(world.program, world.operator, idempotency_key="k-1")
        assert again.pk == first.pk
        assert Case.objects.count() == 1
        assert TimelineEntry.objects.count() == 1

    def test_it_refuses_outside_the_recording_period(self, world):
        world.program.recording_end = datetime.date.today() - datetime.timedelta(days=1)
        world.program.recording_start = world.program.recording_end - datetime.timedelta(days=10)
        world.program.save()
        with pytest.raises(RecordingClosed) as refused:
            make_case(world.program, world.operator)
        assert "記録期間" in refused.value.message
        assert not Case.objects.exists()

    def test_it_accepts_the_public_form_without_an_actor(self, world):
        case = create_case(
            program=world.program,
            channel=Channel.FORM,
            actor=None,
            inquiry="申請方法を教えてください。",
            caller=CallerDetails(
                name="試験 一郎", child_name="試験 次郎", child_dob=datetime.date(2020, 5, 3)
            ),
            contact_email="ichiro@example.jp",
        )
        assert case.created_by is None
        assert case.status == Status.NEW
        assert case.verification == Verification.NOT_VERIFIED
        assert AuditEvent.objects.get(object_id=str(case.public_id)).details["public_form"] is True

    def test_it_saves_a_web_inquiry_without_a_query_to_check_the_constraints(self, world):
        # Django validates a CheckConstraint with `SELECT 1 AS "_check" WHERE …`: a round trip
        # per case for constraints a new case cannot break (the database holds them anyway).
        with CaptureQueriesContext(connection) as captured:
            create_case(
                program=world.program,
                channel=Channel.FORM,
                actor=None,
                inquiry="申請方法を教えてください。",
                caller=CallerDetails(name="試験 一郎"),
            )
        statements = [query["sql"] for query in captured.captured_queries]
        assert not [sql for sql in statements if '"_check"' in sql]
        assert Case.objects.count() == 1

    def test_it_refuses_a_category_of_another_program(self, world):
        other = seed_categories(world.other_program)["その他"]
        with pytest.raises(ValidationError):
            make_case(world.program, world.operator, category=other)

    def test_it_refuses_an_empty_inquiry(self, world):
        with pytest.raises(ValidationError):
            make_case(world.program, world.operator, inquiry="")

    def test_it_seeds_the_standard_categories(self, world):
        names = list(seed_categories(world.program))
        assert names[0] == "対象要件" and names[-1] == "その他" and len(names) == 8


@pytest.mark.django_db(transaction=True)
class ReceiptNumberRaceTests:
    def test_concurrent_creations_get_distinct_numbers(self, world):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
        numbers: list[str] = []
        errors: list[BaseException] = []

        def create() -> None:
            try:
                numbers.append(make_case(world.program, world.operator).receipt_number)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=create) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert len(set(numbers)) == 8

    def test_a_case_not_yet_committed_does_not_hold_up_the_next_one(self, world):
        """The load run's queue: each new case held its program's counter row until COMMIT."""
        if connection.vendor != "postgresql":
            pytest.skip("SQLite lets one writer at a time anyway")
        make_case(world.program, world.operator)  # the program's sequence exists
        from django.db import transaction

        holding, release = threading.Event(), threading.Event()
        held: list[str] = []

        def hold_open() -> None:
            try:
                with transaction.atomic():
                    held.append(make_case(world.program, world.operator).receipt_number)
                    holding.set()
                    release.wait(10)
            finally:
                connection.close()

        thread = threading.Thread(target=hold_open)
        thread.start()
        try:
            assert holding.wait(10)
            # Two connections write two stripes of the dashboards' counts (their backends'
            # pids), whichever pids they have.
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                second = make_case(world.program, world.operator).receipt_number
        finally:
            release.set()
            thread.join()
        assert held and second != held[0]
        assert {held[0], second} == {"KJ-000002", "KJ-000003"}

    def test_a_failed_case_leaves_a_gap_and_the_next_case_goes_on(self, world):
        from django.db import transaction

        from madoguchi.cases import receipts

        make_case(world.program, world.operator)
        with pytest.raises(RuntimeError), transaction.atomic():
            make_case(world.program, world.operator)
            raise RuntimeError
        after = make_case(world.program, world.operator).receipt_number
        if connection.vendor == "postgresql":
            assert after == "KJ-000003"  # the sequence is not rolled back: a gap
        else:
            assert after == "KJ-000002"  # one writer at a time: gapless
        assert receipts.last_number(world.program) == int(after[-6:])

    def test_numbers_continue_after_a_bulk_load(self, world):
        from madoguchi.cases import receipts

        receipts.continue_after(world.program.pk, 41)
        assert make_case(world.program, world.operator).receipt_number == "KJ-000042"
        first = receipts.take_numbers(world.program, 10)
        assert first == 43
        assert make_case(world.program, world.operator).receipt_number == "KJ-000053"
