"""Django's database sessions, with the session read by one written statement.

Every staff request reads its session; compiling `Session.objects.get(...)` cost more than
running it. The statement is the same lookup (the key, not expired), on the database the
router gives for reading sessions; everything else is Django's `db` store.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        model = self.model
        database = connections[model.objects.db]
        table = database.ops.quote_name(model._meta.db_table)
        now = database.ops.adapt_datetimefield_value(timezone.now())
        with database.cursor() as cursor:
            # The table name only; the key and the time travel as parameters.
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",  # noqa: S608
                [self.session_key, now],
            )
            row = cursor.fetchone()
        if row is None or self.session_key is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
