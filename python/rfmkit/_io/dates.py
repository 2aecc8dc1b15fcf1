"""The one date rule (DESIGN.md, "Reading real exports"): a date column of text or
numbers becomes timestamps by ONE format for the whole column, and the values that are
not dates are counted by reason, never guessed row by row.

- Text is parsed with `date_format` when given (a strftime format, or ``"ISO8601"``);
  otherwise the format is inferred: the candidate formats pandas guesses from a sample
  of the values are tried on that sample, and the one that reads the most wins; a tie
  (day/month against month/day) is settled on every distinct value. When a day-first
  and a month-first format both read every value, differently (``03/04/2024``), that is
  an error naming `dayfirst`; `dayfirst=` keeps only the formats of that order. The
  values the format misses get a second look: blank cells are missing dates, padded
  values are read trimmed, a stray UTC offset among naive times is an error.
- Numbers are never epoch nanoseconds: an integer or float date column needs
  ``date_format="%Y%m%d"`` (or another strftime format of the digits), ``"excel"``
  (days since 1899-12-30, the serial dates of spreadsheets), ``"unix"`` (seconds) or
  ``"unix_ms"``; without it the error suggests the one that fits the values.
- Text with UTC offsets: one offset keeps it; mixed offsets become UTC. Offsets on some
  values only (naive and aware mixed) are an error.
- A value that fits no format is an ``unparseable_date`` row, one outside 1900-01-01 ..
  2100-12-31 (``9999-12-31`` sentinels) a ``date_out_of_range`` row: both are invalid
  rows, dropped and counted, or an error with ``invalid="raise"``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rfmkit.exceptions import DtypeError, InvalidParameterError

#: `date_format` values that name a number encoding instead of a strftime format.
NUMBER_FORMATS = ("excel", "unix", "unix_ms")
#: The sane range of dates: outside it a date is a sentinel or a typo.
EARLIEST = pd.Timestamp("1900-01-01")
LATEST = pd.Timestamp("2100-12-31")
FIRST_DAY = int((EARLIEST - pd.Timestamp(0)).days)
LAST_DAY = int((LATEST - pd.Timestamp(0)).days)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
UNPARSEABLE = "unparseable_date"
OUT_OF_RANGE = "date_out_of_range"

# a UTC offset counts only after a time of day: the "-2024" of 13-01-2024 is no offset
_OFFSET_PATTERN = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$"
_OFFSET = re.compile(_OFFSET_PATTERN)
_SAMPLE = 200


@dataclass
class DateReading:
    """How a date column was read: the format used (None for timestamp columns) and, per
    reason, the rows that are not dates with their first raw value (for messages)."""

    format: str | None = None
    # "text" or "numbers" for a column written so (read by a format), None for dates
    source: str | None = None
    bad_rows: dict[str, np.ndarray] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, reason: str, mask: np.ndarray, raw: Any) -> None:
        """Counts the rows of `mask` as `reason`; `raw` holds the values as written
        (indexable by row) for the messages."""
        if not mask.any():
            return
        previous = self.bad_rows.get(reason)
        self.bad_rows[reason] = mask if previous is None else (previous | mask)
        # every source indexes the whole column by row: the first one serves every row
        self.raw.setdefault(reason, raw)

    def value_at(self, reason: str, row: int) -> Any:
        """The value as written of a row counted as `reason`."""
        return self.raw[reason][row]

    def first_bad_row(self, usable: np.ndarray | None) -> tuple[int, str] | None:
        """The first row (among `usable` rows, None: all) that is not a date, and why."""
        best: tuple[int, str] | None = None
        for reason, mask in self.bad_rows.items():
            rows = np.nonzero(mask if usable is None else mask & usable)[0]
            if len(rows) and (best is None or rows[0] < best[0]):
                best = (int(rows[0]), reason)
        return best


def check_options(date_format: Any, dayfirst: Any) -> None:
    if date_format is not None and not (isinstance(date_format, str) and date_format):
        raise InvalidParameterError(
            f"date_format={date_format!r} must be a strftime format such as '%Y%m%d' or '%d/%m/%Y', "
            f"'ISO8601', or one of {', '.join(map(repr, NUMBER_FORMATS))}"
        )
    if (
        isinstance(date_format, str)
        and date_format not in NUMBER_FORMATS
        and date_format != "ISO8601"
        and "%" not in date_format
    ):
        raise InvalidParameterError(
            f"date_format={date_format!r} is not a strftime format (no % directive): pass e.g. '%Y%m%d', "
            f"'%d/%m/%Y %H:%M', 'ISO8601', or one of {', '.join(map(repr, NUMBER_FORMATS))}"
        )
    if dayfirst is not None and not isinstance(dayfirst, (bool, np.bool_)):
        raise InvalidParameterError(f"dayfirst must be True, False or None, got {dayfirst!r}")


# --------------------------------------------------------------------------- numbers


def numbers_to_datetimes(values: np.ndarray, name: str, date_format: str | None, reading: DateReading) -> pd.Series:
    """A float64 array of dates written as numbers (NaN: null) to datetime64[us]."""
    finite = np.isfinite(values)
    if date_format is None:
        raise DtypeError(_numbers_hint(values[finite], name))
    if date_format in NUMBER_FORMATS:
        reading.format = date_format
        per_unit = {"excel": 86_400_000_000.0, "unix": 1_000_000.0, "unix_ms": 1_000.0}[date_format]
        origin = EXCEL_EPOCH if date_format == "excel" else pd.Timestamp(0)
        micros = values * per_unit + (origin - pd.Timestamp(0)) / pd.Timedelta(microseconds=1)
        # before 1900 or after 2100 (and beyond what int64 microseconds hold): out of range
        low = FIRST_DAY * 86_400_000_000.0
        high = (LAST_DAY + 1) * 86_400_000_000.0
        outside = finite & ((micros < low) | (micros >= high))
        reading.add(OUT_OF_RANGE, outside, values)
        usable = finite & ~outside
        ticks = np.where(usable, np.round(np.where(usable, micros, 0.0)), 0).astype(np.int64)
        out = ticks.view("datetime64[us]").copy()
        out[~usable] = np.datetime64("NaT")
        return pd.Series(out)
    # a strftime format of the digits (e.g. 19970101 with "%Y%m%d")
    whole = finite & (values == np.round(values))
    reading.add(UNPARSEABLE, finite & ~whole, values)
    import pyarrow as pa
    import pyarrow.compute as pc

    digits = pa.array(np.where(whole, values, 0).astype(np.int64), mask=~whole)
    return text_to_datetimes(pc.cast(digits, pa.string()), name, date_format, None, reading)


def _numbers_hint(values: np.ndarray, name: str) -> str:
    base = (
        f"date column {name!r} holds numbers, not dates; rfmkit never reads numbers as epoch nanoseconds. "
        f"Say what they are with date_format= (CLI: --date-format): "
    )
    options = "'%Y%m%d' (e.g. 19970101), 'excel' (spreadsheet serial days, e.g. 45292), 'unix' (seconds) or 'unix_ms'"
    if values.size == 0:
        return base + options
    sample = values[:10_000]
    whole = np.all(sample == np.round(sample))
    if whole and np.all((sample >= 19000101) & (sample <= 21001231)):
        as_int = sample.astype(np.int64)
        month, day = as_int // 100 % 100, as_int % 100
        if np.all((month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)):
            return base + f"its values look like yyyymmdd (e.g. {int(sample[0])}): pass date_format='%Y%m%d'"
    if np.all((sample >= 1) & (sample < 73_051)):
        return (
            base
            + f"its values look like Excel serial days (e.g. {sample[0]:g} = "
            + (f"{(EXCEL_EPOCH + pd.Timedelta(days=float(sample[0]))).date()}): pass date_format='excel'")
        )
    # epoch times of 1990..2100: smaller numbers are more likely something else
    if np.all((sample >= 631_152_000) & (sample < 4_102_444_800)):
        return base + f"its values look like unix seconds (e.g. {sample[0]:.0f}): pass date_format='unix'"
    if np.all((sample >= 631_152_000_000) & (sample < 4_102_444_800_000)):
        return base + f"its values look like unix milliseconds (e.g. {sample[0]:.0f}): pass date_format='unix_ms'"
    return base + options


# --------------------------------------------------------------------------- text


def text_to_datetimes(
    text: Any, name: str, date_format: str | None, dayfirst: bool | None, reading: DateReading
) -> pd.Series:
    """Strings (a pyarrow string array, or an object array with None/NaN for null) to
    datetimes, by one format. The distinct values are parsed once (dictionary encoding),
    with Arrow's C++ parser where the format allows, else pandas'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(text, (pa.Array, pa.ChunkedArray)):
        text = pa.array(np.asarray(text, dtype=object), type=pa.string(), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if not pa.types.is_string(text.type):
        text = pc.cast(text, pa.string())
    raw = _ArrowValues(text)
    if date_format in NUMBER_FORMATS:
        trimmed = pc.utf8_trim_whitespace(text)
        trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
        numbers = pd.to_numeric(trimmed.to_pandas(), errors="coerce").to_numpy(dtype=np.float64)
        given = trimmed.is_valid().to_numpy(zero_copy_only=False)
        reading.add(UNPARSEABLE, given & ~np.isfinite(numbers), raw)
        return numbers_to_datetimes(numbers, name, date_format, reading)
    uniques, codes = _distinct(text)
    if uniques.null_count == len(uniques):
        return pd.Series(np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]"))
    # Offsets are looked for in every value only when the sample shows some: the rest
    # of the time a stray offset surfaces below, among the values the format misses.
    utc = _check_offsets(uniques, name) if any(_OFFSET.search(v.strip()) for v in _sample(uniques)) else False
    given_format = date_format is not None
    if date_format is None:
        date_format = _infer_format(uniques, name, dayfirst, utc)
        if date_format is None:
            raise DtypeError(_no_format_hint(_sample(uniques), name))
    reading.format = date_format
    if utc:
        reading.notes.append(f"date column {name!r} mixes UTC offsets: its times were converted to UTC")
    parsed = _parse(uniques, date_format, utc)
    failed = parsed.isna().to_numpy() & uniques.is_valid().to_numpy(zero_copy_only=False)
    out_of_range = np.zeros(len(uniques), dtype=bool)
    if failed.any():
        parsed, failed, out_of_range = _second_look(uniques, parsed, failed, date_format, utc, name)
        if given_format:
            _check_given_format(uniques, failed & ~out_of_range, date_format, name)
        valid_code = codes >= 0
        safe = np.where(valid_code, codes, 0)
        reading.add(OUT_OF_RANGE, valid_code & out_of_range[safe], raw)
        reading.add(UNPARSEABLE, valid_code & failed[safe] & ~out_of_range[safe], raw)
    if len(uniques) == len(text):  # one value per row (see _distinct): no take needed
        return parsed
    return pd.Series(parsed.array.take(np.where(codes >= 0, codes, -1), allow_fill=True))


def _check_given_format(uniques: Any, failed: np.ndarray, date_format: str, name: str) -> None:
    """A `date_format` the user gave that most distinct dates do not fit is the wrong one
    (dd/mm for mm/dd, say): the few it reads are then likely read wrong too (day and month
    swapped), so this is an error, not rows dropped."""
    given = int(np.count_nonzero(uniques.is_valid().to_numpy(zero_copy_only=False)))
    misses = int(np.count_nonzero(failed))
    if misses >= 2 and misses * 2 > given:
        example = uniques[int(np.flatnonzero(failed)[0])].as_py()
        raise DtypeError(
            f"date_format={date_format!r} does not fit {misses} of the {given} distinct dates of column {name!r} "
            f"(e.g. {example!r}): it is not the column's format, and the dates it reads may be read wrong (day and "
            f"month swapped); give the right format (e.g. '%d/%m/%Y' for 25/12/2024), or leave date_format out to "
            f"infer it"
        )


def _second_look(
    uniques: Any, parsed: pd.Series, failed: np.ndarray, date_format: str | None, utc: bool, name: str
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """The values the format did not read: blank cells are missing dates (not counted
    here), values with blanks around are read again trimmed, a stray UTC offset among
    naive times is an error, and the rest are out of range (9999-12-31) or unparseable."""
    import pyarrow as pa

    positions = np.nonzero(failed)[0]
    texts = [uniques[int(i)].as_py() for i in positions]
    stripped = [t.strip() for t in texts]
    retry = [i for i, (t, s) in enumerate(zip(texts, stripped)) if s and s != t]
    values = np.array(parsed.to_numpy(), copy=True)
    if retry and date_format is not None:
        again = _parse(pa.array([stripped[i] for i in retry], type=pa.string()), date_format, utc).to_numpy()
        for i, value in zip(retry, again):
            values[positions[i]] = value
    if date_format is not None and "%z" not in date_format and not utc:
        offset = next(
            (t for t, s, i in zip(texts, stripped, positions) if _OFFSET.search(s) and pd.isna(values[i])), None
        )
        if offset is not None:
            naive = next((uniques[int(i)].as_py() for i in range(len(uniques)) if not failed[i]), None)
            raise DtypeError(
                f"date column {name!r} mixes times with a UTC offset ({offset!r}) and without ({naive!r}), "
                f"so the naive ones have no known time zone: give every value an offset, or none"
            )
    still = failed.copy()
    outside = np.zeros(len(failed), dtype=bool)
    for i, s in zip(positions.tolist(), stripped):
        if not pd.isna(values[i]) or not s:
            still[i] = False  # read on a second look, or a blank cell (a missing date)
        else:
            outside[i] = _beyond_pandas(s, date_format)
    return pd.Series(values), still, outside


def _distinct(values: Any) -> tuple[Any, np.ndarray]:
    """The values to parse and each row's position among them (-1: null). Dates repeat
    (one value a day) and are parsed once each through a dictionary; timestamps with a
    time of day are mostly distinct, and then the dictionary costs more than it saves."""
    import pyarrow.compute as pc

    n = len(values)
    probe = values.slice(0, min(n, 10_000))
    if n > 50_000 and len(pc.unique(probe)) > 0.5 * len(probe):
        codes = np.arange(n, dtype=np.int64)
        codes[~np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = -1
        return values, codes
    encoded = pc.dictionary_encode(values)
    return encoded.dictionary, encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


class _ArrowValues:
    """Row -> Python value of an Arrow array, for messages that quote one value."""

    def __init__(self, array: Any) -> None:
        self.array = array

    def __getitem__(self, row: int) -> Any:
        return self.array[int(row)].as_py()


def _no_format_hint(sample: list[str], name: str) -> str:
    """Why no format was found, and what to pass."""
    values = [v.strip() for v in sample if v.strip()]
    if values and all(re.fullmatch(r"[+-]?\d+(\.\d+)?", v) for v in values):
        return _numbers_hint(np.array([float(v) for v in values]), name).replace(
            "holds numbers, not dates", "holds numbers written as text, not dates", 1
        )
    examples = ", ".join(repr(v) for v in values[:2])
    return (
        f"date column {name!r} reads as no date format, e.g. {examples}; pass its format with date_format= "
        f"(CLI: --date-format), e.g. '%d/%m/%y' or '%Y%m%d %H%M'"
    )


def _check_offsets(uniques: Any, name: str) -> bool:
    """True when the values carry different UTC offsets (then parsed to UTC); an error
    when some times carry one and others none. In Arrow: no Python loop over values."""
    import pyarrow.compute as pc

    found = pc.extract_regex(uniques, _OFFSET_PATTERN.replace("(Z|", "(?P<offset>Z|", 1))
    with_offset = found.is_valid()  # (the struct's validity: its child holds "" where no match)
    if not pc.any(with_offset).as_py():
        return False  # the usual case, found in one pass
    offsets = pc.filter(found.field("offset"), with_offset)
    timed = pc.match_substring_regex(uniques, r"\d{1,2}:\d{2}")
    naive = pc.and_(timed, pc.invert(with_offset))
    if pc.any(naive).as_py():
        aware = pc.filter(uniques, with_offset)[0].as_py()
        plain = pc.filter(uniques, naive)[0].as_py()
        raise DtypeError(
            f"date column {name!r} mixes times with a UTC offset ({aware!r}) and without ({plain!r}), "
            f"so the naive ones have no known time zone: give every value an offset, or none"
        )
    distinct = {offset.replace(":", "").replace("Z", "+0000") for offset in pc.unique(offsets).to_pylist()}
    return len(distinct) > 1


# formats whose values Arrow's ISO 8601 cast reads exactly
_ISO_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
# strftime directives that Arrow's strptime reads as pandas does
_ARROW_DIRECTIVES = set("YmdHMSjbBy")


def _parse(values: Any, date_format: str, utc: bool) -> pd.Series:
    """The distinct strings `values` (a pyarrow string array) read with one format;
    NaT where they do not fit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    directives = set(re.findall(r"%(.)", date_format))
    if date_format in _ISO_FORMATS and not utc:
        try:  # Arrow's ISO 8601 cast: validated and several times faster than strptime
            return pc.cast(values, pa.timestamp("us")).to_pandas()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # some value is not ISO: the format below reads the others
    if date_format != "ISO8601" and directives <= _ARROW_DIRECTIVES and not utc:
        parsed = pc.strptime(values, format=date_format, unit="us", error_is_null=True)
        # Arrow rolls impossible days over (2024-02-30 -> 03-01): a value that does not
        # format back to itself is checked by Python's strptime, which refuses those
        # (and accepts what only differs in padding, e.g. 3/4/2024)
        # (a rolled-over day lands on the 1st to 3rd of the next month: only those are
        # formatted back, in whole seconds since Arrow writes %S of microseconds with a
        # fraction)
        early = pc.less_equal(pc.day(parsed), 3)
        candidates = pc.filter(parsed, early)
        back = pc.strftime(pc.cast(candidates, pa.timestamp("s")), format=date_format)
        positions = np.nonzero(early.fill_null(False).to_numpy(zero_copy_only=False))[0]
        differs = pc.invert(pc.equal(back, pc.filter(values, early))).fill_null(False)
        suspect_positions = positions[differs.to_numpy(zero_copy_only=False)]
        result = np.array(parsed.to_numpy(zero_copy_only=False), dtype="datetime64[us]")
        for position in suspect_positions:
            try:
                _dt.datetime.strptime(values[int(position)].as_py(), date_format)
            except ValueError:
                result[position] = np.datetime64("NaT")
        return pd.Series(result)
    if date_format == "ISO8601" and not utc:
        try:
            return pc.cast(values, pa.timestamp("us")).to_pandas()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # a value with an offset or not ISO: pandas reads value by value
    values = values.to_numpy(zero_copy_only=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            parsed = pd.to_datetime(pd.Series(values, dtype=object), format=date_format, errors="coerce", utc=utc)
        except ValueError:
            # mixed offsets that the offset check did not see (e.g. named zones)
            parsed = pd.to_datetime(pd.Series(values, dtype=object), format=date_format, errors="coerce", utc=True)
    if isinstance(parsed.dtype, np.dtype) and parsed.dtype.kind == "M" and np.datetime_data(parsed.dtype)[0] == "ns":
        parsed = parsed.astype("datetime64[us]")
    return parsed


def _beyond_pandas(value: str, date_format: str | None) -> bool:
    """Whether a value pandas could not read is a real date outside its range (9999-12-31),
    as opposed to text that is no date at all."""
    stamp = None
    if date_format is not None and date_format != "ISO8601":
        with contextlib.suppress(ValueError):
            stamp = _dt.datetime.strptime(value, date_format)
    if stamp is None:  # a sentinel is often ISO whatever the column's format (9999-12-31)
        try:
            stamp = _dt.datetime.fromisoformat(value)
        except ValueError:
            return False
    return not (
        EARLIEST.to_pydatetime() <= stamp.replace(tzinfo=None) < (LATEST + pd.Timedelta(days=1)).to_pydatetime()
    )


def _sample(values: Any) -> list[str]:
    """Up to _SAMPLE non-null values spread over the column, as Python strings."""
    values = values.drop_null()
    if len(values) <= _SAMPLE:
        return values.to_pylist()
    step = len(values) / _SAMPLE
    return values.take((np.arange(_SAMPLE) * step).astype(np.int64)).to_pylist()


def _day_first(date_format: str) -> bool | None:
    """Whether a format reads day before month (None: year first, or no day or month:
    `dayfirst` does not apply, as in pandas)."""
    day, month = date_format.find("%d"), date_format.find("%m")
    if day < 0 or month < 0 or date_format.lstrip().startswith("%Y"):
        return None
    return day < month


# year-day-month is no one's format: pandas offers it for year-first dates with dayfirst
_YEAR_DAY_MONTH = re.compile(r"^%Y\W?%d")


def _infer_format(uniques: Any, name: str, dayfirst: bool | None, utc: bool) -> str | None:
    from pandas.tseries.api import guess_datetime_format

    sample = _sample(uniques)
    candidates: list[str] = []
    for value in sample:
        for first in (False, True):  # both: `dayfirst` filters below (year-first formats pass)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                guessed = guess_datetime_format(value, dayfirst=first)
            if guessed and not _YEAR_DAY_MONTH.match(guessed) and guessed not in candidates:
                candidates.append(guessed)
    if not candidates and any(re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}", v.strip()) for v in sample):
        # two-digit years, which pandas does not guess
        separator = next(c for c in sample[0] if c in "/.-")
        candidates = [f"%d{separator}%m{separator}%y", f"%m{separator}%d{separator}%y"]
    if dayfirst is not None:
        candidates = [c for c in candidates if _day_first(c) in (None, dayfirst)]
    if not candidates:
        return None
    # Candidates are scored on the sample; only a tie (day/month against month/day,
    # typically) is settled on every distinct value, so a long column is parsed once more
    # at most.
    import pyarrow as pa

    sample_array = pa.array(list(sample), type=pa.string())
    fits = {c: int(_parse(sample_array, c, utc).notna().sum()) for c in candidates[:6]}
    best = max(fits.values())
    if best == 0:
        return None
    winners = [c for c in candidates if fits.get(c) == best]
    if len(winners) > 1 and len(sample) < len(uniques):
        full = {c: int(_parse(uniques, c, utc).notna().sum()) for c in winners}
        winners = [c for c in winners if full[c] == max(full.values())]
    if len(winners) > 1 and dayfirst is None:
        orders = {_day_first(c) for c in winners}
        if {True, False} <= orders:
            day_first = next(c for c in winners if _day_first(c))
            month_first = next(c for c in winners if _day_first(c) is False)
            a = _parse(uniques, day_first, utc)
            b = _parse(uniques, month_first, utc)
            differ = np.nonzero((a != b).to_numpy() & a.notna().to_numpy())[0]
            if len(differ):
                examples = ", ".join(repr(uniques[int(i)].as_py()) for i in differ[:2])
                raise DtypeError(
                    f"date column {name!r} is ambiguous: every value reads as day/month ({day_first!r}) and as "
                    f"month/day ({month_first!r}), e.g. {examples}; say which with dayfirst=True (day first) or "
                    f"dayfirst=False (month first), or date_format=... (CLI: --dayfirst / --monthfirst or --date-format)"
                )
    return winners[0]
