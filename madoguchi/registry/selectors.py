from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from madoguchi.programs.models import Program
from madoguchi.programs.scoping import programs_for, restrict
from madoguchi.registry.models import TargetListImport


def import_programs(user: Any) -> QuerySet[Program]:
    return programs_for(user, "import").order_by("code")


def imports_of(program: Program) -> QuerySet[TargetListImport]:
    return (
        TargetListImport.objects.filter(program=program)
        .select_related("uploaded_by")
        .order_by("-created_at", "-pk")
    )


def visible_imports(user: Any) -> QuerySet[TargetListImport]:
    return restrict(TargetListImport.objects.select_related("program", "uploaded_by"), user, "import")
