"""Trigram (pg_trgm) GIN indexes for Japanese substring search, on PostgreSQL only.

Japanese has no word boundaries, so the search is by substring; pg_trgm's GIN index answers
`ILIKE '%...%'` without scanning the table. On SQLite (the demo) these operations do nothing
and the selector falls back to a scan, which is fine at demo size.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("case", GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="case_search_trgm")),
    (
        "standardanswer",
        GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="standard_answer_search_trgm"),
    ),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES:
        schema_editor.add_index(apps.get_model("cases", model_name), index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES:
        schema_editor.remove_index(apps.get_model("cases", model_name), index)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_add_cases")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
