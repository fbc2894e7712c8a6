import datetime
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditEvent
from madoguchi.cases import relations, selectors, services
from madoguchi.cases.models import CallbackAttempt, Case, Notification, SavedSearch, Status, TimelineEntry
from madoguchi.cases.testing import make_case, seed_categories


def post_urls(case):
    entry = TimelineEntry.objects.filter(case=case).first()
    return [
        (
            reverse("cases:edit", args=[case.public_id]),
            {"inquiry": "x", "channel": "phone", "version": case.version},
        ),
        (reverse("cases:note", args=[case.public_id]), {"body": "x", "kind": "call_note"}),
        (reverse("cases:correct", args=[case.public_id, entry.pk]), {"body": "x"}),
        (reverse("cases:transition", args=[case.public_id]), {"to": "closed", "version": case.version}),
        (reverse("cases:escalate", args=[case.public_id]), {"question": "x", "version": case.version}),
        (reverse("cases:assign", args=[case.public_id]), {"assignee": "", "version": case.version}),
    ]


@pytest.mark.django_db
class ScopeTests:
    def test_another_programs_case_answers_404_for_get_and_post(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.other_program_operator)
        assert client.get(reverse("cases:detail", args=[case.public_id])).status_code == 404
        for url, data in post_urls(case):
            assert client.post(url, data).status_code == 404, url
        case.refresh_from_db()
        assert case.version == 1 and case.status == Status.NEW
        assert TimelineEntry.objects.filter(case=case).count() == 1

    def test_the_list_shows_only_the_users_programs(self, client, world):
        mine = make_case(world.program, world.operator)
        theirs = make_case(world.other_program, world.other_program_operator)
        login(client, world.operator)
        page = client.get(reverse("cases:list")).content.decode()
        assert mine.receipt_number in page
        assert theirs.receipt_number not in page

    def test_a_household_of_another_program_is_refused_on_the_call_screen(self, client, world):
        from madoguchi.registry.models import Household, TargetListImport

        imp = TargetListImport.objects.create(
            program=world.other_program, file_name="x.csv", sha256="0", status="applied"
        )
        household = Household.objects.create(
            program=world.other_program,
            number="1",
            address="どこか",
            address_key="どこか",
            content_hash="0",
            first_import=imp,
            last_import=imp,
        )
        login(client, world.operator)
        response = client.post(
            reverse("cases:new"),
            {
                "channel": "phone",
                "caller_relation": "guardian",
                "inquiry": "問い合わせ",
                "priority": "normal",
                "then": "in_progress",
                "household": str(household.public_id),
            },
        )
        assert response.status_code == 400
        assert not Case.objects.exists()

    def test_extra_fields_in_a_post_are_never_bound(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.operator)
        client.post(
            reverse("cases:edit", args=[case.public_id]),
            {
                "channel": "phone",
                "caller_relation": "guardian",
                "inquiry": "変更後",
                "priority": "normal",
                "version": case.version,
                "program": world.other_program.pk,
                "status": "closed",
                "created_by": world.ward_manager.pk,
                "receipt_number": "X-1",
                "assignee": world.ward_staff.pk,
            },
        )
        case.refresh_from_db()
        assert case.inquiry == "変更後"
        assert case.program == world.program and case.status == Status.NEW
        assert case.created_by == world.operator and case.receipt_number == "KJ-000001"
        assert case.assignee == world.operator and case.version == 2  # the one who saved it


@pytest.mark.django_db
class ConflictTests:
    def test_the_second_save_is_refused_and_both_texts_are_shown(self, client, world):
        case = make_case(world.program, world.operator, inquiry="最初の内容")
        base = {
            "channel": "phone",
            "caller_relation": "guardian",
            "priority": "normal",
            "version": case.version,
        }
        login(client, world.operator)
        first = client.post(
            reverse("cases:edit", args=[case.public_id]), {**base, "inquiry": "オペレーターの入力"}
        )
        assert first.status_code == 302
        login(client, world.supervisor)
        second = client.post(
            reverse("cases:edit", args=[case.public_id]), {**base, "inquiry": "監督者の入力"}
        )
        assert second.status_code == 409
        page = second.content.decode()
        assert "オペレーターの入力" in page and "監督者の入力" in page
        case.refresh_from_db()
        assert case.inquiry == "オペレーターの入力"
        assert AuditEvent.objects.filter(object_id=str(case.public_id), outcome="failed").exists()
        # Saving again from the conflict page (current version) keeps the supervisor's text.
        retry = client.post(
            reverse("cases:edit", args=[case.public_id]),
            {**base, "version": case.version, "inquiry": "監督者の入力"},
        )
        assert retry.status_code == 302
        case.refresh_from_db()
        assert case.inquiry == "監督者の入力" and case.version == 3

    def test_two_tabs_double_submitting_the_same_edit_bump_the_version_once(self, world):
        case = make_case(world.program, world.operator)
        services.update_case(
            case=case, actor=world.operator, expected_version=1, changes={"response": "案内済"}
        )
        services.update_case(
            case=case, actor=world.operator, expected_version=2, changes={"response": "案内済"}
        )
        case.refresh_from_db()
        assert case.version == 2


