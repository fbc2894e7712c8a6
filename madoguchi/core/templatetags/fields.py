"""`{% field form.name %}`: the same HTML as `{% include "cases/_field.html" %}` with that field,
kept between requests where that is safe (`madoguchi.lib.field_html`)."""

from __future__ import annotations

from django import forms, template
from django.utils.safestring import SafeString

from madoguchi.lib.field_html import field_html

register = template.Library()


@register.simple_tag
def field(bound: forms.BoundField) -> SafeString:
    return field_html(bound)
