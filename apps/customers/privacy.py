"""Export and erasure of what the customers app holds about a person."""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.hashers import make_password
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.db import delete_together, write_together
from apps.core.locks import PersonLocks, people_lock, person_lock
from apps.core.privacy import (
    Column,
    ErasureReport,
    Section,
    columns_of,
    register,
    register_person_lock,
)
from apps.customers.models import Address, Customer, EmailConfirmation, Inquiry, Session, User

CUSTOMER_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "date_of_birth",
    "phone",
    "email",
    "restriction_reason",
)
# The personal fields of an address (its country is not): exported, blanked on erasure.
ADDRESS_PERSONAL_FIELDS = (
    "label",
    "recipient_name",
    "postal_code",
    "prefecture",
    "city",
    "line1",
    "line2",
    "phone",
)
INQUIRY_FIELDS = ("name", "email", "phone", "message")
USER_FIELDS = ("email", "password", "last_login", "email_confirmed_at")
EMAIL_CONFIRMATION_FIELDS = ("email", "previous_email")
# The login lockout (django-axes) keeps the e-mail typed at each failed login.
LOCKOUT_MODELS = (AccessAttempt, AccessFailureLog, AccessLog)
LOCKOUT_FIELDS = ("username", "ip_address", "user_agent")


def _inquiries(customer: Customer):
    query = Q(customer=customer)
    if customer.email:
        query |= Q(email__iexact=customer.email)
    return Inquiry.objects.filter(query)


RECORD_NUMBER = Column("id", _("Record number"))
PHONE = Column("phone", _("Phone number"))
EMAIL = Column("email", _("E-mail address"))

# Section titles have a context of their own: words like "Profile" are translated for My
# Page's menu elsewhere.
# Labels are the fields' verbose names, except where the page says it in other words.
PROFILE = Section(
    "profile",
    pgettext_lazy("disclosure page section", "Profile"),
    columns_of(
        Customer,
        "id",
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "date_of_birth",
        "phone",
        "email",
        "restriction_reason",
        "acquired_via",
        "status",
        "created_at",
        id=RECORD_NUMBER,
        phone=PHONE,
        email=EMAIL,
        restriction_reason=Column("restriction_reason", _("Reason your account was restricted")),
        acquired_via=Column(
            "acquired_via", _("How you became a customer"), choices=Customer.AcquiredVia
        ),
        created_at=Column("created_at", _("Recorded at")),
    ),
    _("The details you registered with us."),
)
ADDRESSES = Section(
    "addresses",
    pgettext_lazy("disclosure page section", "Addresses"),
    columns_of(
        Address,
        "id",
        "country",
        "is_default",
        *ADDRESS_PERSONAL_FIELDS,
        id=RECORD_NUMBER,
        phone=PHONE,
        is_default=Column("is_default", _("Default address")),
        label=Column("label", _("Address name")),
        recipient_name=Column("recipient_name", _("Recipient name")),
        # Stored as the prefecture's own name: nothing to resolve.
        prefecture=Column("prefecture", _("Prefecture")),
        line1=Column("line1", _("Street and number")),
    ),
    _("The delivery addresses saved with your account."),
)
INQUIRIES = Section(
    "inquiries",
    pgettext_lazy("disclosure page section", "Inquiries"),
    (
        RECORD_NUMBER,
        Column("topic", _("Topic"), choices=Inquiry.Topic),
        Column("created_at", _("Sent at")),
        Column("name", _("Name")),
        EMAIL,
        PHONE,
        Column("message", _("Message")),
    ),
    _("Messages you sent us through the contact form."),
)
LOGIN = Section(
    "login",
    pgettext_lazy("disclosure page section", "Login"),
    (
        EMAIL,
        Column("email_confirmed_at", _("E-mail address confirmed at")),
        Column("date_joined", _("Member since")),
        Column("last_login", _("Last login")),
    ),
    _(
        "Your member login. Your password is stored only in a form that cannot be turned "
        "back into it, so it is not shown."
    ),
)
EMAIL_CONFIRMATIONS = Section(
    "email_confirmations",
    pgettext_lazy("disclosure page section", "E-mail address confirmations"),
    columns_of(
        EmailConfirmation,
        "kind",
        "email",
        "previous_email",
        "created_at",
        "confirmed_at",
        kind=Column("kind", _("Why"), choices=EmailConfirmation.Kind),
        email=Column("email", _("Address confirmed")),
        previous_email=Column("previous_email", _("Address it replaced")),
    ),
    _("The links we sent to confirm your e-mail address, and when you opened them."),
)


