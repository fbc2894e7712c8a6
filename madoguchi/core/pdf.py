"""PDFs from HTML templates through WeasyPrint (返還目録, 消去証明書, 開示, the reports).

The CSS names the font family "Noto Sans CJK JP" (Debian's fonts-noto-cjk), which holds 髙
and 𠮷; WeasyPrint embeds the glyphs used.
"""

from __future__ import annotations

import logging
from typing import Any

from django.template.loader import render_to_string


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    # WeasyPrint and fontTools report every font subset at INFO/WARNING: not our log's business.
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    html = render_to_string(template, context)
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)
