"""Inquiry cases (問い合わせ): what a caller asked, what was answered, and what the ward said.

A case's history is rows, never overwritten text: every note, answer, escalation and status
change is a `TimelineEntry`, and a correction is a new entry pointing at the one it corrects.
`search_text` is a derived search key (NFKC, lower case) of the inquiry, the response and the
timeline, kept by the services; PostgreSQL indexes it with pg_trgm (migration 0002).
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.programs.models import Program
from madoguchi.registry.models import Guardian, Household


class Channel(models.TextChoices):
    PHONE = "phone", _("電話")
    FORM = "form", _("問い合わせフォーム")
    EMAIL = "email", _("メール")
    COUNTER = "counter", _("窓口")


class Status(models.TextChoices):
    NEW = "new", _("新規")
    IN_PROGRESS = "in_progress", _("対応中")
    ESCALATED = "escalated", _("区確認中")
    WARD_ANSWERED = "ward_answered", _("区回答済")
    CALLBACK = "callback", _("折り返し待ち")
    CLOSED = "closed", _("完了")


class Verification(models.TextChoices):
    VERIFIED = "verified", _("本人確認済")
    PARTIAL = "partial", _("一部確認")
    NOT_VERIFIED = "not_verified", _("未確認")


# The items a caller's identity is checked against (Program.verification_rule names them).
VERIFICATION_ITEM_LABELS = {
    "name": _("氏名"),
    "dob": _("生年月日"),
    "address": _("住所"),
    "phone": _("電話番号"),
    "email": _("メールアドレス"),
}


class Priority(models.TextChoices):
    NORMAL = "normal", _("通常")
    HIGH = "high", _("高")
    URGENT = "urgent", _("緊急")


class CallbackOutcome(models.TextChoices):
    REACHED = "reached", _("通話済")
    NO_ANSWER = "no_answer", _("不在")
    VOICEMAIL = "voicemail", _("留守電")
    WRONG_NUMBER = "wrong_number", _("番号違い")


class CallerRelation(models.TextChoices):
    GUARDIAN = "guardian", _("保護者本人")
    FAMILY = "family", _("家族・代理人")
    OTHER = "other", _("その他")
    UNKNOWN = "unknown", _("不明")


DEFAULT_CATEGORIES: tuple[str, ...] = (
    "対象要件",
    "申請方法",
    "商品・カタログ",
    "配送・到着",
    "不具合・返品",
    "住所・氏名の変更",
    "書類が届かない",
    "その他",
)


class Category(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="case_categories")
    name = models.CharField(_("分類"), max_length=100)
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)
    is_active = models.BooleanField(_("有効"), default=True)

    class Meta:
        verbose_name = _("問い合わせ分類")
        verbose_name_plural = _("問い合わせ分類")
        ordering = ["program", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="case_category_unique_per_program"),
        ]

    def __str__(self) -> str:
        return self.name


class ReceiptCounter(models.Model):
    """The program's last receipt number on SQLite; on PostgreSQL, where each program has its
    own sequence, where that sequence starts (see `madoguchi.cases.receipts`)."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="receipt_counter")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.program_id}: {self.last_number}"


