from __future__ import annotations

from madoguchi.lib.lazy import LazyList


class LazyListTests:
    def test_it_is_made_on_first_use_and_only_once(self):
        made = []

        def make():
            made.append(1)
            return ["a", "b"]

        items = LazyList(make)
        assert made == []
        assert bool(items) and len(items) == 2 and list(items) == ["a", "b"] and items[1] == "b"
        assert items == ["a", "b"]
        assert made == [1]

    def test_an_empty_list_is_false(self):
        assert not LazyList(list)

    def test_it_is_not_callable_so_a_template_reads_it_instead_of_calling_it(self):
        assert not callable(LazyList(list))
