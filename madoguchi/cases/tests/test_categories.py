"""The ward manager's category screen: who may use it, what each change does, the audit trail."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditChange, AuditEvent
from madoguchi.cases import program_settings, services
from madoguchi.cases.forms import CaseCreateForm, CaseEditForm
from madoguchi.cases.models import Case, Category
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.conftest import make_user
from madoguchi.public.forms import InquiryForm


def names(program):
    return list(
        Category.objects.filter(program=program).order_by("order", "id").values_list("name", flat=True)
    )


def category_events():
    return AuditEvent.objects.filter(object_type="case_category").order_by("seq")


def change_of(event):
    change = AuditChange.objects.get(event=event)
    return change.before, change.after


@pytest.fixture
def setagaya(world):
    return seed_categories(world.program)


@pytest.mark.django_db
class CategoryPermissionTests:
    def urls(self, world, category):
        code = world.program.code
        return [
            ("get", reverse("cases:category_index"), {}),
            ("get", reverse("cases:categories", args=[code]), {}),
            ("post", reverse("cases:categories", args=[code]), {"name": "新しい分類"}),
            ("get", reverse("cases:category_edit", args=[code, category.pk]), {}),
            ("post", reverse("cases:category_edit", args=[code, category.pk]), {"name": "改名"}),
            ("post", reverse("cases:category_move", args=[code, category.pk]), {"direction": "down"}),
            ("post", reverse("cases:category_active", args=[code, category.pk]), {"active": "0"}),
        ]

    def test_operators_ward_staff_auditors_and_sysadmins_are_refused(self, client, world, setagaya):
        category = setagaya["対象要件"]
        for persona in (world.operator, world.supervisor, world.ward_staff, world.auditor, world.sysadmin):
            login(client, persona)
            for method, url, data in self.urls(world, category):
                assert getattr(client, method)(url, data).status_code == 403, (persona, url)
        assert names(world.program) == list(setagaya)
        assert not category_events().exists()

    def test_the_manager_of_another_program_finds_nothing(self, client, world, setagaya):
        other_manager = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        login(client, other_manager)
        for method, url, data in self.urls(world, setagaya["対象要件"])[1:]:
            assert getattr(client, method)(url, data).status_code == 404, url
        # Their own program's category, addressed through this program's code: also 404.
        theirs = Category.objects.create(program=world.other_program, name="別事業の分類")
        login(client, world.ward_manager)
        url = reverse("cases:category_edit", args=[world.program.code, theirs.pk])
        assert client.post(url, {"name": "乗っ取り"}).status_code == 404
        theirs.refresh_from_db()
        assert theirs.name == "別事業の分類"
        assert not category_events().exists()

    def test_the_services_refuse_anyone_but_the_wards_manager(self, world, setagaya):
        other_manager = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        world.program.members.add(other_manager)  # a member by mistake, still not of this ward
        category = setagaya["対象要件"]
        for persona in (world.operator, world.ward_staff, world.auditor, other_manager, None):
            with pytest.raises(program_settings.SettingsRefused):
                program_settings.add_category(program=world.program, actor=persona, name="x")
            with pytest.raises(program_settings.SettingsRefused):
                program_settings.rename_category(category=category, actor=persona, name="x")
            with pytest.raises(program_settings.SettingsRefused):
                program_settings.move_category(category=category, actor=persona, offset=1)
            with pytest.raises(program_settings.SettingsRefused):
                program_settings.set_category_active(category=category, actor=persona, active=False)
        assert names(world.program) == list(setagaya)

    def test_the_navigation_shows_the_screen_to_the_ward_manager_only(self, client, world, setagaya):
        login(client, world.ward_manager)
        labels = {item["label"]: item["url"] for item in client.get("/cases/").context["nav_items"]}
        assert labels["問い合わせ分類"] == reverse("cases:category_index")
        response = client.get(reverse("cases:category_index"))
        assert response.status_code == 302
        assert response["Location"] == reverse("cases:categories", args=[world.program.code])
        items = client.get(response["Location"]).context["nav_items"]
        assert "問い合わせ分類" in [item["label"] for item in items if item["current"]]
        login(client, world.ward_staff)
        labels = {item["label"] for item in client.get("/cases/").context["nav_items"]}
        assert "問い合わせ分類" not in labels


@pytest.mark.django_db
class CategoryChangeTests:
    def test_the_list_shows_the_seeded_categories_in_order(self, client, world, setagaya):
        make_case(world.program, world.operator, category=setagaya["配送・到着"])
        login(client, world.ward_manager)
        response = client.get(reverse("cases:categories", args=[world.program.code]))
        assert response.status_code == 200
        rows = response.context["categories"]
        assert [row.name for row in rows] == list(setagaya)
        assert [row.name for row in rows if row.in_use] == ["配送・到着"]
        page = response.content.decode()
        assert page.index("対象要件") < page.index("申請方法") < page.index("その他")

    def test_the_manager_adds_a_category_at_the_end_and_it_is_audited(self, client, world, setagaya):
        login(client, world.ward_manager)
        response = client.post(reverse("cases:categories", args=[world.program.code]), {"name": " 支給時期 "})
        assert response.status_code == 302
        assert names(world.program)[-1] == "支給時期"
        added = Category.objects.get(program=world.program, name="支給時期")
        assert added.is_active
        event = category_events().get()
        assert (event.action, event.object_id, event.program_id) == (
            "settings_change",
            str(added.pk),
            world.program.pk,
        )
        assert (event.actor_username, event.details["change"]) == ("manager", "create")
        assert change_of(event) == ({}, {"name": "支給時期", "order": added.order, "is_active": True})
        assert "支給時期" in str(CaseCreateForm(program=world.program)["category"])

    def test_a_duplicate_or_empty_name_is_refused_next_to_the_field(self, client, world, setagaya):
        login(client, world.ward_manager)
        url = reverse("cases:categories", args=[world.program.code])
        for name, message in (
            ("商品･ｶﾀﾛｸﾞ", "同じ名前の分類がすでにあります。"),
            ("　", "このフィールドは必須です。"),
        ):
            response = client.post(url, {"name": name})
            assert response.status_code == 400
            assert response.context["form"].errors == {"name": [message]}
            page = response.content.decode()
            assert 'id="id_name_error"' in page and message in page
            assert 'aria-invalid="true"' in page
        assert names(world.program) == list(setagaya)
        assert not category_events().exists()

    def test_the_manager_renames_a_category_and_old_cases_show_the_new_name(self, client, world, setagaya):
        case = make_case(world.program, world.operator, category=setagaya["書類が届かない"])
        login(client, world.ward_manager)
        url = reverse("cases:category_edit", args=[world.program.code, setagaya["書類が届かない"].pk])
        assert client.get(url).status_code == 200
        response = client.post(url, {"name": "案内・書類が届かない"})
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.category.name == "案内・書類が届かない"
        event = category_events().get()
        assert event.details["change"] == "rename"
        assert change_of(event) == ({"name": "書類が届かない"}, {"name": "案内・書類が届かない"})
        response = client.post(url, {"name": "対象要件"})
        assert response.status_code == 400
        assert response.context["form"].errors == {"name": ["同じ名前の分類がすでにあります。"]}

    def test_the_manager_moves_a_category_up_and_down(self, client, world, setagaya):
        login(client, world.ward_manager)
        move = reverse("cases:category_move", args=[world.program.code, setagaya["その他"].pk])
        assert client.post(move, {"direction": "up"}).status_code == 302
        assert names(world.program)[-2:] == ["その他", "書類が届かない"]
        first = reverse("cases:category_move", args=[world.program.code, setagaya["対象要件"].pk])
        client.post(first, {"direction": "down"})
        client.post(first, {"direction": "down"})
        assert names(world.program)[:3] == ["申請方法", "商品・カタログ", "対象要件"]
        # The first one cannot go further up: nothing changes, nothing is recorded.
        top = reverse("cases:category_move", args=[world.program.code, setagaya["申請方法"].pk])
        client.post(top, {"direction": "up"})
        assert names(world.program)[0] == "申請方法"
        events = list(category_events())
        assert len(events) == 3
        before, after = change_of(events[0])
        assert before["order"] == list(setagaya)
        assert after["order"][-2:] == ["その他", "書類が届かない"]
        assert client.post(top, {"direction": "sideways"}).status_code == 403
        # The forms follow the new order.
        choices = [label for value, label in CaseCreateForm(program=world.program).fields["category"].choices]
        assert choices[1:4] == ["申請方法", "商品・カタログ", "対象要件"]

    def test_a_deactivated_category_leaves_the_forms_but_old_cases_keep_it(self, client, world, setagaya):
        returns = setagaya["不具合・返品"]
        case = make_case(world.program, world.operator, category=returns)
        assert "不具合・返品" in str(CaseCreateForm(program=world.program)["category"])
        assert "不具合・返品" in InquiryForm(program=world.program).as_div()
        login(client, world.ward_manager)
        url = reverse("cases:category_active", args=[world.program.code, returns.pk])
        assert client.post(url, {"active": "0"}).status_code == 302
        returns.refresh_from_db()
        assert not returns.is_active
        event = category_events().get()
        assert event.details["change"] == "deactivate"
        assert change_of(event) == ({"is_active": True}, {"is_active": False})
        # Gone from the call screen's form and the residents' form …
        assert "不具合・返品" not in str(CaseCreateForm(program=world.program)["category"])
        assert "不具合・返品" not in InquiryForm(program=world.program).as_div()
        # … but the old case keeps it, and its edit form keeps it selected.
        case.refresh_from_db()
        assert case.category == returns
        edit = CaseEditForm(instance=case)
        assert returns in edit.fields["category"].queryset
        assert "selected>不具合・返品" in str(edit["category"])
        login(client, world.operator)
        assert "不具合・返品" in client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
        response = client.post(
            reverse("cases:edit", args=[case.public_id]),
            {"channel": "phone", "category": returns.pk, "caller_relation": "guardian",
             "inquiry": "変更後", "priority": "normal", "version": case.version},
        )  # fmt: skip
        assert response.status_code == 302
        case.refresh_from_db()
        assert (case.inquiry, case.category) == ("変更後", returns)
        # A new case, or another case moved to it, is refused by the service too.
        with pytest.raises(ValidationError):
            make_case(world.program, world.operator, category=returns)
        other = make_case(world.program, world.operator, category=setagaya["その他"])
        with pytest.raises(ValidationError):
            services.update_case(
                case=other,
                actor=world.operator,
                expected_version=other.version,
                changes={"category": returns},
            )
        # Reactivated, it is offered again.
        login(client, world.ward_manager)
        client.post(url, {"active": "1"})
        assert "不具合・返品" in str(CaseCreateForm(program=world.program)["category"])
        assert [event.details["change"] for event in category_events()] == ["deactivate", "reactivate"]

    def test_the_list_filter_still_finds_cases_of_a_deactivated_category(self, client, world, setagaya):
        returns = setagaya["不具合・返品"]
        case = make_case(world.program, world.operator, category=returns)
        program_settings.set_category_active(category=returns, actor=world.ward_manager, active=False)
        login(client, world.operator)
        response = client.get(reverse("cases:list"), {"category": returns.pk})
        page = response.content.decode()
        assert case.receipt_number in page
        assert "不具合・返品（無効）" in page

    def test_nothing_deletes_a_category(self, world, setagaya):
        assert not [name for name in dir(program_settings) if "delete" in name]
        assert Case._meta.get_field("category").remote_field.on_delete.__name__ == "PROTECT"
