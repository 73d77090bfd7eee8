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
    convert.__name__ = requirement          # what argparse would call the type
    return convert


def int_at_least(low):
    return checked(int, lambda n: n >= low, f"an int >= {low}")


positive_int = int_at_least(1)
nonnegative_int = int_at_least(0)
positive_float = checked(float, lambda x: 0 < x < math.inf, "a positive number")
nonnegative_float = checked(float, lambda x: 0 <= x < math.inf, "a nonnegative number")
finite_float = checked(float, math.isfinite, "a finite number")
probability = checked(float, lambda p: 0 <= p < 1, "a number in [0, 1)")


def directory(text):
    """An existing directory."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"no such directory: {text}")
    return text
