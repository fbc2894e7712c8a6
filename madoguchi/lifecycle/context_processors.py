"""The banner every staff page shows while a program of the user is being, or has been, erased."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.programs.scoping import program_ids


def erasure_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/inquiry/"):
        return {}
    ids = program_ids(user, "view")
    if not ids:
        return {"erasure_notices": []}
    erasures = ProgramErasure.objects.filter(
        program_id__in=ids, state__in=(ErasureState.ERASING, ErasureState.ERASED)
    ).select_related("program")
    return {
        "erasure_notices": [
            {"program": erasure.program.name, "erasing": erasure.state == ErasureState.ERASING}
            for erasure in erasures
        ]
    }