def export(customer_id: int) -> list[Section]:
    customer = Customer.objects.select_related("user").get(pk=customer_id)
    profile = {
        "id": customer.pk,
        **{name: getattr(customer, name) for name in CUSTOMER_FIELDS},
        "acquired_via": customer.acquired_via,
        "status": customer.status,
        "created_at": customer.created_at,
    }
    addresses = Address.objects.filter(customer=customer).values(
        "id", "country", "is_default", *ADDRESS_PERSONAL_FIELDS
    )
    inquiries = _inquiries(customer).values("id", "topic", "created_at", *INQUIRY_FIELDS)
    login, confirmations = [], []
    if customer.user is not None:
        login = [
            {
                "email": customer.user.email,
                "email_confirmed_at": customer.user.email_confirmed_at,
                "date_joined": customer.user.date_joined,
                "last_login": customer.user.last_login,
            }
        ]
        # The addresses the person asked to confirm (signup, changes), and when they did.
        confirmations = (
            EmailConfirmation.objects.filter(user_id=customer.user_id)
            .order_by("pk")
            .values("kind", "email", "previous_email", "created_at", "confirmed_at")
        )
    return [
        PROFILE.with_rows([profile]),
        ADDRESSES.with_rows(addresses),
        INQUIRIES.with_rows(inquiries),
        LOGIN.with_rows(login),
        EMAIL_CONFIRMATIONS.with_rows(confirmations),
    ]


def _lockout_records(customer: Customer) -> list:
    emails = {e for e in (customer.email, customer.user.email if customer.user_id else "") if e}
    if not emails:
        return []
    query = Q()
    for email in emails:
        query |= Q(username__iexact=email)
    return [model.objects.filter(query) for model in LOCKOUT_MODELS]


def lock_person(customer_id: int) -> PersonLocks:
    """The person an erasure is about, with their login, locked until it commits: orders,
    consents and subscriptions all take this lock before writing, so none can be added halfway
    through an erasure. Their subscriptions and requests, which erasers delete and empty, are
    locked right after, in the order every service locks them (apps/core/locks), and returned
    with them (the request workflow finds the request it carries out among them)."""
    return person_lock(
        customer_id=customer_id, subscriptions=True, requests=True, customer_related=("user",)
    )


def erase(customer: Customer, *, dry_run: bool = False) -> ErasureReport:
    """Anonymise the profile, the login and the person's inquiries; delete addresses, sessions,
    the e-mail confirmation links (old and new addresses) and the lockout records that hold the e-mail typed at a failed login.

    The anonymised customer row stays (status "erased") so that orders kept for the tax hold
    still point somewhere; it holds no personal field. The login row stays too, emptied (no
    address, no usable password, inactive, no groups): deleting it would make Django visit every
    table that can point at a user. Inquiries keep their topic and dates (a privacy request may
    name the inquiry it came from) without name, address, phone or message. One statement
    whatever the person has; running it twice changes nothing more.
    """
    report = ErasureReport()
    user_id = customer.user_id
    # Deleted outright: nothing points at these rows.
    gone = [
        Address.objects.filter(customer=customer),
        Session.objects.filter(user_id=user_id) if user_id else Session.objects.none(),
        (
            EmailConfirmation.objects.filter(user_id=user_id)
            if user_id
            else EmailConfirmation.objects.none()
        ),
        *_lockout_records(customer),
    ]
    inquiries = _inquiries(customer).filter(
        ~Q(name="") | ~Q(email="") | ~Q(phone="") | ~Q(message="")
    )
    has_personal = any(getattr(customer, name) for name in CUSTOMER_FIELDS)
    # Only staff logins carry groups and permissions.
    staff_login = bool(user_id and (customer.user.is_staff or customer.user.is_superuser))
    report.anonymised["customers.Customer"] = 1 if has_personal or user_id else 0
    report.anonymised["customers.User"] = 1 if user_id else 0
    if dry_run:
        for records in gone:
            report.deleted[records.model._meta.label] = records.count()
        report.anonymised["customers.Inquiry"] = inquiries.count()
        return report

    # One statement for every delete and update (apps/core/db.write_together): each touches
    # rows of its own table, and all of them see the rows as they were before it.
    writes: list = [*gone, (inquiries, dict.fromkeys(INQUIRY_FIELDS, ""))]
    if report.anonymised["customers.Customer"]:
        for name in CUSTOMER_FIELDS:
            setattr(customer, name, None if name == "date_of_birth" else "")
        customer.user = None
        customer.status = Customer.Status.ERASED
        customer.erased_at = customer.erased_at or timezone.now()
        customer.updated_at = timezone.now()
        writes.append(
            (
                Customer.objects.filter(pk=customer.pk),
                {
                    **{name: getattr(customer, name) for name in CUSTOMER_FIELDS},
                    "user": None,
                    "status": customer.status,
                    "erased_at": customer.erased_at,
                    "updated_at": customer.updated_at,
                },
            )
        )
    if user_id:
        writes.append(
            (
                User.objects.filter(pk=user_id),
                {
                    "email": f"erased-{user_id}@erased.invalid",
                    "password": make_password(None),
                    "is_active": False,
                    "is_staff": False,
                    "is_superuser": False,
                    "last_login": None,
                    "email_confirmed_at": None,
                },
            )
        )
        if staff_login:
            writes += [
                User.groups.through.objects.filter(user_id=user_id),
                User.user_permissions.through.objects.filter(user_id=user_id),
            ]
    counts = write_together(*writes)
    for records, count in zip(gone, counts[: len(gone)], strict=True):
        report.deleted[records.model._meta.label] = count
    report.anonymised["customers.Inquiry"] = counts[len(gone)]
    return report