@pytest.mark.django_db
class SearchTests:
    def search(self, client, text, **filters):
        response = client.post(reverse("cases:list"), {"text": text, **filters})
        assert response.status_code == 302
        location = response["Location"]
        # The text travels as an opaque search id (a random UUID, which can itself contain
        # short hex words such as "abc"), never as itself.
        url = urlsplit(location)
        query = parse_qs(url.query)
        search_id = query.pop("search")[0]
        assert str(uuid.UUID(search_id)) == search_id
        assert text not in url.path
        assert all(text not in value for values in query.values() for value in values)
        return client.get(location).content.decode()

    def test_it_finds_japanese_substrings_in_inquiry_response_and_timeline(self, client, world):
        delivery = make_case(world.program, world.operator, inquiry="カタログの配送が遅れているとのこと")
        answered = make_case(
            world.program, world.operator, inquiry="質問", response="返品は着払いで受け付けます"
        )
        noted = make_case(world.program, world.operator, inquiry="別件")
        services.add_note(case=noted, actor=world.operator, body="電子レンジの不具合について折り返し")
        other = make_case(world.other_program, world.other_program_operator, inquiry="配送が遅れている")
        login(client, world.operator)
        page = self.search(client, "配送")
        assert delivery.receipt_number in page and answered.receipt_number not in page
        assert other.receipt_number not in page
        assert answered.receipt_number in self.search(client, "着払い")
        page = self.search(client, "レンジの不具合")
        assert noted.receipt_number in page and delivery.receipt_number not in page

    def test_it_finds_a_receipt_number_typed_in_full_width(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.operator)
        assert case.receipt_number in self.search(client, "ＫＪ－０００００１")

    def test_half_width_kana_and_full_width_letters_match(self, client, world):
        case = make_case(world.program, world.operator, inquiry="ﾌﾟﾘﾝﾀｰ用のＡＢＣ用紙")
        login(client, world.operator)
        assert case.receipt_number in self.search(client, "プリンター")
        assert case.receipt_number in self.search(client, "abc")

    def test_the_first_page_of_a_search_and_its_count_agree_with_the_following_pages(
        self, world, monkeypatch
    ):
        monkeypatch.setattr(selectors, "COUNT_LIMIT", 6)
        matching = [make_case(world.program, world.operator, inquiry=f"配送の遅れ {n}") for n in range(8)]
        make_case(world.program, world.operator, inquiry="別件")
        make_case(world.other_program, world.other_program_operator, inquiry="配送の遅れ")
        newest_first = sorted(matching, key=lambda case: (case.received_at, case.pk), reverse=True)
        for text, label in (("配送の遅れ", "6+"), ("遅れ 3", "1"), ("該当なし", "0")):
            filters = selectors.CaseFilter(text=text)
            page = selectors.case_page(world.operator, filters, page_size=3)
            assert page.count_label == label, text
            shown, cursor = list(page.cases), page.next_cursor
            while cursor:
                following = selectors.case_page(world.operator, filters, cursor, page_size=3)
                assert following.count_label == ""
                shown += following.cases
                cursor = following.next_cursor
            expected = [case for case in newest_first if text == "配送の遅れ" or text in case.inquiry]
            assert [case.pk for case in shown] == [case.pk for case in expected], text

    def test_a_search_for_like_wildcards_matches_them_literally(self, client, world):
        literal = make_case(world.program, world.operator, inquiry="割引_A は 50% です")
        wild = make_case(world.program, world.operator, inquiry="割引XA は 500 です")
        login(client, world.operator)
        page = self.search(client, "割引_A")
        assert literal.receipt_number in page and wild.receipt_number not in page
        page = self.search(client, "50%")
        assert literal.receipt_number in page and wild.receipt_number not in page

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram search is PostgreSQL's")
    def test_the_first_page_of_a_search_checks_the_text_in_one_statement(self, world):
        """The page and its capped count come from one scan (the text condition is the costly
        part of a search); the page's columns are read by primary key, and strpos decides before
        LIKE, which stays for the trigram index."""
        for n in range(3):
            make_case(world.program, world.operator, inquiry=f"住所が変わった {n}")
        with CaptureQueriesContext(connection) as captured:
            page = selectors.case_page(world.operator, selectors.CaseFilter(text="住所が変わった"))
        assert len(page.cases) == 3 and page.count_label == "3"
        searched = [query["sql"] for query in captured.captured_queries if "search_text" in query["sql"]]
        assert len(searched) == 1, searched
        assert 'STRPOS("cases_case"."search_text"' in searched[0] and "LIKE" in searched[0]
        assert searched[0].index("STRPOS") < searched[0].index("LIKE")

    def test_a_saved_search_belongs_to_its_user(self, client, world):
        login(client, world.operator)
        client.post(reverse("cases:list"), {"text": "配送"})
        saved = SavedSearch.objects.get()
        login(client, world.supervisor)
        assert client.get(reverse("cases:list") + f"?search={saved.public_id}").status_code == 404

    def test_the_filters_combine(self, client, world):
        categories = seed_categories(world.program)
        a = make_case(world.program, world.operator, category=categories["配送・到着"])
        b = make_case(world.program, world.operator, category=categories["その他"])
        services.escalate(case=b, actor=world.operator, question="確認", expected_version=b.version)
        login(client, world.operator)
        page = client.get(reverse("cases:list"), {"category": categories["配送・到着"].pk}).content.decode()
        assert a.receipt_number in page and b.receipt_number not in page
        page = client.get(reverse("cases:list"), {"escalated": "on"}).content.decode()
        assert b.receipt_number in page and a.receipt_number not in page
        page = client.get(reverse("cases:list"), {"status": "new"}).content.decode()
        assert a.receipt_number in page and b.receipt_number not in page

    def test_the_list_pages_by_keyset(self, client, world):
        now = datetime.datetime(2026, 1, 5, 10, tzinfo=datetime.UTC)
        cases = [
            make_case(world.program, world.operator, received_at=now + datetime.timedelta(minutes=i))
            for i in range(55)
        ]
        login(client, world.operator)
        first = client.get(reverse("cases:list"))
        assert first.context["page"].cases[0] == cases[-1]
        cursor = first.context["page"].next_cursor
        second = client.get(reverse("cases:list"), {"after": cursor})
        assert [c.pk for c in second.context["page"].cases] == [c.pk for c in reversed(cases[:5])]


