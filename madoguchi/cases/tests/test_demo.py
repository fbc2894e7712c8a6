import pytest

from madoguchi.cases.models import Category, StandardAnswer
from madoguchi.demo.services import seed_demo


@pytest.mark.django_db
class DemoSeedTests:
    def test_the_demo_program_gets_categories_and_standard_answers_once(self):
        result = seed_demo()
        seed_demo()
        names = list(Category.objects.filter(program=result.program).values_list("name", flat=True))
        assert names[0] == "対象要件" and len(names) == 8
        answers = StandardAnswer.objects.filter(program=result.program)
        assert answers.count() == 6
        assert all(answer.approved_by.username == "ward" for answer in answers)
