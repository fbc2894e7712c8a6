from django.urls import path

from madoguchi.cases import retention_views
from madoguchi.cases.views import (
    answers,
    call_screen,
    case_actions,
    case_page,
    categories,
    lists,
    notifications,
)

app_name = "cases"

urlpatterns = [
    path("", lists.case_list, name="list"),
    path("new/", call_screen.new, name="new"),
    path("new/<slug:code>/", call_screen.new, name="new_for"),
    path("queue/web/", lists.web_queue, name="web_queue"),
    path("queue/<slug:status>/", lists.case_queue, name="queue"),
    path("notifications/", notifications.notifications, name="notifications"),
    path("households/<uuid:household_id>/cases/", call_screen.household_cases, name="household_cases"),
    path("answers/", answers.standard_answer_list, name="standard_answers"),
    path("answers/<slug:code>/search/", answers.answer_search, name="answer_search"),
    path("answers/<slug:code>/new/", answers.standard_answer_edit, name="standard_answer_new"),
    path("answers/<slug:code>/<uuid:key>/", answers.standard_answer_edit, name="standard_answer_edit"),
    path("programs/<slug:code>/correction/", categories.correction_window, name="correction_window"),
    path(
        "programs/<slug:code>/callback-retention/",
        retention_views.callback_retention,
        name="callback_retention",
    ),
    path("categories/", categories.category_index, name="category_index"),
    path("categories/<slug:code>/", categories.categories, name="categories"),
    path("categories/<slug:code>/<int:pk>/", categories.category_edit, name="category_edit"),
    path("categories/<slug:code>/<int:pk>/move/", categories.category_move, name="category_move"),
    path("categories/<slug:code>/<int:pk>/active/", categories.category_active, name="category_active"),
    path("<uuid:public_id>/", case_page.detail, name="detail"),
    path("<uuid:public_id>/edit/", case_page.edit, name="edit"),
    path("<uuid:public_id>/note/", case_page.note, name="note"),
    path("<uuid:public_id>/entries/<int:entry_id>/correct/", case_page.correct, name="correct"),
    path("<uuid:public_id>/transition/", case_page.transition, name="transition"),
    path("<uuid:public_id>/escalate/", case_page.escalate, name="escalate"),
    path("<uuid:public_id>/answer/", case_page.answer, name="answer"),
    path("<uuid:public_id>/assign/", case_page.assign, name="assign"),
    path("<uuid:public_id>/identify/", case_actions.identify, name="identify"),
    path("<uuid:public_id>/unlink/", case_actions.unlink, name="unlink"),
    path("<uuid:public_id>/verification/", case_actions.verify, name="verify"),
    path("<uuid:public_id>/callback/", case_actions.schedule_callback, name="schedule_callback"),
    path("<uuid:public_id>/callback/attempt/", case_actions.callback_attempt, name="callback_attempt"),
    path("<uuid:public_id>/link/<uuid:other_id>/", case_actions.link, name="link"),
    path("<uuid:public_id>/merge/", case_actions.merge, name="merge"),
]
