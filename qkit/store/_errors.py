"""The store's one error type: a one-line message naming the store file and the problem."""

from __future__ import annotations


class StoreError(ValueError):
    """The results store cannot be used: corrupt, foreign, newer, unreadable, busy, full...

    A ``ValueError``, so the command line reports it on one line with a non-zero exit.
    """


class StoreNotFound(StoreError):
    """There is no store at the path yet (nothing has been saved there)."""