@pytest.mark.django_db
class QueryCountTests:
    def count(self, client, url):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    def test_the_list_queue_and_case_page_use_a_fixed_number_of_queries(self, client, world):
        categories = seed_categories(world.program)
        first = make_case(world.program, world.operator, category=categories["その他"])
        services.escalate(case=first, actor=world.operator, question="確認", expected_version=first.version)
        login(client, world.ward_staff)
        list_url = reverse("cases:list")
        queue_url = reverse("cases:queue", args=["escalated"])
        detail_url = reverse("cases:detail", args=[first.public_id])
        # A text search: on SQLite a word in every case walks the list's index, in one case
        # it starts from the hits (sqlite_search.choose_form); the same queries either way.
        search_url = client.post(list_url, {"text": "確認"})["Location"]
        rare_url = client.post(list_url, {"text": first.receipt_number})["Location"]
        urls = (list_url, queue_url, detail_url, search_url, rare_url)
        client.get(list_url)  # the first request after login touches the session once
        client.get(detail_url)  # marks the escalation's notification read (one UPDATE, once)
        small = [self.count(client, url) for url in urls]
        for _ in range(29):
            case = make_case(world.program, world.operator, category=categories["その他"])
            services.escalate(case=case, actor=world.operator, question="確認", expected_version=case.version)
            services.add_note(case=first, actor=world.operator, body="追記")
            services.assign(
                case=case, actor=world.supervisor, assignee=world.operator, expected_version=case.version
            )
        large = [self.count(client, url) for url in urls]
        assert large == small
        assert max(large) <= 25

    def test_the_list_and_the_case_page_stay_within_their_query_budget(
        self, client, world, django_assert_max_num_queries
    ):
        """Session, user with organisation and device (one), program ids, the rows and their
        count (list) or the case, the audit event (four on PostgreSQL: BEGIN, head, event,
        COMMIT), the filters' categories and assignees (list) or the timeline (case page), the
        badges and the erasure banner."""
        categories = seed_categories(world.program)
        case = make_case(world.program, world.operator, category=categories["その他"])
        login(client, world.operator)
        client.get(reverse("cases:list"))
        with django_assert_max_num_queries(13):
            assert client.get(reverse("cases:list")).status_code == 200
        with django_assert_max_num_queries(13):
            assert client.get(reverse("cases:list"), {"status": "new"}).status_code == 200
        # An open case without links or callback attempts: the assign and edit forms (the
        # assignees, the categories) are loaded when opened.
        with django_assert_max_num_queries(11):
            assert client.get(reverse("cases:detail", args=[case.public_id])).status_code == 200
        services.transition(case=case, to=Status.CLOSED, actor=world.operator, expected_version=case.version)
        with django_assert_max_num_queries(11):
            assert client.get(reverse("cases:detail", args=[case.public_id])).status_code == 200


