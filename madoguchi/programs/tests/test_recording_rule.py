import datetime

import pytest
from django.utils import timezone

from madoguchi.programs.recording import RecordingClosed, require_recording_open


class RecordingRuleTests:
    def test_it_allows_writes_inside_the_period(self, world):
        require_recording_open(world.program)

    def test_it_refuses_after_the_period_with_a_japanese_message(self, world):
        program = world.program
        program.recording_start = datetime.date(2023, 2, 3)
        program.recording_end = datetime.date(2023, 5, 10)
        with pytest.raises(RecordingClosed) as refused:
            require_recording_open(program)
        assert "記録期間外" in refused.value.message

    def test_a_correction_window_reopens_it(self, world):
        program = world.program
        program.recording_start = datetime.date(2023, 2, 3)
        program.recording_end = datetime.date(2023, 5, 10)
        program.correction_allowed_until = timezone.now() + datetime.timedelta(hours=1)
        require_recording_open(program)
