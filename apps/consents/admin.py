from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.consents import selectors, services, transfers
from apps.consents.forms import OfflineConsentForm
from apps.consents.models import (
    ConsentEvent,
    ConsentState,
    ConsignedData,
    Contractor,
    ExternalTag,
    PolicyVersion,
    ProvisionRecord,
    Purpose,
    ReceiptRecord,
)
from apps.core import csvsafe
from apps.core.forms import form_apply_errors
from apps.customers.models import Customer


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_ja", "name_en", "requires_opt_in", "legal_basis",
                    "cookie_category", "is_active"]  # fmt: skip
    list_editable = ["is_active"]
    readonly_fields = ["scope_version"]

    def has_delete_permission(self, request, obj=None):
        return False  # events refer to purposes forever; deactivate instead


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "widens_purposes", "published_at"]
    filter_horizontal = ["widened_purposes"]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return [f.name for f in obj._meta.fields] + ["widened_purposes"]
        return ["published_at"]

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    @admin.action(description=_("Publish the selected version (takes effect now)"))
    def publish(self, request, queryset):
        for version in queryset.order_by("pk"):
            try:
                services.policy_version_publish(version=version, by=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {exc.messages[0]}", messages.ERROR)
            else:
                self.message_user(request, _("Published %s.") % version, messages.SUCCESS)


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_at", "customer_id", "visitor_id", "purpose", "action", "source"]
    # Only the purpose: Django's own join would also load every row's full consent wording.
    list_select_related = ["purpose"]
    list_filter = ["action", "source", "purpose"]
    search_fields = ["=customer__id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    change_list_template = "admin/consents/consentevent/change_list.html"
    fields = ["customer", "visitor_id", "purpose", "action", "policy_version", "source",
              "occurred_at", "actor", "wording_text", "wording_sha256"]  # fmt: skip
    readonly_fields = fields

    def get_urls(self):
        return [
            path(
                "record-offline/",
                self.admin_site.admin_view(self.record_offline_view),
                name="consents_consentevent_record_offline",
            ),
            *super().get_urls(),
        ]

    def record_offline_view(self, request):
        """A consent given by phone, letter or at the shop counter, entered by staff (support
        and the privacy officer). The ledger stays append-only: this adds an event through the
        ledger's service, it never edits one."""
        if not request.user.has_perm("consents.add_consentevent"):
            raise PermissionDenied
        form = OfflineConsentForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                event = services.consent_record_offline(
                    customer=data["customer"],
                    purpose=data["purpose"],
                    granted=data["action"] == "grant",
                    channel=data["channel"],
                    wording=data["wording"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form_apply_errors(form, exc)
            else:
                self.message_user(
                    request, _("Recorded in the consent ledger as event #%s.") % event.pk
                )
                return redirect("admin:consents_consentevent_change", event.pk)
        return TemplateResponse(
            request,
            "admin/consents/consentevent/offline_form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record a consent given offline"),
                "form": form,
                "opts": self.model._meta,
                "back": reverse("admin:consents_consentevent_changelist"),
            },
        )

    @admin.display(description=_("exact wording shown"))
    def wording_text(self, obj):
        return obj.wording.text

    @admin.display(description="SHA-256")
    def wording_sha256(self, obj):
        return obj.wording.sha256


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["id", "customer_id", "visitor_id", "purpose", "status", "updated_at"]
    list_select_related = ["purpose"]
    list_filter = ["status", "purpose"]
    show_full_result_count = False


@admin.register(ExternalTag)
class ExternalTagAdmin(admin.ModelAdmin):
    # An address typed without a scheme is read as https, the only scheme a tag may load.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "category", "recipient", "script_host", "is_active"]
    list_filter = ["category", "is_active"]
    fields = ["name", "category", "recipient", "data_sent", "purpose", "script_url",
              "opt_out_url", "is_active", "staff_note"]  # fmt: skip
    # Written once by the migration that replaced HTML snippets (what a disabled tag held).
    readonly_fields = ["staff_note"]

    @admin.display(description=_("loads from"))
    def script_host(self, obj):
        return obj.script_host or "-"


class ProvisionRecordForm(forms.ModelForm):
    class Meta:
        model = ProvisionRecord
        fields = [
            "recipient_name", "recipient_address", "recipient_representative", "contractor",
            "recipient_country", "country_system", "recipient_measures",
            "provided_on", "customers", "data_items", "basis", "legal_reference", "retain_until",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty: the recipient is in Japan (most are), as before the field existed. (A
        # recorded provision opens read-only, without the field.)
        if "recipient_country" in self.fields:
            self.fields["recipient_country"].required = False

    def clean_recipient_country(self):
        return self.cleaned_data.get("recipient_country") or transfers.HOME_COUNTRY

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                services.provision_record_check(
                    customers=list(cleaned.get("customers") or []),
                    basis=cleaned.get("basis"),
                    legal_reference=cleaned.get("legal_reference", ""),
                    contractor=cleaned.get("contractor"),
                    recipient_country=cleaned.get("recipient_country"),
                    country_system=cleaned.get("country_system", ""),
                    recipient_measures=cleaned.get("recipient_measures", ""),
                )
            except ValidationError as exc:
                form_apply_errors(self, exc)
        return cleaned


@admin.register(ProvisionRecord)
class ProvisionRecordAdmin(admin.ModelAdmin):
    form = ProvisionRecordForm
    list_display = ["id", "provided_on", "recipient_name", "recipient_country", "basis",
                    "retain_until"]  # fmt: skip
    list_filter = ["basis", "recipient_country"]
    search_fields = ["recipient_name", "legal_reference", "=customers__id"]
    raw_id_fields = ["customers", "contractor"]
    date_hierarchy = "provided_on"

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # kept for 3 years; the retention job removes them

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        record = services.provision_record_create(
            customers=list(data["customers"]),
            recipient_name=data["recipient_name"],
            recipient_address=data["recipient_address"],
            recipient_representative=data["recipient_representative"],
            contractor=data["contractor"],
            recipient_country=data["recipient_country"],
            country_system=data["country_system"],
            recipient_measures=data["recipient_measures"],
            provided_on=data["provided_on"],
            retain_until=data["retain_until"],
            data_items=data["data_items"],
            basis=data["basis"],
            legal_reference=data["legal_reference"],
            by=request.user,
        )
        obj.pk = record.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass  # the service has set the people concerned

    def get_urls(self):
        return [
            path(
                "export/<int:customer_id>.csv",
                self.admin_site.admin_view(self.export_view),
                name="consents_provisionrecord_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request, customer_id):
        """CSV of one person's third-party provision records (for a disclosure request).

        An export of personal data, so the shop's admin site records it in the access log
        (``log_export``, added to every admin by the audit app): consents knows nothing of
        the audit app."""
        if not request.user.has_perm("consents.view_provisionrecord"):
            raise PermissionDenied
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise Http404
        self.log_export(request, Customer, [customer.pk])
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="provision-records-customer-{customer.pk}.csv"'
        )
        response.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
        writer = csvsafe.writer(response)
        writer.writerow(
            ["provided_on", "recipient", "recipient_address", "representative", "data_items",
             "basis", "reference", "retain_until", "recipient_country", "country_system",
             "recipient_measures"]
        )  # fmt: skip
        for record in selectors.provision_records_for(customer=customer):
            writer.writerow(
                [record.provided_on, record.recipient_name, record.recipient_address,
                 record.recipient_representative, record.data_items, record.get_basis_display(),
                 record.legal_reference, record.retain_until, record.recipient_country,
                 record.country_system, record.recipient_measures]
            )  # fmt: skip
        return response


class SupervisionFilter(admin.SimpleListFilter):
    title = _("supervision")
    parameter_name = "supervision"

    def lookups(self, request, model_admin):
        return Contractor.Supervision.choices

    def queryset(self, request, queryset):
        if self.value() in Contractor.Supervision.values:
            today = timezone.localdate()
            # The register is small: the state is computed by the model, in one place.
            ids = [c.pk for c in queryset if c.supervision(today=today) == self.value()]
            return queryset.filter(pk__in=ids)
        return queryset


class ConsignedDataFilter(admin.SimpleListFilter):
    title = _("categories of data consigned")
    parameter_name = "data"

    def lookups(self, request, model_admin):
        return ConsignedData.choices

    def queryset(self, request, queryset):
        if self.value() in ConsignedData.values:
            # The JSON list's text holds each code in quotes, on SQLite and PostgreSQL alike.
            return queryset.filter(data_categories__icontains=f'"{self.value()}"')
        return queryset


class ContractorForm(forms.ModelForm):
    data_categories = forms.TypedMultipleChoiceField(
        label=_("categories of data consigned"),
        choices=ConsignedData.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Contractor
        fields = ["name", "address", "country", "country_system", "data_items",
                  "data_categories", "purpose", "safeguards", "contract_signed_on",
                  "contract_ends_on", "last_reviewed_on", "is_active"]  # fmt: skip


@admin.register(Contractor)
class ContractorAdmin(admin.ModelAdmin):
    form = ContractorForm
    list_display = ["name", "country_display", "categories", "last_reviewed_on",
                    "contract_ends_on", "supervision_flag", "is_active"]  # fmt: skip
    list_filter = [SupervisionFilter, ConsignedDataFilter, "is_active", "country"]

    class Media:
        css = {"all": ["consents/admin.css"]}

    @admin.display(description=_("country"), ordering="country")
    def country_display(self, obj):
        return transfers.country_name(obj.country)

    @admin.display(description=_("categories of data consigned"))
    def categories(self, obj):
        labels = dict(ConsignedData.choices)
        return ", ".join(str(labels.get(code, code)) for code in obj.data_categories) or "-"

    @admin.display(description=_("supervision"))
    def supervision_flag(self, obj):
        state = obj.supervision()
        label = Contractor.Supervision(state).label
        return format_html('<span class="supervision supervision-{}">{}</span>', state, label)


@admin.register(ReceiptRecord)
class ReceiptRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "received_on", "provider_name", "retain_until"]
    raw_id_fields = ["customers"]
    search_fields = ["provider_name", "=customers__id"]

    def has_delete_permission(self, request, obj=None):
        return False
