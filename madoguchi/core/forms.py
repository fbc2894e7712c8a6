"""What the screens' forms share."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def add_service_errors(form: Any, error: ValidationError) -> None:
    """A service's ValidationError on the form: each field's errors next to that field, the rest
    (and errors of fields the form does not show) above the form."""
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)
