"""rnnlib.dates: human dates paired with ISO 8601, checked against an independent parser."""

import datetime
import re
from collections import Counter

import numpy as np
import pytest

from rnnlib.dates import ISO_LENGTH, SPLITS, STYLES, date_pairs, format_date, split_of, to_iso

# --- an independent parser of human dates ---------------------------------------------------

MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december"]
WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = {**{name: i + 1 for i, name in enumerate(MONTH_NAMES)}, **{n[:3]: i + 1 for i, n in enumerate(MONTH_NAMES)}}
WEEKDAYS = {**{name: i for i, name in enumerate(WEEKDAY_NAMES)}, **{n[:3]: i for i, n in enumerate(WEEKDAY_NAMES)}}


def ordinal_suffix(n):
    """The English rule: 11-13 take th, otherwise the last digit decides (1 st, 2 nd, 3 rd)."""
    if n in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def parse(text):
    """Read a human date (day first; two-digit year 1950-2049). Returns (date, details)."""
    tokens = [t for t in re.split(r"[\s,/.\-]+", text.strip().lower()) if t]
    month = weekday = None
    numbers = []
    for token in tokens:
        if token in ("of", "the"):
            continue
        if token in MONTHS:
            assert month is None, text
            month = MONTHS[token]
        elif token in WEEKDAYS:
            assert weekday is None, text
            weekday = WEEKDAYS[token]
        else:
            m = re.fullmatch(r"(\d+)(st|nd|rd|th)?", token)
            assert m, f"unexpected token {token!r} in {text!r}"
            numbers.append((m.group(1), m.group(2)))
    if month is None:                                       # numeric: day / month / year
        (day, suffix), (month_digits, no_suffix), (year, year_suffix) = numbers
        assert no_suffix is None
        month = int(month_digits)
    else:
        (day, suffix), (year, year_suffix) = numbers
    assert year_suffix is None, text
    if suffix is not None:
        assert suffix == ordinal_suffix(int(day)), f"wrong ordinal in {text!r}"
    assert len(year) in (2, 4), text
    y = int(year)
    if len(year) == 2:
        y += 1900 if y >= 50 else 2000
    date = datetime.date(y, month, int(day))               # raises for 29 February of a common year
    if weekday is not None:
        assert date.weekday() == weekday, f"{text!r}: {date} is not a {WEEKDAY_NAMES[weekday]}"
    return date, {"year_digits": len(year), "weekday": weekday is not None}


def normal(text):
    """Text with case and spacing variations removed."""
    return re.sub(r"\s+", " ", text.lower()).replace(", ", ",").strip()


def matching_styles(text, date):
    """The styles whose canonical rendering of ``date`` equals ``text`` up to case and spacing."""
    found = set()
    for style in STYLES:
        try:
            if normal(format_date(date, style)) == normal(text):
                found.add(style)
        except ValueError:
            pass
    return found


def all_dates():
    d, one = datetime.date(1900, 1, 1), datetime.timedelta(days=1)
    while d.year < 2100:
        yield d
        d += one


MARCH_3_1987 = datetime.date(1987, 3, 3)
EXAMPLES = ["3 March 1987", "03/03/87", "March 3, 1987", "Tuesday, March 3, 1987", "3rd of march 1987",
            "03.03.1987", "3 mar 87", "MARCH 3 1987"]
TWO_DIGIT_STYLES = [s for s in STYLES if "87" in format_date(MARCH_3_1987, s)
                    and "1987" not in format_date(MARCH_3_1987, s)]


@pytest.fixture(scope="module")
def pairs():
    """Thousands of pairs: every split, several seeds, the whole year range."""
    return {(split, seed): date_pairs(1200, split=split, seed=seed) for split in SPLITS for seed in (0, 1, 2)}


# --- styles -----------------------------------------------------------------------------------

