"""Human-written dates paired with ISO 8601: the data of the sequence-to-sequence chapter.

The source is a date as a person might write it, the target the same date as ``YYYY-MM-DD``:
``("Tuesday, March 3, 1987", "1987-03-03")``. Each style in ``STYLES`` is named after its
pattern, for example ``"d Month yyyy"`` (``3 March 1987``), ``"dd/mm/yy"`` (``03/03/87``) or
``"dth of month yyyy"`` (``3rd of march 1987``). In the names ``d``/``dd`` is the day without
/ with a leading zero, ``dth`` the day as an ordinal, ``m``/``mm`` the month's number,
``month``/``mon`` its name/three-letter abbreviation, ``weekday``/``wkd`` the day of the week
(the name's case gives the canonical case), ``yyyy``/``yy`` the year with four/two digits.
ISO itself is not a source style: the model would only have to copy.

Two rules remove the ambiguity of numeric dates:

- the day comes first: ``03/04/21`` is 3 April 2021, never March 4;
- a two-digit year means 1950-2049 (``87`` is 1987, ``21`` is 2021), so the two-digit-year
  styles are only used for years 1950-2049. All years lie in 1900-2099.

Given a ``numpy.random.Generator``, ``format_date`` varies the letter case (lower, Title,
UPPER) and the spacing (a doubled space, no space after a comma); without one it gives the
canonical rendering.

The train / valid / test splits are made by *date*, not by example: a fixed hash of the date
sends about 80% / 10% / 10% of the calendar days, spread over the whole range, to each split,
whatever the seed of the examples. No date of the test split is ever seen in training.
"""

import datetime
import functools
import hashlib
import re
import string

import numpy as np

__all__ = ["STYLES", "SPLITS", "ISO_LENGTH", "SOURCE_CHARS", "TARGET_CHARS", "format_date", "to_iso", "split_of", "date_pairs"]

ISO_LENGTH = 10
SPLITS = ("train", "valid", "test")
YEARS = (1900, 2099)
TWO_DIGIT_YEARS = (1950, 2049)

_TEMPLATES = {                                    # style name -> its canonical template
    "d Month yyyy": "{d} {Month} {yyyy}",                         # 3 March 1987
    "dd/mm/yy": "{dd}/{mm}/{yy}",                                 # 03/03/87
    "Month d, yyyy": "{Month} {d}, {yyyy}",                       # March 3, 1987
    "Weekday, Month d, yyyy": "{Weekday}, {Month} {d}, {yyyy}",   # Tuesday, March 3, 1987
    "dth of month yyyy": "{dth} of {month} {yyyy}",               # 3rd of march 1987
    "dd.mm.yyyy": "{dd}.{mm}.{yyyy}",                             # 03.03.1987
    "d mon yy": "{d} {mon} {yy}",                                 # 3 mar 87
    "MONTH d yyyy": "{MONTH} {d} {yyyy}",                         # MARCH 3 1987
    "d/m/yyyy": "{d}/{m}/{yyyy}",                                 # 3/3/1987
    "dd-mm-yyyy": "{dd}-{mm}-{yyyy}",                             # 03-03-1987
    "Mon d, yyyy": "{Mon} {d}, {yyyy}",                           # Mar 3, 1987
    "the dth of Month, yyyy": "the {dth} of {Month}, {yyyy}",     # the 3rd of March, 1987
    "Wkd d Mon yyyy": "{Wkd} {d} {Mon} {yyyy}",                   # Tue 3 Mar 1987
    "month dth yyyy": "{month} {dth} {yyyy}",                     # march 3rd 1987
    "d-Mon-yyyy": "{d}-{Mon}-{yyyy}",                             # 3-Mar-1987
    "dd/mm/yyyy": "{dd}/{mm}/{yyyy}",                             # 03/03/1987
    "Weekday dth Month yyyy": "{Weekday} {dth} {Month} {yyyy}",   # Tuesday 3rd March 1987
    "d.m.yy": "{d}.{m}.{yy}",                                     # 3.3.87
}
STYLES = tuple(_TEMPLATES)
_TWO_DIGIT = frozenset(s for s, t in _TEMPLATES.items() if "{yy}" in t)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CASES = (str.lower, lambda w: w if w.lower() == "of" else w.capitalize(), str.upper)
#: every character a source can hold: the templates' own text (separators, "the", "of"), the
#: names and the ordinals' suffixes in every case, the digits
SOURCE_CHARS = "".join(sorted(
    set(re.sub(r"\{\w+\}", "", "".join(_TEMPLATES.values())))
    | {c for w in _MONTHS + _WEEKDAYS + ("st nd rd th of the",) for case in _CASES for c in case(w)}
    | set(string.digits)))
#: every character a target can hold
TARGET_CHARS = string.digits + "-"


