"""What the screens' forms share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import SimpleLazyObject, new_method_proxy


def add_service_errors(form: Any, error: ValidationError) -> None:
    """A service's ValidationError on the form: each field's errors next to that field, the rest
    (and errors of fields the form does not show) above the form."""
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


class LazyForm(SimpleLazyObject):
    """A form made on its first use, for a page that shows it only in some states (a closed
    case shows none of its forms). A template's `{% for %}` asks for the length of what it
    loops over: a form's is the number of its fields, as many as it yields."""

    def __init__(self, make: Callable[[], Any]) -> None:
        super().__init__(make)

    __len__ = new_method_proxy(lambda form: len(form.fields))
