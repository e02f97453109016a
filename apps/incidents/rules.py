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


# ---------------------------------------------------------------- GDPR Art. 33 and 34
#
# Where the people affected include people in the EU/EEA the GDPR applies beside the APPI:
#
#   Art. 33(1): the controller notifies the supervisory authority without undue delay and, where
#   feasible, not later than 72 hours after having become aware of the breach, "unless the breach
#   is unlikely to result in a risk to the rights and freedoms of natural persons". The 72 hours
#   are clock hours from awareness (not days from discovery): the EDPB guidelines 9/2022 place
#   awareness at a reasonable degree of certainty that personal data was compromised, which may
#   come after the incident was discovered.
#   Art. 34(1): where the breach is likely to result in a high risk, the people are told without
#   undue delay; Art. 34(3)(a): not where the data was made unintelligible (strong encryption).
#
# "Without undue delay" has no number: the communication is due at once, so it counts as pending
# (and stands out) from awareness until a notice is recorded.

GDPR_AUTHORITY_HOURS = 72


def gdpr_must_notify_authority(*, involves_eu_people: bool, unlikely_risk: bool) -> bool:
    return involves_eu_people and not unlikely_risk


def gdpr_authority_due(aware_at: datetime.datetime) -> datetime.datetime:
    return aware_at + datetime.timedelta(hours=GDPR_AUTHORITY_HOURS)


def gdpr_must_communicate_to_people(
    *, involves_eu_people: bool, high_risk: bool, strongly_encrypted: bool
) -> bool:
    return involves_eu_people and high_risk and not strongly_encrypted
