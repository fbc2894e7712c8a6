"""Reading the 情報管理台帳: the ward manager and the auditor of the program's ward see it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from madoguchi.ledger.models import LedgerEntry
from madoguchi.programs.models import Program


def ledger_for(program: Program) -> QuerySet[LedgerEntry]:
    """The program's register, newest first. Callers check the reader's role (see docs/permissions.md)."""
    return LedgerEntry.objects.filter(program=program).order_by("-at", "-id")


def entries_of_kind(program: Program, kind: str) -> QuerySet[LedgerEntry]:
    return ledger_for(program).filter(kind=kind)


__all__: list[Any] = ["entries_of_kind", "ledger_for"]
