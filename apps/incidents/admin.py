from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.incidents import services
from apps.incidents.models import Incident, IncidentNotice
from apps.incidents.selectors import incident_ids_in_state, incident_people_notified


class DeadlineFilter(admin.SimpleListFilter):
    title = _("reporting deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return Incident.DeadlineState.choices

    def queryset(self, request, queryset):
        if self.value() in Incident.DeadlineState.values:
            ids = incident_ids_in_state(
                state=self.value(), today=timezone.localdate(), queryset=queryset
            )
            return queryset.filter(pk__in=ids)
        return queryset


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "title",
            "discovered_at",
            "description",
            "data_items",
            "people_affected",
            "sensitive_data",
            "card_data",
            "unauthorised_access",
            "strongly_encrypted",
            "preliminary_reported_on",
            "final_reported_on",
            "involves_eu_people",
            "aware_at",
            "eu_unlikely_risk",
            "eu_high_risk",
            "authority_notified_at",
        ]

    def clean(self):
        cleaned = super().clean()
        errors = services.incident_errors(
            discovered_at=cleaned.get("discovered_at"),
            preliminary_reported_on=cleaned.get("preliminary_reported_on"),
            final_reported_on=cleaned.get("final_reported_on"),
            aware_at=cleaned.get("aware_at"),
            authority_notified_at=cleaned.get("authority_notified_at"),
        )
        for field, message in errors.items():
            self.add_error(field, message)
        return cleaned


class IncidentNoticeFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        discovered_at = self.instance.discovered_at
        for form in self.extra_forms:
            sent_at = form.cleaned_data.get("sent_at") if form.has_changed() else None
            if sent_at and discovered_at and sent_at < discovered_at:
                form.add_error("sent_at", _("A notice cannot precede the discovery."))


class IncidentNoticeInline(admin.TabularInline):
    """Notices are a log: added, never edited or deleted."""

    model = IncidentNotice
    formset = IncidentNoticeFormSet
    extra = 0
    fields = ["sent_at", "channel", "recipients", "summary"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    # The report deadlines right after the title: they are the register's point and must be
    # in view at 1280 px (static/css/admin-layout.css).
    list_display = [
        "title",
        "deadline_flag",
        "preliminary_due_display",
        "final_due_display",
        "gdpr_authority_due_display",
        "report_required",
        "discovered_on",
    ]  # the number of people affected is on the incident's page (the list fits 1280 px)
    list_display_links = ["title"]
    list_filter = [
        DeadlineFilter,
        "sensitive_data",
        "card_data",
        "unauthorised_access",
        "involves_eu_people",
    ]
    search_fields = ["title"]
    date_hierarchy = "discovered_at"
    readonly_fields = [
        "report_required",
        "deadline_flag",
        "preliminary_due_display",
        "final_due_display",
        "people_notified",
        "gdpr_authority_due_display",
        "gdpr_communication",
    ]
    fieldsets = [
        (None, {"fields": ["title", "discovered_at", "description", "data_items"]}),
        (
            _("Facts that decide reporting (APPI Art. 26)"),
            {
                "fields": [
                    "people_affected",
                    "sensitive_data",
                    "card_data",
                    "unauthorised_access",
                    "strongly_encrypted",
                ]
            },
        ),
        (
            _("Reports to the Personal Information Protection Commission"),
            {
                "fields": [
                    "report_required",
                    "deadline_flag",
                    ("preliminary_due_display", "preliminary_reported_on"),
                    ("final_due_display", "final_reported_on"),
                    "people_notified",
                ]
            },
        ),
        (
            _("People in the EU/EEA (GDPR Art. 33 and 34)"),
            {
                "fields": [
                    "involves_eu_people",
                    "aware_at",
                    "eu_unlikely_risk",
                    "eu_high_risk",
                    ("gdpr_authority_due_display", "authority_notified_at"),
                    "gdpr_communication",
                ]
            },
        ),
    ]
    inlines = [IncidentNoticeInline]

    class Media:
        css = {"all": ["incidents/admin.css", "css/admin-layout.css"]}

    def has_delete_permission(self, request, obj=None):
        # The register is a legal record: incidents are never deleted.
        return False

    @admin.display(boolean=True, description=_("report required"))
    def report_required(self, obj):
        return obj.must_report if obj.pk else None

    @admin.display(description=_("deadline"))
    def deadline_flag(self, obj):
        if not obj.pk:
            return "-"
        state = obj.deadline_state()
        label = Incident.DeadlineState(state).label
        return format_html('<span class="deadline deadline-{}">{}</span>', state, label)

    @admin.display(description=_("preliminary report due"), ordering="discovered_at")
    def preliminary_due_display(self, obj):
        return obj.preliminary_due if obj.pk and obj.must_report else "-"

    @admin.display(description=_("final report due"))
    def final_due_display(self, obj):
        return obj.final_due if obj.pk and obj.must_report else "-"

    @admin.display(description=_("discovered on"), ordering="discovered_at")
    def discovered_on(self, obj):
        return obj.discovered_on

    @admin.display(description=_("people affected"), ordering="people_affected")
    def people(self, obj):
        return obj.people_affected

    @admin.display(description=_("supervisory authority due (GDPR, 72 h)"))
    def gdpr_authority_due_display(self, obj):
        if not (obj.pk and obj.gdpr_must_notify):
            return "-"
        return timezone.localtime(obj.gdpr_authority_due).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("communication to the people (GDPR Art. 34)"))
    def gdpr_communication(self, obj):
        if not (obj.pk and obj.gdpr_must_communicate):
            return _("Not required")
        if incident_people_notified(incident=obj):
            return _("Sent (see the notices below)")
        return format_html(
            '<span class="deadline deadline-overdue">{}</span>',
            _("Required without undue delay: record the notice below"),
        )

    @admin.display(description=_("people notified so far"))
    def people_notified(self, obj):
        return incident_people_notified(incident=obj) if obj.pk else 0

    def save_model(self, request, obj, form, change):
        facts = services.IncidentFacts(
            **{name: form.cleaned_data[name] for name in services.INCIDENT_FIELDS}
        )
        if change:
            saved = services.incident_update(incident=obj, facts=facts)
        else:
            saved = services.incident_create(created_by_id=request.user.pk, facts=facts)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not IncidentNotice:
            return super().save_formset(request, form, formset, change)
        for notice_form in formset.extra_forms:
            if notice_form.has_changed() and notice_form.is_valid():
                data = notice_form.cleaned_data
                services.incident_notice_record(
                    incident=form.instance,
                    channel=data["channel"],
                    recipients=data["recipients"],
                    summary=data["summary"],
                    sent_at=data["sent_at"],
                    sent_by_id=request.user.pk,
                )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        return None