def _any_email(emails: set[str], field: str) -> Q:
    """Rows whose `field` is one of `emails`, in any case (each as the per-person path asks)."""
    query = Q(pk__in=[])
    for email in sorted(emails):
        query |= Q(**{f"{field}__iexact": email})
    return query


def lock_people(customer_ids: list[int]) -> list[Customer]:
    """`lock_person` for a batch of people (the retention job), in the same order."""
    return people_lock(
        customer_ids=customer_ids, subscriptions=True, requests=True, customer_related=("user",)
    )


def erase_many(people: list[Customer], *, dry_run: bool = False) -> ErasureReport:
    """`erase` for a batch of people in a fixed number of statements whatever their number:
    the same rows deleted and emptied, the same fields left."""
    report = ErasureReport()
    ids = [person.pk for person in people]
    user_ids = [person.user_id for person in people if person.user_id]
    emails = {person.email for person in people if person.email} | {
        person.user.email for person in people if person.user_id and person.user.email
    }
    lockouts = [model.objects.filter(_any_email(emails, "username")) for model in LOCKOUT_MODELS]
    gone = [
        Address.objects.filter(customer_id__in=ids),
        Session.objects.filter(user_id__in=user_ids),
        EmailConfirmation.objects.filter(user_id__in=user_ids),
        *(lockouts if emails else []),
    ]
    inquiries = Inquiry.objects.filter(Q(customer_id__in=ids) | _any_email(emails, "email")).filter(
        ~Q(name="") | ~Q(email="") | ~Q(phone="") | ~Q(message="")
    )
    anonymised = [
        person.pk
        for person in people
        if person.user_id or any(getattr(person, name) for name in CUSTOMER_FIELDS)
    ]
    staff_logins = [
        person.user_id
        for person in people
        if person.user_id and (person.user.is_staff or person.user.is_superuser)
    ]
    report.anonymised["customers.Customer"] = len(anonymised)
    report.anonymised["customers.User"] = len(user_ids)
    if dry_run:
        for records in gone:
            report.deleted[records.model._meta.label] = records.count()
        report.anonymised["customers.Inquiry"] = inquiries.count()
        return report

    for records, count in zip(gone, delete_together(*gone), strict=True):
        report.deleted[records.model._meta.label] = count
    report.anonymised["customers.Inquiry"] = inquiries.update(**dict.fromkeys(INQUIRY_FIELDS, ""))
    now = timezone.now()
    if anonymised:
        Customer.objects.filter(pk__in=anonymised).update(
            **{name: None if name == "date_of_birth" else "" for name in CUSTOMER_FIELDS},
            user=None,
            status=Customer.Status.ERASED,
            erased_at=Coalesce("erased_at", Value(now)),
            updated_at=now,
        )
    if user_ids:
        User.objects.filter(pk__in=user_ids).update(
            email=Concat(
                Value("erased-"),
                Cast("pk", CharField()),
                Value("@erased.invalid"),
                output_field=CharField(),
            ),
            password=make_password(None),
            is_active=False,
            is_staff=False,
            is_superuser=False,
            last_login=None,
            email_confirmed_at=None,
        )
    if staff_logins:
        delete_together(
            User.groups.through.objects.filter(user_id__in=staff_logins),
            User.user_permissions.through.objects.filter(user_id__in=staff_logins),
        )
    return report


register_person_lock(lock_person, many=lock_people)
register(
    "customers",
    exporter=export,
    eraser=erase,
    erase_many=erase_many,
    covers={
        "customers.Customer": CUSTOMER_FIELDS,
        "customers.Address": ADDRESS_PERSONAL_FIELDS,
        "customers.Inquiry": INQUIRY_FIELDS,
        "customers.User": USER_FIELDS,
        "customers.EmailConfirmation": EMAIL_CONFIRMATION_FIELDS,
        **{model._meta.label: LOCKOUT_FIELDS for model in LOCKOUT_MODELS},
    },
    sections=(PROFILE, ADDRESSES, LOGIN, EMAIL_CONFIRMATIONS, INQUIRIES),
    # Last: the others read the person's row (their e-mail address, their login) first, and
    # order snapshots are erased before the customer row they point to. Each of them says so
    # (runs_before=("customers",)): this app names none of the apps above it.
    labels={
        "customers.User": _("login (e-mail address and password)"),
        "customers.Session": _("signed-in sessions"),
    },
)
