import datetime

import pytest

from madoguchi.audit.details import AuditDetailsError
from madoguchi.ledger.models import LedgerKind
from madoguchi.ledger.selectors import ledger_for
from madoguchi.ledger.services import record_in_ledger


class LedgerTests:
    def test_it_records_an_export_with_its_actor_snapshot(self, world):
        program, ward_manager = world.program, world.ward_manager
        entry = record_in_ledger(
            kind=LedgerKind.EXPORT,
            program=program,
            actor=ward_manager,
            what="問い合わせ一覧（CSV）",
            purpose="区議会への報告",
            row_count=12,
            file_name="cases.csv",
            sha256="a" * 64,
        )
        assert list(ledger_for(program)) == [entry]
        assert entry.actor_username == ward_manager.username
        assert entry.get_kind_display() == "出力"
        assert entry.at.date() <= datetime.date.today() + datetime.timedelta(days=1)

    def test_it_refuses_a_personal_value_in_details(self, world):
        program, ward_manager = world.program, world.ward_manager
        with pytest.raises(AuditDetailsError):
            record_in_ledger(
                kind=LedgerKind.EXPORT,
                program=program,
                actor=ward_manager,
                what="x",
                details={"name": "山田太郎"},
            )
