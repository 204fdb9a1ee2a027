"""The A/A variant of bench/submit_ab.py: both sides the same code, to see what the harness cannot resolve."""

NAMES = {True: "A", False: "A again"}


def setup(app) -> None:
    pass


def toggle(new: bool) -> None:
    pass