def _check_year(year):
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"year must be in {YEARS[0]}..{YEARS[1]}; got {year}")


def _ordinal(n):
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_date(date, style, rng=None):
    """Render ``date`` in ``style``, with random case and spacing when ``rng`` is given.

    Parameters
    ----------
    date : datetime.date
        Its year must be in 1900-2099 (1950-2049 for a two-digit-year style).
    style : str
        One of ``STYLES``.
    rng : numpy.random.Generator, optional
        Source of the variations; ``None`` gives the canonical rendering.

    Returns
    -------
    str
    """
    if style not in _TEMPLATES:
        raise ValueError(f"unknown style {style!r}; the styles are {', '.join(map(repr, STYLES))}")
    _check_year(date.year)
    if style in _TWO_DIGIT and not TWO_DIGIT_YEARS[0] <= date.year <= TWO_DIGIT_YEARS[1]:
        raise ValueError(f"style {style!r} writes the year with two digits, which stand for "
                         f"{TWO_DIGIT_YEARS[0]}-{TWO_DIGIT_YEARS[1]}; {date.year} is outside")
    month, weekday = _MONTHS[date.month - 1], _WEEKDAYS[date.weekday()]
    text = _TEMPLATES[style].format(
        d=date.day, dd=f"{date.day:02d}", dth=_ordinal(date.day), m=date.month, mm=f"{date.month:02d}",
        yyyy=date.year, yy=f"{date.year % 100:02d}", Month=month, month=month.lower(), MONTH=month.upper(),
        Mon=month[:3], mon=month[:3].lower(), Weekday=weekday, Wkd=weekday[:3])
    if rng is None:
        return text
    words = text.split(" ")
    if rng.random() < 0.5:                        # one case for every word ("3rd" keeps its suffix)
        case = _CASES[rng.integers(len(_CASES))]
        words = [case(w) if w.rstrip(",").isalpha() else w for w in words]
    text = " ".join(words)
    spacing = rng.random()
    if spacing < 0.1 and "," in text:
        text = text.replace(", ", ",")
    elif spacing < 0.2 and " " in text:
        gaps = [i for i, c in enumerate(text) if c == " "]
        i = gaps[rng.integers(len(gaps))]
        text = text[:i] + " " + text[i:]
    return text


def to_iso(date):
    """``date`` as ISO 8601, ``YYYY-MM-DD`` (``ISO_LENGTH`` characters)."""
    return f"{date.year:04d}-{date.month:02d}-{date.day:02d}"


def split_of(date):
    """The split (``"train"``, ``"valid"`` or ``"test"``) of a date of 1900-2099.

    A fixed hash of the date (not a seed) sends it to train with probability 0.8, to valid or
    test with 0.1 each, so the splits are interleaved over the whole range and never change.
    """
    _check_year(date.year)
    bucket = int.from_bytes(hashlib.sha256(to_iso(date).encode()).digest()[:8], "big") % 10
    return "train" if bucket < 8 else SPLITS[bucket - 7]


@functools.lru_cache(maxsize=None)
def _split_ordinals(split):
    first, last = datetime.date(YEARS[0], 1, 1).toordinal(), datetime.date(YEARS[1], 12, 31).toordinal()
    return np.array([o for o in range(first, last + 1) if split_of(datetime.date.fromordinal(o)) == split])


def date_pairs(n, split="train", seed=0, years=YEARS):
    """``n`` pairs ``(human, iso)`` of dates of one split, deterministic for a given seed.

    Parameters
    ----------
    n : int >= 1
    split : str
        One of ``SPLITS``.
    seed : int
        Seed of the generator that draws the dates, styles and variations.
    years : (int, int)
        Inclusive range of years, within 1900-2099.

    Returns
    -------
    list of (str, str)
        The date in a style drawn uniformly among those valid for its year (the two-digit-year
        styles only for 1950-2049), and the date in ISO 8601.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; the splits are {SPLITS}")
    lo, hi = years
    if not YEARS[0] <= lo <= hi <= YEARS[1]:
        raise ValueError(f"years must be (first, last) with {YEARS[0]} <= first <= last <= {YEARS[1]}; got {years}")
    ordinals = _split_ordinals(split)
    a, b = np.searchsorted(ordinals, [datetime.date(lo, 1, 1).toordinal(), datetime.date(hi, 12, 31).toordinal() + 1])
    rng = np.random.default_rng(seed)
    pairs = []
    for o in ordinals[rng.integers(a, b, size=n)]:
        date = datetime.date.fromordinal(int(o))
        two_digit_ok = TWO_DIGIT_YEARS[0] <= date.year <= TWO_DIGIT_YEARS[1]
        styles = [s for s in STYLES if two_digit_ok or s not in _TWO_DIGIT]
        pairs.append((format_date(date, styles[rng.integers(len(styles))], rng), to_iso(date)))
    return pairs
