"""Retrying LanceDB commits that lost a race with another writer ("Retryable commit conflict").

Lance commits optimistically: when two writers commit at once, the loser's ``add``, ``delete``,
``add_columns``, ``create_index`` or ``optimize`` raises a ``RuntimeError`` (or ``OSError``) saying the
commit conflicted and may be retried. `retry_conflicts` re-runs the operation with exponential backoff and
jitter; any other error, and a conflict that outlasts the attempts, propagates as it is.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

ATTEMPTS = 12
BASE_DELAY_S = 0.02
MAX_DELAY_S = 2.0


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a Lance commit conflict that the same operation may retry."""
    text = str(exc).lower()
    return isinstance(exc, (RuntimeError, OSError, ValueError)) and ("retryable" in text or "commit conflict" in text)


def retry_conflicts(operation: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """``operation()``, re-run after a commit conflict (backoff 20 ms doubling to 2 s, with jitter)."""
    for attempt in range(attempts - 1):
        try:
            return operation()
        except (RuntimeError, OSError, ValueError) as exc:
            if not is_conflict(exc):
                raise
            delay = min(MAX_DELAY_S, BASE_DELAY_S * 2**attempt)
            time.sleep(delay * (0.5 + random.random()))
    return operation()
