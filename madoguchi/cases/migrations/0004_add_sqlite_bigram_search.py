"""An FTS5 bigram index for Japanese substring search, on SQLite only.

PostgreSQL has its pg_trgm index (0002) and is left alone. On SQLite this creates the
`cases_case_search` table, the triggers that keep it equal to `Case.search_text`, and fills it
from the existing cases; see madoguchi/cases/sqlite_search.py.
"""

from django.db import migrations

from madoguchi.cases import sqlite_search


def install(apps, schema_editor):
    sqlite_search.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    sqlite_search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_index_the_ward_queue")]

    operations = [migrations.RunPython(install, uninstall)]
