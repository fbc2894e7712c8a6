"""Run by test_killed.py in a child process on a file database: `setup`, `kill-in-step`,
`kill-after-step`, `check`. Not a test module (no test_ prefix)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from madoguchi.lifecycle import services

    action, folder = sys.argv[1], Path(sys.argv[2])
    if action == "setup":
        from madoguchi.conftest import build_world
        from madoguchi.lifecycle.tests.conftest import end_recording, live_program

        world = build_world()
        life = live_program(world, folder)
        end_recording(life.program)
        services.request_purge(
            program=life.program, actor=world.ward_manager, reason="終了", waive_return=True
        )
        services.approve_purge(program=life.program, actor=world.auditor)
        return
    from madoguchi.accounts.models import User
    from madoguchi.programs.models import Program

    program = Program.objects.get(code="test-program")
    manager = User.objects.get(username="manager")
    if action == "kill-in-step":
        import dataclasses

        from madoguchi.cases.models import Case

        def die_half_way(target: Program) -> int:
            Case.objects.filter(program=target).update(inquiry="")
            os.kill(os.getpid(), signal.SIGKILL)
            return 0

        services.STEPS = tuple(
            dataclasses.replace(step, run=die_half_way) if step.name == "cases" else step
            for step in services.STEPS
        )
        services.purge(program=program, actor=manager)
    elif action == "kill-after-step":

        def die(step: object) -> None:
            if getattr(step, "name", "") == "guardians":
                os.kill(os.getpid(), signal.SIGKILL)

        services.after_step = die
        services.purge(program=program, actor=manager)


if __name__ == "__main__":
    main()
