"""The recording-period rule (R-02, T-SEC-28), in one place.

Every service that adds or changes a personal item calls `require_recording_open()` before it
writes: the target-list import, identification's confirm, the public form, cases, notes, the
commands and the API. A program may be recorded only between its recording start and end, or
while a ward manager's correction window is open (`Program.is_recording_open`).
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from madoguchi.programs.models import Program


class RecordingClosed(Exception):
    """Refused: the program is outside its recording period. The message is Japanese, shown as is."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or _("記録期間外のため、個人情報の登録・変更はできません。")
        super().__init__(self.message)


def require_recording_open(program: Program, *, at: datetime.datetime | None = None) -> None:
    """Raise RecordingClosed unless personal items of `program` may be written now (or at `at`)."""
    if not program.is_recording_open(at):
        raise RecordingClosed()