def test_styles_are_many_and_distinct():
    assert len(STYLES) >= 16
    assert len(set(STYLES)) == len(STYLES) and all(isinstance(s, str) for s in STYLES)
    renderings = {format_date(MARCH_3_1987, s) for s in STYLES}
    assert len(renderings) == len(STYLES)
    assert to_iso(MARCH_3_1987) not in renderings           # ISO is the target, not a source


def test_the_given_examples_render_exactly():
    assert MARCH_3_1987.strftime("%A") == "Tuesday"
    canonical = [format_date(MARCH_3_1987, s) for s in STYLES]
    for example in EXAMPLES:
        assert canonical.count(example) == 1, example


def test_ordinals_1_to_31():
    style = next(s for s in STYLES if format_date(MARCH_3_1987, s) == "3rd of march 1987")
    for day in range(1, 32):
        expected = f"{day}{ordinal_suffix(day)} of january 2001"
        assert format_date(datetime.date(2001, 1, day), style) == expected
    assert [f"{d}{ordinal_suffix(d)}" for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]


def test_numeric_dates_put_the_day_first():
    assert format_date(datetime.date(2021, 4, 3), "dd/mm/yy") == "03/04/21"
    for style in STYLES:
        assert parse(format_date(datetime.date(2021, 4, 3), style))[0] == datetime.date(2021, 4, 3)


def test_to_iso():
    assert to_iso(datetime.date(1907, 1, 9)) == "1907-01-09" and ISO_LENGTH == 10
    assert all(len(to_iso(d)) == ISO_LENGTH for d in (datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)))


# --- generated pairs --------------------------------------------------------------------------

def test_pairs_parse_back_to_their_iso_date(pairs):
    weekdays = 0
    for (split, seed), ps in pairs.items():
        assert len(ps) == 1200
        for human, iso in ps:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso)
            date, details = parse(human)
            assert date.isoformat() == iso, (human, iso)
            weekdays += details["weekday"]
    assert weekdays > 500                                   # weekdays were present and checked


def test_every_style_appears_and_outputs_differ_only_by_case_and_spacing(pairs):
    seen = Counter()
    for ps in pairs.values():
        for human, iso in ps:
            found = matching_styles(human, datetime.date.fromisoformat(iso))
            assert found, human
            if len(found) == 1:
                seen.update(found)
    assert set(seen) == set(STYLES)
    assert min(seen.values()) > 50


def test_two_digit_years_only_for_1950_to_2049(pairs):
    assert len(TWO_DIGIT_STYLES) >= 2
    outside = two_digit = 0
    for ps in pairs.values():
        for human, iso in ps:
            date, details = parse(human)
            if not 1950 <= date.year <= 2049:
                outside += 1
                assert details["year_digits"] == 4, human
            two_digit += details["year_digits"] == 2
    assert outside > 1000 and two_digit > 100
    for style in TWO_DIGIT_STYLES:
        format_date(datetime.date(1950, 1, 1), style)
        format_date(datetime.date(2049, 12, 31), style)
        for year in (1949, 2050, 1900, 2099):
            with pytest.raises(ValueError, match="1950.*2049"):
                format_date(datetime.date(year, 6, 1), style)


def test_variations_of_case_and_spacing_occur_and_parse(pairs):
    case_only = spacing_only = 0
    for ps in pairs.values():
        for human, iso in ps:
            date = datetime.date.fromisoformat(iso)
            canonical = {format_date(date, s) for s in matching_styles(human, date)}
            if human in canonical:
                continue
            if any(human.lower() == c.lower() for c in canonical):
                case_only += 1
            if any(human.split() == c.split() or human.replace(",", ", ") == c for c in canonical):
                spacing_only += 1
    assert case_only > 500 and spacing_only > 200
    rng = np.random.default_rng(5)
    outputs = {format_date(MARCH_3_1987, "Weekday, Month d, yyyy", rng) for _ in range(300)}
    for expected in ("TUESDAY, MARCH 3, 1987", "tuesday, march 3, 1987", "Tuesday,March 3, 1987"):
        assert any(normal(o) == normal(expected) and o.replace(" ", "") == expected.replace(" ", "")
                   for o in outputs), expected
    assert any("  " in o for o in outputs)
    assert all(parse(o)[0] == MARCH_3_1987 for o in outputs)


