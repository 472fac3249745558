"""Predicates for the config checks: `(field, test, requirement)` triples, where
`test(value)` is True for a good value and `requirement` completes "<field> must ..."."""

import math


def number(value):
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)




def integer(value):
    return not isinstance(value, bool) and isinstance(value, int)


def positive(value):
    return number(value) and value > 0


def non_negative(value):
    return number(value) and value >= 0


def positive_int(value):
    return integer(value) and value > 0


def non_negative_int(value):
    return integer(value) and value >= 0


def share(value):
    return number(value) and 0 <= value <= 1


def boolean(value):
    return isinstance(value, bool)


def one_of(*choices):
    return lambda value: value in choices


def positive_ints(value):
    return (isinstance(value, (tuple, list)) and len(value) > 0
            and all(positive_int(v) for v in value))


NUMBER = (number, "be a finite number")
POSITIVE = (positive, "be positive")
NON_NEGATIVE = (non_negative, "be >= 0")
POSITIVE_INT = (positive_int, "be a positive integer")
NON_NEGATIVE_INT = (non_negative_int, "be an integer >= 0")
SHARE = (share, "be in [0, 1]")
BOOLEAN = (boolean, "be True or False")
POSITIVE_INTS = (positive_ints, "be a non-empty list of positive integers")


def choice(*choices):
    return (one_of(*choices), f"be one of {choices}")
