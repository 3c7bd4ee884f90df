"""The process's heap, given back to the system where glibc keeps it."""

from __future__ import annotations

import ctypes
import sys


def give_back_free_memory() -> None:
    """Return the heap's free pages to the system (glibc's malloc_trim). After a bulk load
    the heap holds the freed temporaries of many chunks between long-lived objects, which
    glibc does not give back by itself: at 100,000 posts about 10 MB, which the sentence
    model, loaded later, would add to the peak."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim.argtypes = (ctypes.c_size_t,)
    trim(0)
