"""What a request's page shows beyond its fields: the person on file, the deadline, links to
its documents and printable answer, and an erasure's preview and report in people's words."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.customers.selectors import customer_is_erased
from apps.privacy_requests import selectors
from apps.privacy_requests.models import (
    DISCLOSURE_KINDS,
    ERASURE_KINDS,
    DisclosureForm,
    Kind,
    RequesterType,
    Status,
)
from apps.privacy_requests.services.carry_out import erasure_report_as_json
from apps.privacy_requests.services.notices import model_label


class RequestDisplayMixin:
    """The read-only columns of PrivacyRequestAdmin."""

    @admin.display(description=_("person on file"))
    def person_on_file(self, obj):
        """Who the request is linked to, beside who wrote it, for staff who may see personal
        data: a request linked to the wrong customer would disclose or erase someone else."""
        customer = obj.customer
        if customer is None:
            return "—"
        on_file = format_html(
            "{} · {} · {}",
            customer.full_name or "—",
            customer.email or "—",
            customer.get_status_display(),
        )
        if customer_is_erased(customer=customer):
            return on_file
        written = "".join(obj.requester_name.split())
        if obj.requester_type == RequesterType.PERSON and written != "".join(
            customer.full_name.split()
        ):
            return format_html(
                '{}<br><strong class="errornote">{}</strong>',
                on_file,
                _("The requester's name differs from the person on file: check the link."),
            )
        return on_file

    @admin.display(description=_("due"), ordering="due_on")
    def deadline(self, obj):
        if not obj.is_open:
            return format_html("{}", obj.due_on)
        if obj.is_overdue:
            return format_html(
                '<strong style="color:#fff;background:#ba2121;padding:0 .3em">{} ({})</strong>',
                obj.due_on,
                _("overdue"),
            )
        if obj.is_due_soon:
            return format_html(
                '<strong style="background:#ffc107;padding:0 .3em">{} ({})</strong>',
                obj.due_on,
                _("%d day(s) left") % obj.days_left,
            )
        return format_html("{}", obj.due_on)

    @admin.display(description=_("documents"))
    def documents_link(self, obj):
        if obj.pk is None or obj.status not in (Status.RECEIVED, Status.IDENTITY):
            return "—"
        url = reverse("admin:privacy_requests_privacyrequest_document_add", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Add a scanned document"))

    @staticmethod
    def _printable(obj) -> bool:
        """A letter can be printed once there is an answer: a purpose notification's generated
        text, or a paper disclosure that was verified, approved and is being carried out (its
        personal data is never printed before)."""
        if obj.kind == Kind.PURPOSE_NOTIFICATION:
            return bool(obj.answer)
        return (
            obj.kind in DISCLOSURE_KINDS
            and obj.disclosure_form == DisclosureForm.PAPER
            and obj.customer_id is not None
            and obj.status in (Status.CARRYING_OUT, Status.COMPLETED)
        )

    @admin.display(description=_("printable answer"))
    def printable_link(self, obj):
        if obj.pk is None or not self._printable(obj):
            return "—"
        url = reverse("admin:privacy_requests_privacyrequest_print", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("Printable page"))

    @admin.display(description=_("erasure preview (dry run)"))
    def erasure_preview(self, obj):
        if obj.pk is None or obj.kind not in ERASURE_KINDS:
            return "—"
        if obj.status not in (Status.REVIEW, Status.APPROVED):
            return "—"
        report = selectors.erasure_preview(privacy_request=obj)
        if report is None:
            return _("Nobody on file matches this request.")
        warning = ""
        if others := selectors.erasure_blocked_by(privacy_request=obj):
            warning = format_html(
                '<p class="errornote">{}</p>',
                _(
                    "Other requests of this person are still open (%(references)s): answer, "
                    "reject or withdraw them before carrying out the erasure."
                )
                % {"references": ", ".join(others)},
            )
        return format_html("{}{}", warning, _report_table(erasure_report_as_json(report)))

    @admin.display(description=_("erasure report"))
    def erasure_result(self, obj):
        """What the erasure did, as stored on the request: the same table as the preview."""
        if not obj.erasure_report:
            return "—"
        return _report_table(obj.erasure_report)


def _report_table(report: dict):
    """An erasure report (`erasure_report_as_json`) as a table in people's words: what happens
    to which data, how many rows, and why and until when anything is kept."""
    rows = [
        (_("delete"), capfirst(model_label(label)), count, "", "")
        for label, count in report.get("deleted", {}).items()
        if count
    ]
    rows += [
        (_("anonymise"), capfirst(model_label(label)), count, "", "")
        for label, count in report.get("anonymised", {}).items()
        if count
    ]
    rows += [
        (_("keep"), capfirst(model_label(label)), count, gettext(why), until or "—")
        for label, (count, why, until) in report.get("kept", {}).items()
        if count
    ]
    return format_html(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
        _("what happens"),
        _("data"),
        _("rows"),
        _("why it is kept"),
        _("until"),
        format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
        ),
    )
