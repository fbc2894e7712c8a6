"""The staff layout's head, header and footer (`base.html`), written in Python.

Every staff page renders them: about sixty template nodes (a dozen translations, three static
URLs, three URLs, the language switch's loop with `get_language_info`, two includes), about a
millisecond of each full page through Django's template engine. What is the same for every
request in a language (the translations, static and plain URLs, the language buttons) is made
once per process, language, script prefix and escaping (`_static_parts`) and kept; what
belongs to the request is written in at each render, escaped as the template escaped it: the
CSRF token (Django's own `{% csrf_token %}` node), the user's chip, the path in the language
form, the request id. No part of a user or a request is kept. The HTML is the old template's,
byte for byte (`core/tests/test_chrome.py` renders both over users, languages and contexts).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.context import Context
from django.template.defaulttags import CsrfTokenNode
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


@dataclass(frozen=True)
class _Parts:
    html_open: str  # <!DOCTYPE html> … head_assets.html up to its CSRF token
    head_assets_rest: str  # the rest of head_assets.html, "<title>"
    title_end: str  # " | 窓口</title>" and the scripts
    body_open: str  # </head> and <body class=" (the page's `body_class` follows)
    brand_open: str  # the rest of <body>, the skip link, the brand (`service_subtitle` follows)
    chip_label: str
    logout_button: str
    logout_url: str
    language_form: str  # before the CSRF token of the language form, or "" without the form
    language_buttons: str
    footer_open: str  # <footer> … the keyboard help
    request_id_label: str


_parts: dict[tuple[Any, ...], _Parts] = {}
_lock = threading.Lock()
_csrf_node = CsrfTokenNode()
_TOKEN_MARK = "mdgCsrfTokenPlace0"  # noqa: S105 - a marker, not a secret


def _forget(**_kwargs: object) -> None:
    with _lock:
        _parts.clear()


setting_changed.connect(_forget, dispatch_uid="madoguchi.core.chrome")


def _url(name: str) -> str:
    """`{% url name as var %}`: empty when the name does not resolve."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _static_parts(autoescape: bool) -> _Parts:
    language = translation.get_language()
    key = (language, get_script_prefix(), autoescape)
    parts = _parts.get(key)
    if parts is None:
        parts = _make_parts(language, autoescape)
        with _lock:
            _parts[key] = parts
    return parts


def _make_parts(language: str | None, autoescape: bool) -> _Parts:
    def esc(value: Any) -> str:
        return str(conditional_escape(value)) if autoescape else str(value)

    def t(message: str) -> str:
        return esc(gettext(message))

    # The residents' layout includes it too: rendered here once, the token's place marked.
    head_assets = get_template("includes/head_assets.html").template  # type: ignore[attr-defined]
    assets = head_assets.render(Context({"csrf_token": _TOKEN_MARK}, autoescape=autoescape)).split(
        _TOKEN_MARK
    )
    if len(assets) != 2:
        raise ValueError("includes/head_assets.html must show the CSRF token once")
    brand = t("窓口")
    home = esc(_url("core:home")) or "/"
    set_language = esc(_url("set_language"))
    buttons = ""
    if set_language:
        for code, _name in settings.LANGUAGES:
            if code != language:
                info = translation.get_language_info(code)
                buttons += (
                    "\n      \n      "
                    f'<button type="submit" class="button button--secondary button--small" name="language" '
                    f'value="{esc(code)}" lang="{esc(code)}">{esc(info["name_local"])}</button>\n      '
                )
    return _Parts(
        html_open=f'<!DOCTYPE html>\n<html lang="{esc(language or "ja")}">\n<head>\n{assets[0]}',
        head_assets_rest=f"{assets[1]}\n<title>",
        title_end=(
            f" | {brand}</title>\n"
            f'<script src="{esc(static("vendor/htmx/htmx.min.js"))}" defer></script>\n'
            f'<script src="{esc(static("js/madoguchi.js"))}" defer></script>\n'
        ),
        body_open='\n</head>\n<body class="',
        brand_open=(
            f'" data-i18n-submitting="{t("送信しています")}">\n'
            f'<a class="skip-link" href="#main">{t("本文へ移動")}</a>\n'
            '<header class="site-header">\n  <div class="container site-header__inner">\n    \n'
            f'    <a class="site-header__brand" href="{home}">{brand}<span class="site-header__program">'
        ),
        chip_label=t("ログイン中："),
        logout_button=(
            "\n        "
            f'<button type="submit" class="button button--secondary button--small">{t("ログアウト")}</button>'
            "\n      </form>\n      "
        ),
        logout_url=esc(_url("accounts:logout")),
        language_form=(
            f'\n    \n    \n    <form class="language-switch" method="post" action="{set_language}">\n      '
            if set_language
            else ""
        ),
        language_buttons=buttons,
        footer_open=(
            '<footer class="site-footer">\n  <div class="container site-footer__inner">\n'
            '    <details class="shortcut-help" data-shortcut-help hidden>\n'
            f"      <summary>{t('キーボード操作')}</summary>\n"
            '      <dl class="shortcut-help__list" data-shortcut-list></dl>\n    </details>\n    \n    '
        ),
        request_id_label=t("リクエストID"),
    )


