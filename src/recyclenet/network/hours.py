"""Hours of the week: the opening-hours subset used by OSM conditional tags, and periods.

OSM time-conditional restrictions (``hgv:conditional=no @ (07:00-20:00)``,
``access:conditional``, ``motor_vehicle:conditional`` ...) and the travel periods of the
urban speed model are both sets of minutes of a week. :class:`WeekHours` holds such a set
as a boolean mask over the 10,080 minutes of a week (Monday 00:00 first), so overlap and
cover tests are exact and cheap.

Parsed (the common subset of the OSM ``opening_hours`` syntax):
    ``24/7``; weekday ranges and lists (``Mo-Fr``, ``Sa,Su``, ``Mo-We,Fr``); time ranges
    and lists (``07:00-09:00,17:00-19:00``), overnight ranges (``22:00-06:00``) and
    ``24:00`` as an end; several rules separated by ``;`` (a later rule replaces the
    days it names, as in the specification) and ``off`` (``Su off``).
Not parsed (:class:`UnparsedHoursError` is raised, and a conditional tag holding them is
ignored and counted): public and school holidays (``PH``, ``SH``), months and dates
(``Jan-Mar``, ``2024 May 1``), week numbers, sunrise/sunset and other variable times,
nth-weekday selectors (``Mo[1]``), open-ended ranges (``18:00+``), and non-time
conditions (``weight>7.5``, ``wet``, ``AND``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import numpy.typing as npt

from ..errors import InputError

MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")

_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_RULE_DAYS = re.compile(r"^([a-z]{2}(?:\s*[-,]\s*[a-z]{2})*)(?=\s|$)")
_DAY_RANGE = re.compile(r"^([a-z]{2})(?:\s*-\s*([a-z]{2}))?$")


class UnparsedHoursError(ValueError):
    """An hours expression outside the parsed subset (see the module docstring)."""


@dataclass(frozen=True, eq=False)
class WeekHours:
    """A set of minutes of the week, from an opening-hours text.

    Attributes
    ----------
    text : str
        The expression it was parsed from.
    mask : ndarray of bool, shape (10080,)
        True for every minute of the week (Monday 00:00 first) in the set.
    """

    text: str
    mask: npt.NDArray[np.bool_] = field(repr=False)

    @property
    def minutes(self) -> int:
        """Number of minutes per week in the set."""
        return int(self.mask.sum())

    def overlaps(self, other: WeekHours) -> bool:
        """True if the two sets share at least one minute."""
        return bool((self.mask & other.mask).any())

    def covers(self, other: WeekHours) -> bool:
        """True if every minute of ``other`` is in this set."""
        return bool(not (other.mask & ~self.mask).any())


def _minute(h: str, m: str, text: str) -> int:
    hour, minute = int(h), int(m)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise UnparsedHoursError(f"bad time {h}:{m} in {text!r}")
    return hour * 60 + minute


def _days(selector: str, text: str) -> list[int]:
    days: list[int] = []
    for part in selector.split(","):
        match = _DAY_RANGE.match(part.strip())
        if not match or match.group(1) not in WEEKDAYS:
            raise UnparsedHoursError(f"weekday selector {part.strip()!r} in {text!r} is not parsed")
        a = WEEKDAYS.index(match.group(1))
        end = match.group(2)
        if end is None:
            days.append(a)
            continue
        if end not in WEEKDAYS:
            raise UnparsedHoursError(f"weekday {end!r} in {text!r} is not parsed")
        b = WEEKDAYS.index(end)
        days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return days


def _rule(rule: str, text: str) -> tuple[list[int], npt.NDArray[np.bool_] | None]:
    """(days, 1-day mask with overnight spill into the next day, or None for 'off')."""
    days = list(range(7))
    match = _RULE_DAYS.match(rule)
    rest = rule
    if match and match.group(1)[:2] in WEEKDAYS:
        days = _days(match.group(1).replace(" ", ""), text)
        rest = rule[match.end() :]
    rest = rest.strip()
    if rest == "off":
        return days, None
    day_mask = np.zeros(2 * MINUTES_PER_DAY, dtype=bool)
    if not rest:
        day_mask[:MINUTES_PER_DAY] = True
        return days, day_mask
    for part in rest.split(","):
        match = _TIME_RANGE.match(part.strip())
        if not match:
            raise UnparsedHoursError(f"time range {part.strip()!r} in {text!r} is not parsed")
        a = _minute(match.group(1), match.group(2), text)
        b = _minute(match.group(3), match.group(4), text)
        if b <= a:
            b += MINUTES_PER_DAY  # overnight: 22:00-06:00
        day_mask[a:b] = True
    return days, day_mask


@cache
def parse_hours(text: str) -> WeekHours:
    """Parse an opening-hours expression (the subset in the module docstring).

    Raises
    ------
    UnparsedHoursError
        The expression uses syntax outside the parsed subset.
    """
    norm = " ".join(text.strip().lower().replace("–", "-").split())
    if not norm:
        raise UnparsedHoursError("empty hours expression")
    mask = np.zeros(MINUTES_PER_WEEK, dtype=bool)
    if norm == "24/7":
        mask[:] = True
        return WeekHours(text, mask)
    for rule in norm.split(";"):
        rule = rule.strip()
        if not rule:
            continue
        days, day_mask = _rule(rule, text)
        for d in days:  # a later rule replaces what earlier rules said of its days
            mask[d * MINUTES_PER_DAY : (d + 1) * MINUTES_PER_DAY] = False
        if day_mask is None:
            continue
        for d in days:
            start = d * MINUTES_PER_DAY
            idx = (start + np.nonzero(day_mask)[0]) % MINUTES_PER_WEEK
            mask[idx] = True
    mask.setflags(write=False)
    return WeekHours(text, mask)


def parse_conditional(value: str) -> list[tuple[str, str]]:
    """Split an OSM ``*:conditional`` value into ``(value, condition)`` pairs.

    ``"no @ (Mo-Fr 07:00-20:00); destination @ (20:00-07:00)"`` gives
    ``[("no", "Mo-Fr 07:00-20:00"), ("destination", "20:00-07:00")]``. Conditions in
    parentheses may contain ``;``.
    """
    out: list[tuple[str, str]] = []
    rest = value.strip()
    while rest:
        at = rest.find("@")
        if at < 0:
            break
        val = rest[:at].strip().strip(";").strip()
        rest = rest[at + 1 :].strip()
        if rest.startswith("("):
            depth, end = 0, len(rest)
            for k, ch in enumerate(rest):
                depth += ch == "("
                depth -= ch == ")"
                if depth == 0:
                    end = k
                    break
            cond, rest = rest[1:end], rest[end + 1 :]
        else:
            semi = rest.find(";")
            cond, rest = (rest, "") if semi < 0 else (rest[:semi], rest[semi + 1 :])
        rest = rest.strip().lstrip(";").strip()
        out.append((val, cond.strip()))
    return out


# --------------------------------------------------------------------------- periods

PERIOD_HOURS = {
    "day": "Mo-Fr 06:00-22:00",
    "peak": "Mo-Fr 07:00-09:00,17:00-19:00",
    "offpeak": "Mo-Fr 06:00-07:00,09:00-17:00,19:00-22:00",
    "night": "22:00-06:00",
}
"""Named travel periods. Peak hours are those of the AMap (高德地图) China city traffic
reports (morning peak 07:00-09:00, evening peak 17:00-19:00, day 06:00-22:00); night
is 22:00-06:00 every day."""

DEFAULT_PERIOD = "day"


@dataclass(frozen=True)
class Period:
    """When the vehicles drive: a name and the hours of the week it covers.

    Time-conditional restrictions apply if they hold at any minute of the period
    (closures) or at every minute of it (openings); the urban speed model averages its
    factors over the period's minutes.
    """

    name: str
    hours: str

    def __post_init__(self) -> None:
        try:
            parse_hours(self.hours)
        except UnparsedHoursError as exc:
            raise InputError(f"period {self.name!r}: {exc}") from None
        if parse_hours(self.hours).minutes == 0:
            raise InputError(f"period {self.name!r} covers no time ({self.hours!r})")

    @property
    def week_hours(self) -> WeekHours:
        """The period's minutes of the week."""
        return parse_hours(self.hours)

    @property
    def first_weekday(self) -> int:
        """The first day of the week (0 = Monday) the period covers: the planning day."""
        return int(np.nonzero(self.week_hours.mask)[0][0]) // MINUTES_PER_DAY


