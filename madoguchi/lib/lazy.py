"""A list made on its first use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

T = TypeVar("T")


class LazyList(Generic[T]):
    """The list `make()` returns, made when a template (or anything else) first looks at it,
    then kept. A context processor runs for every page rendered with the request, the htmx
    fragments included, whose templates never show what it offers (the navigation and its
    badges, the erasure banner): their queries are now made only by the pages that show them.

    Not callable on purpose: a template would call it on every lookup instead of reading it."""

    __slots__ = ("_items", "_make")

    def __init__(self, make: Callable[[], list[T]]) -> None:
        self._make: Callable[[], list[T]] | None = make
        self._items: list[T] = []

    def _list(self) -> list[T]:
        if self._make is not None:
            self._items, self._make = self._make(), None
        return self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def __bool__(self) -> bool:
        return bool(self._list())

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._list()[index]

    def __eq__(self, other: object) -> bool:
        return self._list() == (list(other) if isinstance(other, LazyList) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyList({self._list()!r})" if self._make is None else "LazyList(<not made yet>)"
