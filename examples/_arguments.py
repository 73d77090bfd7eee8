"""Checked argparse types for the examples' options (no plotting imports: worked_example uses them too).

A bad value stops the example with argparse's usage message, exit status 2 and
"argument --NAME: must be <requirement>, got <value>", before any work is done.
"""

import argparse
import math
import os


def checked(kind, test, requirement):
    """An argparse type: kind(text), refused unless test(value) holds. argparse then stops with
    its usage message, exit status 2 and "argument --NAME: must be <requirement>, got ..."."""

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    convert.__name__ = requirement  # what argparse would call the type
    return convert


def int_at_least(low):
    return checked(int, lambda n: n >= low, f"an int >= {low}")


def int_from_to(low, high):
    return checked(int, lambda n: low <= n <= high, f"an int from {low} to {high}")


def number_in(low, high):
    """A float in the half-open interval [low, high)."""
    return checked(float, lambda x: low <= x < high, f"a number in [{low}, {high})")


positive_int = int_at_least(1)
nonnegative_int = int_at_least(0)
positive_float = checked(float, lambda x: 0 < x < math.inf, "a positive number")
nonnegative_float = checked(float, lambda x: 0 <= x < math.inf, "a nonnegative number")
finite_float = checked(float, math.isfinite, "a finite number")
probability = number_in(0, 1)


def comma_separated(item):
    """An argparse type: a list of comma-separated values ("5,10,20"), each converted and checked by
    `item` (one of the types above). The message names the whole list and what each value must be."""
    requirement = f"comma-separated values, each {item.__name__}"

    def convert(text):
        try:
            return [item(part) for part in text.split(",")]
        except (ValueError, argparse.ArgumentTypeError):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}") from None

    convert.__name__ = requirement
    return convert


def directory(text):
    """An existing directory."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"no such directory: {text}")
    return text