def _value(value: Any, autoescape: bool) -> str:
    """`{{ value }}` of a string (None and missing render as the template renders them: '')."""
    if value is None:
        return ""
    return str(conditional_escape(value)) if autoescape else str(value)


@register.simple_tag(takes_context=True)
def site_head(context: Context) -> SafeString:
    """From `<!DOCTYPE html>` to `<title>`, `includes/head_assets.html` included."""
    parts = _static_parts(context.autoescape)
    token = _value(context.get("csrf_token"), context.autoescape)
    return mark_safe(parts.html_open + token + parts.head_assets_rest)  # noqa: S308 - escaped parts


@register.simple_tag(takes_context=True)
def site_head_end(context: Context) -> SafeString:
    """After the page's title: the rest of `<title>` and the scripts."""
    return mark_safe(_static_parts(context.autoescape).title_end)  # noqa: S308 - escaped parts


@register.simple_tag(takes_context=True)
def site_body(context: Context) -> SafeString:
    """`</head>` and the start of `<body>`, up to its class."""
    return mark_safe(_static_parts(context.autoescape).body_open)  # noqa: S308 - escaped parts


@register.simple_tag(takes_context=True)
def site_brand(context: Context) -> SafeString:
    """After the body's class: the skip link and the brand, up to its subtitle."""
    return mark_safe(_static_parts(context.autoescape).brand_open)  # noqa: S308 - escaped parts


@register.simple_tag(takes_context=True)
def site_header(context: Context) -> SafeString:
    """After the brand's subtitle, to `</header>`: the user's chip and logout, the language switch."""
    autoescape = context.autoescape
    parts = _static_parts(autoescape)
    out = ["</span></a>\n    "]
    user = context.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        name = getattr(user, "display_name", "") or user.get_username()
        out.append(
            '\n    <div class="site-header__user">\n      <p class="user-chip">\n'
            f'        <span class="visually-hidden">{parts.chip_label}</span>\n'
            f'        <span class="user-chip__name">{_value(name, autoescape)}</span>\n        '
        )
        organisation = getattr(user, "organisation", None)
        if organisation:
            out.append(f'<span class="user-chip__org">{_value(organisation.name, autoescape)}</span>')
        out.append("\n        ")
        role = user.get_role_display() if hasattr(user, "get_role_display") else ""
        if role:
            out.append(f'<span class="role-tag">{_value(role, autoescape)}</span>')
        out.append("\n      </p>\n      \n      ")
        if parts.logout_url:
            out.append(f'\n      <form method="post" action="{parts.logout_url}">\n        ')
            out.append(_csrf_node.render(context))
            out.append(parts.logout_button)
        out.append("\n    </div>\n    ")
    out.append("\n    \n    ")
    if parts.language_form:
        out.append(parts.language_form)
        out.append(_csrf_node.render(context))
        request = context.get("request")
        path = request.get_full_path() if request is not None else ""
        out.append(f'\n      <input type="hidden" name="next" value="{_value(path, autoescape)}">\n      ')
        out.append(parts.language_buttons)
        out.append("\n    </form>\n    ")
    out.append("\n  </div>\n</header>\n")
    return mark_safe("".join(out))  # noqa: S308 - each part escaped


@register.simple_tag(takes_context=True)
def site_footer(context: Context) -> SafeString:
    """`<footer>` with the keyboard help and the request id."""
    autoescape = context.autoescape
    parts = _static_parts(autoescape)
    request = context.get("request")
    rid = getattr(request, "request_id", None) if request is not None else None
    if not rid:
        rid = context.get("request_id")
    line = ""
    if rid:
        line = f'<p>{parts.request_id_label}: <span class="request-id">{_value(rid, autoescape)}</span></p>'
    return mark_safe(parts.footer_open + line + "\n  </div>\n</footer>")  # noqa: S308 - escaped parts
