"""Keyset pages: fetch one row more than asked to know whether more follow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_PAGE = 50
MAX_PAGE = 250


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    has_next: bool
    has_previous: bool


def page_size(first: int | None) -> int:
    from domain.errors import InvalidInput

    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}", ["first"])
    return first


def make_page(rows: Sequence[T], limit: int, after_given: bool) -> Page[T]:
    return Page(rows=list(rows[:limit]), has_next=len(rows) > limit, has_previous=after_given)
