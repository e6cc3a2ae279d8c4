"""Turning a DomainError raised while reading into a GraphQL error with a code."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from graphql import GraphQLError

from domain.errors import DomainError

A = ParamSpec("A")
R = TypeVar("R")


def coded_errors(fn: Callable[A, Awaitable[R]]) -> Callable[A, Awaitable[R]]:
    @functools.wraps(fn)
    async def wrapper(*args: A.args, **kwargs: A.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except DomainError as error:
            raise GraphQLError(
                error.message,
                extensions={"code": error.code, "field": error.field},
            ) from None

    return wrapper
