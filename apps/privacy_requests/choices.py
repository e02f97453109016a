"""What a request is: its kinds, laws, channels, states and outcomes, and the sets of kinds the
workflow branches on (kept apart from the models that store them)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Open requests due within this many days are highlighted in the staff queue.
DUE_SOON_DAYS = 3


class Kind(models.TextChoices):
    # APPI Art. 32–35
    PURPOSE_NOTIFICATION = "purpose_notification", _("Notification of the purpose of use")
    DISCLOSURE = "disclosure", _("Disclosure")
    PROVISION_RECORDS = "provision_records", _("Disclosure of third-party provision records")
    CORRECTION = "correction", _("Correction")
    ADDITION = "addition", _("Addition")
    DELETION = "deletion", _("Deletion")
    STOP_OF_USE = "stop_of_use", _("Stop of use")
    ERASURE = "erasure", _("Erasure")
    STOP_OF_PROVISION = "stop_of_provision", _("Stop of provision to third parties")
    # GDPR Art. 15, 20, 21
    GDPR_ACCESS = "gdpr_access", _("Access (GDPR)")
    GDPR_PORTABILITY = "gdpr_portability", _("Data portability (GDPR)")
    GDPR_OBJECTION = "gdpr_objection", _("Objection (GDPR)")


GDPR_ONLY_KINDS = {Kind.GDPR_ACCESS, Kind.GDPR_PORTABILITY, Kind.GDPR_OBJECTION}
# APPI Art. 38: a fee may be charged for these, and only these.
FEE_KINDS = {Kind.PURPOSE_NOTIFICATION, Kind.DISCLOSURE, Kind.PROVISION_RECORDS}
DISCLOSURE_KINDS = {
    Kind.DISCLOSURE,
    Kind.PROVISION_RECORDS,
    Kind.GDPR_ACCESS,
    Kind.GDPR_PORTABILITY,
}
CHANGE_KINDS = {Kind.CORRECTION, Kind.ADDITION}
ERASURE_KINDS = {Kind.DELETION, Kind.ERASURE}
RESTRICTION_KINDS = {Kind.STOP_OF_USE, Kind.STOP_OF_PROVISION, Kind.GDPR_OBJECTION}


class Law(models.TextChoices):
    """Decided by the shop's rules (services/receipt.py ``law_for``), never picked by the
    requester: APPI always applies to the shop; "gdpr" means the GDPR applies as well, the person
    being in the EU/EEA."""

    APPI = "appi", _("APPI (Japan)")
    GDPR = "gdpr", _("APPI and GDPR (person in the EU/EEA)")


class Channel(models.TextChoices):
    MYPAGE = "mypage", _("My Page")
    INQUIRY_FORM = "inquiry_form", _("Inquiry form")
    POSTAL_MAIL = "postal_mail", _("Postal mail")
    EMAIL = "email", pgettext_lazy("request channel", "E-mail")
    PHONE = "phone", pgettext_lazy("request channel", "Phone")
    # Filed by a connected system for a person it knows (apps/privacy_requests/intake.py).
    STOREFRONT = "storefront", _("Storefront (API)")
    SHOPIFY = "shopify", _("Shopify")


class RequesterType(models.TextChoices):
    PERSON = "person", _("The person themselves")
    LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
    APPOINTED_REPRESENTATIVE = "appointed_representative", _("Appointed representative")


class Status(models.TextChoices):
    RECEIVED = "received", _("Received")
    IDENTITY = "identity", _("Identity verification")
    FEE = "fee", _("Awaiting fee")
    REVIEW = "review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CARRYING_OUT = "carrying_out", _("Being carried out")
    COMPLETED = "completed", _("Completed")
    # Not the consent ledger's "Withdrawn" (撤回): a request is withdrawn (取下げ) by its requester.
    WITHDRAWN = "withdrawn", pgettext_lazy("privacy request status", "Withdrawn")


OPEN_STATUSES = {
    Status.RECEIVED,
    Status.IDENTITY,
    Status.FEE,
    Status.REVIEW,
    Status.APPROVED,
    Status.CARRYING_OUT,
}
CLOSED_STATUSES = {Status.REJECTED, Status.COMPLETED, Status.WITHDRAWN}


class FeeStatus(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", _("No fee")
    PENDING = "pending", _("Fee pending")
    RECEIVED = "received", _("Fee received")
    WAIVED = "waived", _("Fee waived")


class Outcome(models.TextChoices):
    NONE = "", _("Not decided")
    FULL = "full", _("Granted in full")
    PARTIAL = "partial", _("Granted in part")
    NO_DATA = "no_data", _("No data held")
    REJECTED = "rejected", _("Rejected")
    # APPI Art. 35(2), (4), (6): doing what was asked is difficult (great cost, …), so a measure
    # that protects the person's rights is taken instead.
    ALTERNATIVE = "alternative", _("Alternative measure taken instead")


class IdentityMethod(models.TextChoices):
    NONE = "", _("Not verified")
    MYPAGE = "mypage", _("Logged-in member on My Page")
    CODE = "code", _("One-time code to the address on file")
    DOCUMENTS = "documents", _("Documents checked by staff")
    # Only apps/privacy_requests/intake.py records this: the shop's own connected system (its
    # storefront login, Shopify) vouched for the person; the timeline names which one.
    VOUCHED = "vouched", _("Vouched for by the shop's connected system")


class DisclosureForm(models.TextChoices):
    NONE = "", _("Not applicable")
    ELECTRONIC = "electronic", _("Electronic (download from My Page)")
    PAPER = "paper", _("Paper (by post)")
