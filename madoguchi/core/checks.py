"""Start-up checks of the production shape (issue #14).

`static_collected`: in production the static files are served from `STATIC_ROOT` through
WhiteNoise's manifest; without `madoguchi collectstatic` every page would be a 500 (the
templates cannot name a hashed file). The system check fails instead (`madoguchi check`,
`migrate`, `runserver`), and `madoguchi.wsgi` refuses to start the application server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

MANIFEST_NAME = "staticfiles.json"
STATIC_MESSAGE = (
    "静的ファイルが収集されていません。`madoguchi collectstatic --noinput` を実行してから起動してください"
    " (static files not collected: run `madoguchi collectstatic --noinput`; STATIC_ROOT={root})"
)


def manifest_missing() -> bool:
    backend = settings.STORAGES.get("staticfiles", {}).get("BACKEND", "")
    if "Manifest" not in backend:
        return False
    return not (Path(settings.STATIC_ROOT) / MANIFEST_NAME).is_file()


@register("madoguchi")
def static_collected(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if manifest_missing():
        return [Error(STATIC_MESSAGE.format(root=settings.STATIC_ROOT), id="madoguchi.E001")]
    return []


def require_collected_static() -> None:
    """Called by the WSGI entry point: refuse to serve rather than answer 500 to every page."""
    if manifest_missing():
        raise ImproperlyConfigured(STATIC_MESSAGE.format(root=settings.STATIC_ROOT))
