"""Errors of advzoo, each naming what was expected and what was given."""
from __future__ import annotations

from typing import Iterable

# the command's module, which needs only the standard library: one closest-names hint for both
from advzoo_cli import closest_names_hint


class AdvzooError(ValueError):
    """Base class of advzoo's own errors (a ValueError, so generic handlers still catch it)."""


class UnknownNameError(AdvzooError, KeyError):
    """An unknown family, preset, objective or option value; the message lists the closest names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0]) if self.args else ""


class WeightsError(AdvzooError):
    """A weights file that is missing, corrupt, or does not match its metadata."""


def unknown_name(kind: str, name: object, known: Iterable[str]) -> UnknownNameError:
    """Build the error for an unknown `name` of `kind`, suggesting the closest known names."""
    known = sorted(known)
    return UnknownNameError(
        f"Unknown {kind} {name!r}.{closest_names_hint(name, known)} Expected one of: "
        f"{', '.join(known) or '(none registered)'}.")


def check_choice(option: str, value: object, choices: Iterable[str]) -> None:
    """Raise `unknown_name` for an option whose value is not among `choices`."""
    choices = tuple(choices)
    if value not in choices:
        raise unknown_name(option, value, choices)


def check_shape(value: object, what: str) -> tuple[int, ...]:
    """`value` as a tuple of positive ints (a per-sample shape such as image_shape), or an error
    naming the option and what was given (a string, None, a float, a ragged list...)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise AdvzooError(f"{what} must be a tuple of positive ints such as (32, 32, 1), got "
                          f"{value!r}")
    shape = tuple(value)
    if not shape or any(isinstance(s, bool) or not float(s).is_integer() or int(s) < 1
                        if isinstance(s, (int, float)) else True for s in shape):
        raise AdvzooError(f"{what} must be a tuple of positive ints such as (32, 32, 1), got "
                          f"{value!r}")
    return tuple(int(s) for s in shape)
