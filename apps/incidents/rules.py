"""The APPI Art. 26 rules, as plain functions so each can be tested on its own.

When must a leak be reported to the Personal Information Protection Commission (and the people
affected be notified)? Enforcement Rules Art. 7: when personal data is (or may have been)
leaked, lost or damaged and

  1. it includes sensitive personal information (要配慮個人情報), or
  2. its misuse could cause financial damage (card numbers, bank log-ins, ...), or
  3. it may have been done for an improper purpose (unauthorised access, theft, an insider), or
  4. more than 1,000 people are affected (strictly more: 1,000 is not enough),

except where the data was protected by strong encryption or an equivalent measure (高度な暗号化
その他の個人の権利利益を保護するために必要な措置), which Art. 7 carves out of all four items.

Deadlines (Rules Art. 8): a preliminary report "promptly" (the PPC guidelines: about 3 to 5
days after the business learns of it) and a final report within 30 days, 60 for item 3.
We count the day the shop learnt of the incident as day 1, as the PPC guidelines do for the
final report, so a deadline of N days is the discovery date + N - 1 days: the earliest reading,
which never makes the shop late. Weekends and holidays count.
"""

from __future__ import annotations

import datetime

REPORT_THRESHOLD_PEOPLE = 1000
PRELIMINARY_DAYS = 5
FINAL_DAYS = 30
FINAL_DAYS_IMPROPER_PURPOSE = 60


def must_report(
    *,
    sensitive_data: bool,
    card_data: bool,
    unauthorised_access: bool,
    people_affected: int,
    strongly_encrypted: bool,
) -> bool:
    if strongly_encrypted:
        return False
    return (
        sensitive_data
        or card_data
        or unauthorised_access
        or people_affected > REPORT_THRESHOLD_PEOPLE
    )


def _day_n(discovered_on: datetime.date, days: int) -> datetime.date:
    return discovered_on + datetime.timedelta(days=days - 1)


def preliminary_due(discovered_on: datetime.date) -> datetime.date:
    return _day_n(discovered_on, PRELIMINARY_DAYS)


def final_due(discovered_on: datetime.date, *, unauthorised_access: bool) -> datetime.date:
    days = FINAL_DAYS_IMPROPER_PURPOSE if unauthorised_access else FINAL_DAYS
    return _day_n(discovered_on, days)