@pytest.mark.django_db
class CasePageReadsTests:
    def sql_of(self, client, url):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return response, [query["sql"] for query in queries.captured_queries]

    def test_a_view_marks_the_users_unread_notifications_read_and_writes_nothing_when_there_are_none(
        self, client, world
    ):
        case = make_case(world.program, world.operator)
        services.escalate(case=case, actor=world.operator, question="確認", expected_version=case.version)
        note = Notification.objects.get(user=world.ward_staff, case=case)
        login(client, world.ward_staff)
        url = reverse("cases:detail", args=[case.public_id])
        response, sql = self.sql_of(client, url)
        note.refresh_from_db()
        assert note.read_at is not None
        assert any(text.startswith("UPDATE") and "cases_notification" in text for text in sql)
        assert "お知らせ" not in response.content.decode()  # the badge counts after the UPDATE
        _response, sql = self.sql_of(client, url)
        assert not any("cases_notification" in text and text.startswith("UPDATE") for text in sql)

    def test_links_and_callback_attempts_are_read_only_for_a_case_that_has_them(self, client, world):
        case = make_case(world.program, world.operator)
        other = make_case(world.program, world.operator)
        login(client, world.operator)
        url = reverse("cases:detail", args=[case.public_id])
        client.get(url)
        _response, before = self.sql_of(client, url)
        assert not [text for text in before if text.startswith('SELECT "cases_callbackattempt"')]
        relations.link_cases(case=case, other=other, actor=world.operator)
        case.refresh_from_db()
        services.transition(
            case=case, to=Status.CALLBACK, actor=world.operator, expected_version=case.version
        )
        CallbackAttempt.objects.create(
            case=case,
            outcome="no_answer",
            note="留守電 <確認>",
            attempted_by=world.operator,
            attempted_by_name="テスト operator",
        )
        client.get(url)
        response, after = self.sql_of(client, url)
        page = response.content.decode()
        assert other.receipt_number in page
        assert "留守電 &lt;確認&gt;" in page
        assert [text for text in after if text.startswith('SELECT "cases_callbackattempt"')]
        # the linked cases and the attempts (the callback state adds no other read)
        assert len(after) == len(before) + 2

    def test_a_merged_duplicate_shows_the_case_it_was_merged_into(self, client, world):
        into = make_case(world.program, world.operator)
        duplicate = make_case(world.program, world.operator, channel="form")
        relations.merge_duplicate(
            duplicate=duplicate, into=into, actor=world.operator, expected_version=duplicate.version
        )
        login(client, world.operator)
        page = client.get(reverse("cases:detail", args=[duplicate.public_id])).content.decode()
        assert reverse("cases:detail", args=[into.public_id]) in page
        assert into.receipt_number in page
        page = client.get(reverse("cases:detail", args=[into.public_id])).content.decode()
        assert duplicate.receipt_number in page and "統合済" in page


@pytest.mark.django_db
class AssignTests:
    def test_a_supervisor_assigns_and_the_assignee_is_notified(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.supervisor)
        # The assign form is loaded when opened (test_case_page_on_demand.py).
        form = client.get(reverse("cases:assign", args=[case.public_id]), HTTP_HX_REQUEST="true")
        assert 'id="assign-select"' in form.content.decode()
        response = client.post(
            reverse("cases:assign", args=[case.public_id]),
            {"assignee": world.operator.pk, "version": case.version},
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.assignee == world.operator
        assert case.notifications.filter(user=world.operator, kind="assigned").exists()
        mine = client.get(reverse("cases:list"), {"assignee": world.operator.pk}).content.decode()
        assert case.receipt_number in mine

    def test_a_user_of_another_program_cannot_be_assigned(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.supervisor)
        response = client.post(
            reverse("cases:assign", args=[case.public_id]),
            {"assignee": world.other_program_operator.pk, "version": case.version},
        )
        assert response.status_code == 404
        case.refresh_from_db()
        assert case.assignee == world.operator  # unchanged: the operator who saved it