class Case(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="cases")
    receipt_number = models.CharField(_("受付番号"), max_length=20)
    channel = models.CharField(_("受付方法"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("受付日時"))
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="cases", null=True, blank=True
    )
    caller_person = models.ForeignKey(
        Guardian,
        on_delete=models.PROTECT,
        related_name="cases",
        null=True,
        blank=True,
        verbose_name=_("架電者（保護者）"),
    )
    caller_relation = models.CharField(
        _("架電者の続柄"), max_length=10, choices=CallerRelation.choices, default=CallerRelation.UNKNOWN
    )
    # What the caller gave when not identified (as written, never normalised).
    caller_name = models.CharField(_("架電者氏名"), max_length=100, blank=True)
    caller_kana = models.CharField(_("架電者氏名カナ"), max_length=100, blank=True)
    child_name = models.CharField(_("児童氏名"), max_length=100, blank=True)
    child_dob = models.DateField(_("児童生年月日"), null=True, blank=True)
    contact_phone = models.CharField(_("連絡先電話番号"), max_length=20, blank=True)
    contact_email = models.EmailField(_("連絡先メールアドレス"), max_length=254, blank=True)
    verification = models.CharField(
        _("本人確認"), max_length=15, choices=Verification.choices, default=Verification.NOT_VERIFIED
    )
    verified_items = models.JSONField(_("確認した項目"), default=list, blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="cases",
        null=True,
        blank=True,
        verbose_name=_("分類"),
    )
    inquiry = models.TextField(_("問い合わせ内容"), max_length=10000)
    response = models.TextField(_("対応内容"), max_length=10000, blank=True)
    status = models.CharField(_("状態"), max_length=15, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(_("優先度"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
        null=True,
        blank=True,
        verbose_name=_("担当者"),
    )
    # Optimistic locking: every change is `UPDATE ... WHERE version = v` and bumps it.
    version = models.PositiveIntegerField(default=1)
    escalated_at = models.DateTimeField(_("区確認依頼日時"), null=True, blank=True)
    # The last business day for the ward's answer, fixed when the case is escalated.
    ward_due_on = models.DateField(_("区回答期限"), null=True, blank=True)
    ward_answered_at = models.DateTimeField(_("区回答日時"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # The callback the caller asked for ("平日14時以降"): a day and an optional time window.
    # Its own deadline, not the ward's: the callback queue is ordered and flagged by it.
    callback_due_on = models.DateField(_("折り返し予定日"), null=True, blank=True)
    callback_from = models.TimeField(_("折り返し時間帯（から）"), null=True, blank=True)
    callback_until = models.TimeField(_("折り返し時間帯（まで）"), null=True, blank=True)
    # A duplicate web inquiry merged into another case: closed, pointing at the one kept.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="merged_cases",
        null=True,
        blank=True,
        verbose_name=_("統合先"),
    )
    # Derived search key (NFKC + lower case) of inquiry, response and timeline bodies.
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("問い合わせ")
        verbose_name_plural = _("問い合わせ")
        indexes = [
            # the case list: newest first, keyset-paginated on (received_at, id)
            models.Index(fields=["program", "-received_at", "-id"], name="case_program_received"),
            # the list per status (and the badge counts)
            models.Index(fields=["program", "status", "-received_at", "-id"], name="case_program_status"),
            # the ward's queue, oldest question first; overdue rows are found by walking the
            # status indexes with ward_due_on as a filter (the escalated queue stays short)
            models.Index(fields=["program", "status", "escalated_at", "id"], name="case_program_escalated"),
            # a caller who calls again: the household's earlier cases
            models.Index(fields=["household", "-received_at"], name="case_household_received"),
            # "my cases"
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            # the callback queue: soonest callback first
            models.Index(
                fields=["program", "status", "callback_due_on", "id"], name="case_program_callback_due"
            ),
            # the web inquiry queue and its badge: 未対応のフォーム受付, oldest first
            models.Index(fields=["program", "channel", "status", "received_at"], name="case_program_channel"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "receipt_number"], name="case_receipt_number_unique_per_program"
            ),
            models.CheckConstraint(
                condition=models.Q(callback_from__isnull=True)
                | models.Q(callback_until__isnull=True)
                | models.Q(callback_from__lt=models.F("callback_until")),
                name="case_callback_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def is_web(self) -> bool:
        """A web inquiry: the person is the 問い合わせ者, not a caller."""
        return self.channel == Channel.FORM

    @property
    def verified_item_labels(self) -> list[str]:
        """The confirmed items in Japanese (never the internal codes)."""
        from madoguchi.cases.verification import item_label

        return [item_label(code) for code in self.verified_items or []]

    def callback_due_at(self) -> datetime.datetime | None:
        """When the callback is late: the end of its window, else the end of its day."""
        if self.callback_due_on is None:
            return None
        return callback_deadline(self.callback_due_on, self.callback_until)


def callback_deadline(day: datetime.date, until: datetime.time | None) -> datetime.datetime:
    """The callback queue's overdue rule: past the window's end (or the day's end)."""
    if until is None:
        return timezone.make_aware(
            datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
        )
    return timezone.make_aware(datetime.datetime.combine(day, until))


class TimelineEntry(models.Model):
    """One response record (対応記録). Never updated: a correction is a new row."""

    class Kind(models.TextChoices):
        CREATED = "created", _("受付")
        CALL_NOTE = "call_note", _("通話記録")
        RESPONSE = "response", _("対応内容")
        ESCALATION = "escalation", _("区への確認依頼")
        WARD_ANSWER = "ward_answer", _("区の回答")
        STATUS_CHANGE = "status_change", _("状態変更")
        CORRECTION = "correction", _("訂正")
        ASSIGNMENT = "assignment", _("担当変更")
        IDENTIFIED = "identified", _("世帯の特定")
        UNLINKED = "unlinked", _("世帯の紐付け解除")
        VERIFICATION = "verification", _("本人確認の訂正")
        CALLBACK_DUE = "callback_due", _("折り返し予定")
        CALLBACK_CALL = "callback_call", _("折り返し")
        LINKED = "linked", _("関連付け")
        MERGED = "merged", _("統合")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    body = models.TextField(blank=True, max_length=10000)
    from_status = models.CharField(max_length=15, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=15, choices=Status.choices, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Snapshots: the entry must still say who wrote it if the user or organisation changes.
    author_name = models.CharField(max_length=150, blank=True)
    author_organisation = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="corrections", null=True, blank=True
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # the case page: a case's entries in order
            models.Index(fields=["case", "created_at", "id"], name="timeline_case_created"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.pk}"

    @property
    def css_kind(self) -> str:
        """The timeline style (docs/design.md): note, response, escalation, answer, status."""
        return {
            self.Kind.WARD_ANSWER: "answer",
            self.Kind.ESCALATION: "escalation",
            self.Kind.RESPONSE: "response",
            self.Kind.STATUS_CHANGE: "status",
            self.Kind.ASSIGNMENT: "status",
            self.Kind.CREATED: "status",
            self.Kind.IDENTIFIED: "status",
            self.Kind.UNLINKED: "status",
            self.Kind.VERIFICATION: "status",
            self.Kind.LINKED: "status",
            self.Kind.MERGED: "status",
        }.get(self.Kind(self.kind), "note")


class CallbackAttempt(models.Model):
    """One attempt to call back (history as rows: the count is the number of rows)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="callback_attempts")
    outcome = models.CharField(_("結果"), max_length=15, choices=CallbackOutcome.choices)
    note = models.CharField(_("メモ"), max_length=500, blank=True)
    attempted_at = models.DateTimeField(_("架電日時"), default=timezone.now)
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    attempted_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["attempted_at", "id"]
        indexes = [
            # the case page: a case's attempts in order
            models.Index(fields=["case", "attempted_at"], name="callback_attempt_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"


class CaseLink(models.Model):
    """Two cases marked as the same matter. Written both ways: one row per direction."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="links")
    related = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "related"], name="case_link_unique"),
            models.CheckConstraint(condition=~models.Q(case=models.F("related")), name="case_link_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ~ {self.related_id}"


class StandardAnswer(models.Model):
    """A ward-approved answer (回答例). Each edit is a new row with the same `key`."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="standard_answers")
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="standard_answers", null=True, blank=True
    )
    key = models.UUIDField(default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    is_active = models.BooleanField(_("公開"), default=True)
    title = models.CharField(_("件名"), max_length=200)
    body = models.TextField(_("回答文"), max_length=5000)
    search_text = models.TextField(blank=True, editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "category", "title", "version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="standard_answer_version_unique"),
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(is_current=True), name="standard_answer_one_current"
            ),
        ]
        indexes = [
            # the operator's search: current answers of a program
            models.Index(fields=["program", "is_current", "category"], name="standard_answer_current"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class Notification(models.Model):
    """What waits for a user, shown in the app; the e-mail copy holds only the receipt number."""

    class Kind(models.TextChoices):
        ESCALATED = "escalated", _("区確認依頼")
        ANSWERED = "answered", _("区回答")
        ASSIGNED = "assigned", _("担当割当")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_notifications"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the unread badge and the user's list
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.case_id} -> {self.user_id}"


class SavedSearch(models.Model):
    """A search's parameters kept server-side, so free text never travels in a URL."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.public_id)
