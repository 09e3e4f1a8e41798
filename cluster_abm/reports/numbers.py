"""Numbers written for people, and numbers written for spreadsheets.

For people (the HTML report): thousands separators, sensible rounding (about three significant
digits, never more precision than the intervals justify), money in euros with a word for the
scale, shares in per cent and their changes in percentage points, and never scientific notation.
For spreadsheets (CSV): every digit a float holds, written positionally (``0.000012``, never
``1.2e-05``), because spreadsheet programs read some scientific forms as text or dates.
"""

from __future__ import annotations

import math

import numpy as np

MISSING = "–"  # a value that does not exist; the text around it says why
NBSP = "\u00a0"  # keeps "€2.9 million" and "12 %" on one line


def finite(x) -> bool:
    """Whether ``x`` is a real, finite number (not None, NaN or infinite)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _rounded(x: float, sig: int = 3) -> float:
    """``x`` rounded to ``sig`` significant digits, but never below a whole number for |x| >= 100."""
    if x == 0:
        return 0.0
    digits = sig - 1 - math.floor(math.log10(abs(x)))
    return round(x, digits) if digits > 0 or abs(x) >= 10 ** sig else round(x)


def num(x, signed: bool = False, sig: int = 3) -> str:
    """A count or level for people: ``12,300``, ``456``, ``7.8``, ``0.034`` (``+`` if ``signed``)."""
    if not finite(x):
        return MISSING
    x = float(x)
    sign = "+" if signed and x > 0 else ""
    r = _rounded(x, sig)
    ax = abs(r)
    if ax == 0:
        return "0"
    if ax >= 10 ** (sig - 1) or float(r).is_integer() and ax >= 1:
        return f"{sign}{r:,.0f}"
    decimals = max(0, sig - 1 - math.floor(math.log10(ax)))
    text = f"{r:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return sign + text


def money(keur, signed: bool = False) -> str:
    """An amount in k€ for people: ``€12.3 million``, ``€456 thousand``, ``€2.1 billion``, ``€780``."""
    if not finite(keur):
        return MISSING
    eur = float(keur) * 1000.0
    if abs(eur) < 0.5:  # rounding noise of sums in k€
        return "€0"
    sign = "+" if signed and eur > 0 else ("-" if eur < 0 else "")
    a = abs(eur)
    for scale, word in ((1e9, " billion"), (1e6, " million"), (1e3, " thousand")):
        if a >= scale * 0.9995:
            return f"{sign}€{num(a / scale)}{word.replace(' ', NBSP)}"
    return f"{sign}€{num(a)}"


def percent(x, signed: bool = False) -> str:
    """A share (0-1) in per cent: ``12.3 %``."""
    if not finite(x):
        return MISSING
    return f"{num(100 * float(x), signed=signed)}{NBSP}%"


def points(x, signed: bool = True) -> str:
    """A change of a share (0-1) in percentage points: ``+1.2 pp``."""
    if not finite(x):
        return MISSING
    return f"{num(100 * float(x), signed=signed)}{NBSP}pp"


def interval(low, high, fmt=num, **kw) -> str:
    """``low to high`` with the same formatter; a missing bound says so."""
    if not finite(low) or not finite(high):
        if finite(low) and math.isinf(float(high)):
            return f"{fmt(low, **kw)} or more (no upper bound)"
        return MISSING
    return f"{fmt(low, **kw)} to {fmt(high, **kw)}"


def plain(x) -> str:
    """A float for a CSV file: every significant digit, positional, never scientific; empty for
    NaN (what spreadsheet programs read as an empty cell)."""
    if x is None:
        return ""
    if isinstance(x, bool | np.bool_):
        return "true" if x else "false"
    if isinstance(x, int | np.integer):
        return str(int(x))
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return np.format_float_positional(v, unique=True, trim="-")
