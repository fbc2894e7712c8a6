"""The counting triggers key a callback on its own due day (`Case.callback_due_on`), no longer
on the day of the ward's answer or the last change: reinstall them and recount."""

from typing import Any

from django.db import migrations


def reinstall_triggers(apps: Any, schema_editor: Any) -> None:
    # Installed (with today's `counting`) by 0003_stripe_the_counts, once the table has the
    # columns today's triggers write.
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_add_case_counts"),
        ("cases", "0005_add_callbacks_links_and_merge"),
    ]

    operations = [
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
