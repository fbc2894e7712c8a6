"""Counts of cases kept by the database in the same transaction as every case write.

A million cases cannot be counted per page view within the dashboards' budget, so triggers
on `cases_case` (`dashboards.counting`) keep `CaseCount` rows up to date: each case adds 1 to
one row of each kind (ANSWERED only once answered), and a change moves it from its old rows
to its new ones:
- RECEIVED: the day it was received (JST), its channel and category;
- ANSWERED: the day the ward answered it (JST), its channel and category (only if answered);
- STATE: its status, channel and assignee, whether the ward answered it, and the day its
  deadline falls on (the ward's answer for 区確認中, `callback_due_on` for 折り返し待ち);
- HOURLY: the day and the hour (JST) it was received, and its channel (the supervisor's
  chart of today's intake by hour; it read today's cases until the fifteenth session, 110 ms
  with 150,000 cases in a day).
The dashboards sum a few hundred of these rows instead of a million cases. Triggers, not
service code, so that no write path (services, bulk loads, a manual UPDATE) can forget them.
"""

from __future__ import annotations

from django.db import models

from madoguchi.programs.models import Program


class CaseCount(models.Model):
    class Kind(models.TextChoices):
        RECEIVED = "received", "received"
        ANSWERED = "answered", "answered"
        STATE = "state", "state"
        HOURLY = "hourly", "hourly"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # 1970-01-01 when the kind has no day (a state without a deadline).
    day = models.DateField()
    status = models.CharField(max_length=15, blank=True, default="")
    channel = models.CharField(max_length=10)
    # 0 for none (NULL would defeat the unique key the triggers upsert on).
    category_key = models.BigIntegerField(default=0)
    assignee_key = models.BigIntegerField(default=0)
    answered = models.BooleanField(default=False)
    # HOURLY: the hour (JST, 0-23) the case was received; 0 for the other kinds.
    hour = models.SmallIntegerField(default=0, db_default=0)
    # PostgreSQL: the writing connection's stripe of the count, its backend pid (see
    # counting.py); readers sum. 0: the compacted count.
    stripe = models.IntegerField(default=0, db_default=0)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "program",
                    "kind",
                    "day",
                    "status",
                    "channel",
                    "category_key",
                    "assignee_key",
                    "answered",
                    "hour",
                    "stripe",
                ],
                name="dashboards_casecount_key_hourly",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} {self.kind} {self.day} {self.n}"
