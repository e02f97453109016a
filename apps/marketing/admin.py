from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core import csvsafe
from apps.core.admin_actions import ServiceActionsMixin
from apps.customers.models import Customer
from apps.marketing import evidence, selectors, services, suppression
from apps.marketing.forms import (
    CampaignForm,
    CampaignPreviewForm,
    EvidenceAddressForm,
    SuppressionAddForm,
    SuppressionCheckForm,
)
from apps.marketing.mail import PreparedCampaign, Recipient
from apps.marketing.models import (
    Campaign,
    Delivery,
    MailMagazine,
    Subscription,
    SuppressedAddress,
    SuppressionLift,
)


@admin.register(MailMagazine)
class MailMagazineAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "purpose", "from_email", "is_active", "eligible_now"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description=_("may receive it now"))
    def eligible_now(self, obj):
        return selectors.eligible_count(magazine=obj)


@admin.register(Campaign)
class CampaignAdmin(ServiceActionsMixin, admin.ModelAdmin):
    """Marketing writes, previews, tests and sends; they see counts, never recipients."""

    list_display = ["subject", "magazine", "status", "scheduled_at", "progress", "finished_at"]
    list_filter = ["status", "magazine"]
    search_fields = ["subject"]
    form = CampaignForm
    actions = ["send_now", "schedule", "resume_sending", "cancel", "send_test_to_me"]
    change_form_template = "admin/marketing/campaign/change_form.html"
    fields = ["magazine", "subject", "body_text", "body_html", "scheduled_at", "status",
              "eligible_now", "progress", "problems", "started_at", "finished_at"]  # fmt: skip
    readonly_fields = [
        "status",
        "eligible_now",
        "progress",
        "problems",
        "started_at",
        "finished_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Campaign.Status.DRAFT:
            return self.fields  # scheduled, sending or sent: read-only
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.status == Campaign.Status.DRAFT

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("may receive it now"))
    def eligible_now(self, obj):
        return selectors.eligible_count(magazine=obj.magazine) if obj.pk else "-"

    @admin.display(description=_("progress"))
    def progress(self, obj):
        if not obj.pk:
            return "-"
        p = selectors.campaign_progress(campaign=obj)
        text = gettext(
            "%(sent)s sent · %(skipped)s skipped · %(failed)s failed · %(unknown)s unknown · "
            "%(pending)s pending of %(total)s"
        ) % {**p, "pending": p["pending"] + p["sending"]}
        if obj.status == Campaign.Status.SENDING and obj.fanned_out_at is None:
            # The fan-out writes the rows slice by slice (and sends them meanwhile): the total
            # is still growing.
            text = gettext("preparing recipients (%(total)s so far)") % p + " · " + text
        if p["waiting"]:
            text += " · " + gettext(
                "%(waiting)s waiting for the mail server (next try %(next)s)"
            ) % {
                "waiting": p["waiting"],
                "next": date_format(timezone.localtime(p["next_attempt_at"]), "Y-m-d H:i:s"),
            }
        return format_html('<span class="campaign-progress">{}</span>', text) + format_html(
            ' <span class="campaign-feedback">{}</span>',
            gettext(
                "(reported by the mail provider: %(bounced)s bounced · %(complained)s complained)"
            )
            % p,
        )

    @admin.display(description=_("before it can be sent"))
    def problems(self, obj):
        if not obj.pk:
            return "-"
        found = services.campaign_problems(obj)
        return "; ".join(str(p) for p in found) if found else _("Ready to send")

    @admin.action(description=_("Send now"), permissions=["change"])
    def send_now(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            lambda c: services.campaign_send_now(campaign=c, by=request.user),
            _("sending started"),
        )

    @admin.action(description=_("Schedule at its “send at” time"), permissions=["change"])
    def schedule(self, request, queryset):
        def run(campaign):
            if campaign.scheduled_at is None:
                raise ValidationError(_("Set “send at” first."))
            services.campaign_schedule(campaign=campaign, at=campaign.scheduled_at, by=request.user)

        self.apply_service(request, queryset, run, _("scheduled"))

    @admin.action(description=_("Resume sending (retry now)"), permissions=["change"])
    def resume_sending(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            lambda c: services.campaign_resume(campaign=c, by=request.user),
            _("sending resumed"),
        )

    @admin.action(description=_("Cancel"), permissions=["change"])
    def cancel(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            lambda c: services.campaign_cancel(campaign=c, by=request.user),
            _("cancelled"),
        )

    @admin.action(description=_("Send a test to my own address"), permissions=["view"])
    def send_test_to_me(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            lambda c: services.campaign_send_test(campaign=c, to_address=request.user.email),
            _("test sent to %s") % request.user.email,
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="marketing_campaign_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        campaign = get_object_or_404(Campaign.objects.select_related("magazine"), pk=pk)
        if not self.has_view_permission(request, campaign):
            raise Http404
        # A sample name typed by staff: by POST, so it never sits in a URL or a server log.
        form = CampaignPreviewForm(request.POST or None)
        typed = form.cleaned_data["name"] if form.is_valid() else ""
        raw, _mid = PreparedCampaign(campaign).render(
            Recipient(address="recipient@example.com", name=typed or "山田 花子",
                      subscription_id=0, delivery_id=0)
        )  # fmt: skip
        import email
        from email import policy

        message = email.message_from_bytes(raw, policy=policy.default)
        return TemplateResponse(
            request,
            "admin/marketing/campaign/preview.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Preview: %s") % campaign.subject,
                "campaign": campaign,
                "form": form,
                "typed_name": typed,
                "headers": [(k, v) for k, v in message.items()],
                "text": message.get_body(("plain",)).get_content(),
                "html": message.get_body(("html",)).get_content(),
                "back": reverse("admin:marketing_campaign_change", args=[campaign.pk]),
                "opts": self.model._meta,
            },
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """One mail to one person, read-only, and why it was allowed: the consent event the fan-out
    recorded (the privacy officer; marketing has no permission on deliveries)."""

    list_display = ["id", "campaign", "customer_id", "status", "sent_at", "consent_event_id"]
    list_select_related = ["campaign"]
    list_filter = ["status"]
    search_fields = ["=campaign__id", "=customer__id"]
    show_full_result_count = False
    fields = ["campaign", "customer", "status", "skip_reason", "sent_at", "feedback",
              "feedback_at", "allowed_by", "consent_source", "consent_occurred_at",
              "consent_policy_version", "consent_actor", "consent_wording"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("consent_event__wording", "consent_event__policy_version")
        )

    @admin.display(description=_("allowed by consent event"))
    def allowed_by(self, obj):
        if obj.consent_event_id is None:
            return gettext("Not recorded (sent before the consent event was kept on deliveries)")
        url = reverse("admin:consents_consentevent_change", args=[obj.consent_event_id])
        return format_html('<a href="{}">{}</a>', url, obj.consent_event)

    @admin.display(description=_("consent given through"))
    def consent_source(self, obj):
        return obj.consent_event.get_source_display() if obj.consent_event else "-"

    @admin.display(description=_("consent given at"))
    def consent_occurred_at(self, obj):
        return obj.consent_event.occurred_at if obj.consent_event else "-"

    @admin.display(description=_("under policy version"))
    def consent_policy_version(self, obj):
        event = obj.consent_event
        return event.policy_version if event and event.policy_version else "-"

    @admin.display(description=_("recorded by staff user"))
    def consent_actor(self, obj):
        return (
            obj.consent_event.actor_id if obj.consent_event and obj.consent_event.actor_id else "-"
        )

    @admin.display(description=_("exact wording shown"))
    def consent_wording(self, obj):
        return obj.consent_event.wording.text if obj.consent_event else "-"


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["id", "magazine", "customer_id", "status", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status", "magazine"]
    readonly_fields = ["magazine", "customer", "status", "email_hash", "confirmed_at",
                       "unsubscribed_at", "created_at"]  # fmt: skip
    exclude = ["confirm_token_hash"]
    actions = ["unsubscribe"]
    change_list_template = "admin/marketing/subscription/change_list.html"

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return [
            path(
                "evidence/",
                self.admin_site.admin_view(self.evidence_view),
                name="marketing_subscription_evidence",
            ),
            *super().get_urls(),
        ]

    def evidence_view(self, request):
        """The record of consent for one address, as CSV: the privacy officer only (the role
        that may export personal data), recorded in the access log (``log_export``, added to
        every admin by the audit app)."""
        if not request.user.has_perm("audit.export_personal_data"):
            raise PermissionDenied
        form = EvidenceAddressForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            self.log_export(request, Customer, form.customer_ids)
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            stamp = timezone.localdate().isoformat()
            response["Content-Disposition"] = (
                f'attachment; filename="record-of-consent-{stamp}.csv"'
            )
            response.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
            writer = csvsafe.writer(response)
            writer.writerow([evidence.KEEP_UNTIL_RULE])
            writer.writerow(evidence.HEADER)
            rows = evidence.evidence_rows(
                customer_ids=form.customer_ids, address=form.cleaned_data["email"]
            )
            for row in rows:
                writer.writerow(row)
            return response
        return TemplateResponse(
            request,
            "admin/marketing/subscription/evidence_form.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Record of consent for an address (CSV)"),
                "form": form,
                "opts": self.model._meta,
                "back": reverse("admin:marketing_subscription_changelist"),
            },
        )

    @admin.action(description=_("Unsubscribe (at the person's request)"))
    def unsubscribe(self, request, queryset):
        from apps.consents.models import Source

        for subscription in queryset:
            services.subscription_unsubscribe(
                subscription=subscription, source=Source.ADMIN, actor=request.user
            )


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    """Hashes and reasons only. Staff add an address by typing it (hashed on the spot, never
    stored) and can check whether one is suppressed; rows are never edited here."""

    list_display = ["id", "reason", "magazine", "created_at"]
    list_select_related = ["magazine"]  # may be empty: Django's own join would skip it
    list_filter = ["reason"]
    readonly_fields = ["address_hash", "magazine", "reason", "created_at"]
    change_list_template = "admin/marketing/suppressedaddress/change_list.html"

    def get_urls(self):
        return [
            path(
                "check/",
                self.admin_site.admin_view(self.check_view),
                name="marketing_suppressedaddress_check",
            ),
            *super().get_urls(),
        ]

    def _form_page(self, request, form, title, **context):
        return TemplateResponse(
            request,
            "admin/marketing/suppressedaddress/address_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "opts": self.model._meta,
                "back": reverse("admin:marketing_suppressedaddress_changelist"),
                **context,
            },
        )

    def add_view(self, request, form_url="", extra_context=None):
        # By POST only, so a typed address never sits in a URL or a server log.
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SuppressionAddForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                added = suppression.suppression_add_by_hand(
                    address=form.cleaned_data["address"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error("address", exc)
            else:
                self.message_user(
                    request,
                    _("The address is now suppressed for every mail magazine.")
                    if added
                    else _("The address was already suppressed for every mail magazine."),
                    messages.SUCCESS,
                )
                return redirect("admin:marketing_suppressedaddress_changelist")
        return self._form_page(
            request, form, _("Suppress an address"), submit=_("Suppress the address")
        )

    def check_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SuppressionCheckForm(request.POST if request.method == "POST" else None)
        answer = None
        if form.is_valid():
            suppressed = selectors.is_suppressed(address=form.cleaned_data["address"])
            answer = (
                _("Yes: this address receives no mail magazine.")
                if suppressed
                else _("No: this address is not suppressed for every mail magazine.")
            )
        return self._form_page(
            request,
            form,
            _("Is an address suppressed?"),
            submit=_("Check the address"),
            answer=answer,
        )


@admin.register(SuppressionLift)
class SuppressionLiftAdmin(admin.ModelAdmin):
    """Evidence of each erasure suppression lifted by a confirmed re-subscription."""

    list_display = ["id", "reason", "suppressed_at", "lifted_at", "magazine", "consent_event_id"]
    readonly_fields = ["address_hash", "reason", "suppressed_at", "lifted_at", "magazine",
                       "consent_event"]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
