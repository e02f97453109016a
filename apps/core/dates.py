"""Calendar arithmetic for legal periods (keeping periods, deadlines, certificate ages)."""

import calendar
import datetime


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (or earlier, when negative), or the month's last day where
    there is no such day: a month from 31 January is 28/29 February, as periods are counted."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later (or earlier); 29 February becomes the 28th."""
    return add_months(day, 12 * years)


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the shop's time zone, as an aware datetime."""
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
