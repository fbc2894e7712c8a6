"""PDFs from HTML templates through WeasyPrint (返還目録, 消去証明書, 開示, the reports).

The CSS names the font family "Noto Sans CJK JP" (Debian's fonts-noto-cjk), which holds 髙
and 𠮷; WeasyPrint embeds the glyphs used.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.template.loader import render_to_string

# One font configuration per thread, kept between PDFs: a new one reloads the fonts' metrics
# for every document (about 25 ms of a report's PDF). Per thread because pango's font map is
# not meant to be shared by concurrent renders (gunicorn runs threads).
_fonts = threading.local()


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made
    from weasyprint.text.fonts import FontConfiguration

    # WeasyPrint and fontTools report every font subset at INFO/WARNING: not our log's business.
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    html = render_to_string(template, context)
    if getattr(_fonts, "config", None) is None:
        _fonts.config = FontConfiguration()
    pdf = HTML(string=html).write_pdf(font_config=_fonts.config)
    assert pdf is not None
    return bytes(pdf)
