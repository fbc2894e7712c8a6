from django.urls import path

from madoguchi.cases import retention_views, views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.new, name="new"),
    path("new/<slug:code>/", views.new, name="new_for"),
    path("queue/<slug:status>/", views.case_queue, name="queue"),
    path("notifications/", views.notifications, name="notifications"),
    path("households/<uuid:household_id>/cases/", views.household_cases, name="household_cases"),
    path("answers/", views.standard_answer_list, name="standard_answers"),
    path("answers/<slug:code>/search/", views.answer_search, name="answer_search"),
    path("answers/<slug:code>/new/", views.standard_answer_edit, name="standard_answer_new"),
    path("answers/<slug:code>/<uuid:key>/", views.standard_answer_edit, name="standard_answer_edit"),
    path("programs/<slug:code>/correction/", views.correction_window, name="correction_window"),
    path(
        "programs/<slug:code>/callback-retention/",
        retention_views.callback_retention,
        name="callback_retention",
    ),
    path("categories/", views.category_index, name="category_index"),
    path("categories/<slug:code>/", views.categories, name="categories"),
    path("categories/<slug:code>/<int:pk>/", views.category_edit, name="category_edit"),
    path("categories/<slug:code>/<int:pk>/move/", views.category_move, name="category_move"),
    path("categories/<slug:code>/<int:pk>/active/", views.category_active, name="category_active"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/edit/", views.edit, name="edit"),
    path("<uuid:public_id>/note/", views.note, name="note"),
    path("<uuid:public_id>/entries/<int:entry_id>/correct/", views.correct, name="correct"),
    path("<uuid:public_id>/transition/", views.transition, name="transition"),
    path("<uuid:public_id>/escalate/", views.escalate, name="escalate"),
    path("<uuid:public_id>/answer/", views.answer, name="answer"),
    path("<uuid:public_id>/assign/", views.assign, name="assign"),
]