def test_leap_days():
    leap_years = [d.year for d in all_dates() if (d.month, d.day) == (2, 29)]
    expected = [y for y in range(1900, 2100) if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)]
    assert leap_years == expected and 2000 in leap_years and 1900 not in leap_years and len(leap_years) == 49
    for year in leap_years:
        day = datetime.date(year, 2, 29)
        for style in STYLES:
            if style in TWO_DIGIT_STYLES and not 1950 <= year <= 2049:
                continue
            assert parse(format_date(day, style))[0] == day
    leap_2000 = datetime.date(2000, 2, 29)
    isos = {iso for _, iso in date_pairs(3000, split=split_of(leap_2000), seed=3, years=(2000, 2000))}
    assert "2000-02-29" in isos and all(iso.startswith("2000-") for iso in isos)


# --- splits -----------------------------------------------------------------------------------

def test_split_fractions_and_spread():
    splits = [(d.year, split_of(d)) for d in all_dates()]
    assert len(splits) == 200 * 365 + 49
    counts = Counter(s for _, s in splits)
    assert set(counts) == set(SPLITS)
    for split, share in zip(SPLITS, (0.8, 0.1, 0.1)):
        assert abs(counts[split] / len(splits) - share) < 0.01, (split, counts)
    for decade in range(1900, 2100, 10):                    # interleaved, not contiguous blocks
        in_decade = Counter(s for y, s in splits if decade <= y < decade + 10)
        assert 0.07 < in_decade["test"] / sum(in_decade.values()) < 0.13, decade
        assert 0.07 < in_decade["valid"] / sum(in_decade.values()) < 0.13, decade


def test_split_pairs_are_disjoint(pairs):
    by_split = {split: set() for split in SPLITS}
    for (split, seed), ps in pairs.items():
        isos = {iso for _, iso in ps}
        assert all(split_of(datetime.date.fromisoformat(iso)) == split for iso in isos)
        by_split[split] |= isos
    assert not by_split["test"] & by_split["train"]
    assert not by_split["valid"] & by_split["train"]
    assert not by_split["test"] & by_split["valid"]
    assert not {iso for _, iso in date_pairs(5000, "train", seed=99)} & by_split["test"]


def test_determinism():
    assert date_pairs(200, "valid", seed=7) == date_pairs(200, "valid", seed=7)
    assert date_pairs(200, "valid", seed=7) != date_pairs(200, "valid", seed=8)
    assert date_pairs(50, seed=1, years=(1990, 1991)) == date_pairs(50, seed=1, years=(1990, 1991))
    assert all(iso[:4] in ("1990", "1991") for _, iso in date_pairs(300, seed=1, years=(1990, 1991)))


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: format_date(MARCH_3_1987, "yyyy-mm-dd"), "d Month yyyy"),
    (lambda: format_date(datetime.date(1899, 12, 31), "d Month yyyy"), "1900.*2099"),
    (lambda: format_date(datetime.date(2100, 1, 1), "d Month yyyy"), "1900.*2099"),
    (lambda: split_of(datetime.date(2100, 1, 1)), "1900.*2099"),
    (lambda: date_pairs(0), ">= 1"),
    (lambda: date_pairs(3, split="dev"), "train.*valid.*test"),
    (lambda: date_pairs(3, years=(2000, 1990)), "1900 <= first <= last <= 2099"),
    (lambda: date_pairs(3, years=(1899, 1990)), "1900 <= first <= last <= 2099"),
    (lambda: date_pairs(3, years=(1990, 2100)), "1900 <= first <= last <= 2099"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unknown_style_lists_every_style():
    with pytest.raises(ValueError) as info:
        format_date(MARCH_3_1987, "nope")
    assert all(repr(s) in str(info.value) for s in STYLES)