def get_period(value: str | Period | None) -> Period:
    """A period by name (``day``, ``peak``, ``offpeak``, ``night``), or from hours.

    Hours are an opening-hours expression (``"Sa 10:00-14:00"``) or a departure time
    (``"Mo 07:30"``, ``"07:30"``: the minute it starts). None gives the default ``day``.
    """
    if isinstance(value, Period):
        return value
    text = (value or DEFAULT_PERIOD).strip()
    if text.lower() in PERIOD_HOURS:
        return Period(text.lower(), PERIOD_HOURS[text.lower()])
    instant = re.match(r"^(?:([A-Za-z]{2})\s+)?(\d{1,2}):(\d{2})$", text)
    if instant:
        h, m = int(instant.group(2)), int(instant.group(3))
        end = h * 60 + m + 1
        hours = f"{h:02d}:{m:02d}-{end // 60:02d}:{end % 60:02d}"
        if instant.group(1):
            hours = f"{instant.group(1)} {hours}"
        return Period(text, hours)
    try:
        parse_hours(text)
    except UnparsedHoursError as exc:
        raise InputError(
            f"unknown period {text!r}: use one of {sorted(PERIOD_HOURS)}, opening hours such "
            f"as 'Mo-Fr 07:00-09:00' or a departure time such as 'Mo 07:30' ({exc})"
        ) from None
    return Period(text, text)
