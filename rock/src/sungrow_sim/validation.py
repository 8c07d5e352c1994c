"""Validation errors as words: one `name: problem` per error, for CLI, config and API."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydantic import ValidationError

Namer = Callable[[list[str], str], tuple[str, str]]


def _dotted(loc: list[str], message: str) -> tuple[str, str]:
    return ".".join(loc), message


def problems(error: ValidationError, name: Namer = _dotted) -> Iterator[str]:
    """`name: problem` for each error; `name` turns a location into the name users know."""
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        message = item["msg"].removeprefix("Value error, ")
        where, message = name(loc, message)
        yield f"{where}: {message}" if where else message


def one_line(error: ValidationError) -> str:
    """Every problem on one line, `; `-separated (API answers)."""
    return "; ".join(problems(error))
