"""The import screen through the Django test client: upload → preview → confirm."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.registry import uploads
from madoguchi.registry.models import Household, TargetListImport
from madoguchi.registry.tests.csvdata import HEADER, csv_bytes, row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    # Uploads a test leaves unconfirmed stay in its own directory, not the system's.
    directory = tmp_path / "uploads"
    directory.mkdir()
    monkeypatch.setattr(uploads, "upload_dir", lambda: directory)
    return directory


def upload(client, world, data: bytes, name: str = "targets.csv"):
    return client.post(
        reverse("registry:upload", args=[world.program.code]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def token_of(client) -> str:
    tokens = list(client.session[uploads.SESSION_KEY])
    assert len(tokens) == 1
    return tokens[0]


class ImportScreenTests:
    def test_ward_staff_uploads_previews_and_confirms(self, client, world):
        login(client, world.ward_staff)
        page = client.get(reverse("registry:program_imports", args=[world.program.code]))
        assert page.status_code == 200
        assert "取込" in page.content.decode()

        rows = [row("H001"), row("H002", 児童氏名="見本　二郎", 児童生年月日="2018-01-01")]
        preview = upload(client, world, csv_bytes(rows))
        text = preview.content.decode()
        assert preview.status_code == 200
        assert "取込内容の確認" in text
        assert "見本" not in text and "試験" not in text  # no personal values in the preview
        assert "対象外の児童" in text
        assert Household.objects.count() == 0
        token = token_of(client)
        stored = uploads.find(client.session, token)
        assert stored is not None and stored.path.exists()

        result = client.post(reverse("registry:confirm", args=[world.program.code]), {"token": token})
        target_import = TargetListImport.objects.get()
        assert result.status_code == 302
        assert result["Location"] == reverse(
            "registry:import_detail", args=[world.program.code, target_import.pk]
        )
        assert target_import.version == 1
        assert target_import.uploaded_by == world.ward_staff
        assert Household.objects.count() == 1
        assert not stored.path.exists()  # the temp upload is deleted
        detail = client.get(result["Location"])
        assert "第1版" in detail.content.decode()

    def test_confirm_with_a_token_of_another_session_does_nothing(self, client, world):
        login(client, world.ward_staff)
        upload(client, world, csv_bytes([row()]))
        token = token_of(client)
        other = client.__class__()
        login(other, world.ward_manager)
        response = other.post(reverse("registry:confirm", args=[world.program.code]), {"token": token})
        assert response.status_code == 302
        assert Household.objects.count() == 0

    def test_a_refused_file_lists_problems_by_row_and_column(self, client, world):
        login(client, world.ward_staff)
        response = upload(client, world, csv_bytes([row(児童生年月日="2023-02-30", 電話番号="12")]))
        text = response.content.decode()
        assert "このファイルは取り込めません" in text
        assert "児童生年月日" in text and "電話番号" in text
        assert "2023-02-30" not in text
        assert 'name="token"' in text and "取り込む" not in text.split("問題の一覧")[-1]
        assert TargetListImport.objects.get().status == TargetListImport.Status.REFUSED

    def test_an_unknown_column_can_be_dropped_on_the_screen(self, client, world):
        login(client, world.ward_staff)
        data = csv_bytes([row(マイナンバー="123456789012")], header=[*HEADER, "マイナンバー"])
        first = upload(client, world, data).content.decode()
        assert "マイナンバー" in first and "123456789012" not in first
        token = token_of(client)
        second = client.post(
            reverse("registry:recheck", args=[world.program.code]),
            {"token": token, "drop_columns": ["マイナンバー"]},
        )
        assert "このファイルは取り込めません" not in second.content.decode()
        client.post(reverse("registry:confirm", args=[world.program.code]), {"token": token})
        assert Household.objects.count() == 1

    def test_only_csv_files_within_the_size_limit_are_accepted(self, client, world, settings):
        login(client, world.ward_staff)
        response = upload(client, world, b"<html></html>", name="../../x.html")
        assert response.status_code == 400
        settings.TARGET_LIST_MAX_UPLOAD_BYTES = 100
        response = upload(client, world, csv_bytes([row()]))
        assert response.status_code == 400
        assert "大きすぎます" in response.content.decode()
        assert TargetListImport.objects.count() == 0

    def test_a_path_in_the_file_name_is_never_used(self, client, world):
        login(client, world.ward_staff)
        upload(client, world, csv_bytes([row()]), name="../../x.csv")
        stored = uploads.find(client.session, token_of(client))
        assert stored.path.parent == uploads.upload_dir()
        assert stored.file_name == "x.csv"
        client.post(reverse("registry:cancel", args=[world.program.code]), {"token": stored.token})
        assert not stored.path.exists()

    def test_an_operator_is_refused_with_403(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("registry:program_imports", args=[world.program.code])).status_code == 403
        assert upload(client, world, csv_bytes([row()])).status_code == 403
        assert Household.objects.count() == 0

    def test_another_wards_program_answers_404(self, client, world):
        login(client, world.ward_staff)
        url = reverse("registry:program_imports", args=[world.other_program.code])
        assert client.get(url).status_code == 404
        response = client.post(
            reverse("registry:upload", args=[world.other_program.code]),
            {"file": SimpleUploadedFile("t.csv", csv_bytes([row()]))},
        )
        assert response.status_code == 404

    def test_the_navigation_offers_the_import_to_ward_staff_only(self, client, world):
        login(client, world.ward_staff)
        assert (
            reverse("registry:imports")
            in client.get(reverse("registry:program_imports", args=[world.program.code])).content.decode()
        )
        login(client, world.operator)
        home = client.get("/")
        assert reverse("registry:imports") not in home.content.decode()


class ImportHistoryTests:
    def test_the_history_lists_versions_refusals_and_interrupted_attempts(self, client, world):
        login(client, world.ward_staff)
        upload(client, world, csv_bytes([row()]))
        client.post(reverse("registry:confirm", args=[world.program.code]), {"token": token_of(client)})
        upload(client, world, csv_bytes([row(児童生年月日="2023-02-30")]))
        TargetListImport.objects.create(
            program=world.program,
            file_name="killed.csv",
            sha256="0" * 64,
            status=TargetListImport.Status.FAILED,
        )
        page = client.get(reverse("registry:program_imports", args=[world.program.code])).content.decode()
        assert "第1版" in page
        assert "取込不可" in page
        assert "実行中または中断" in page
        assert "killed.csv" in page
