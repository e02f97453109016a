from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.admin_actions import ServiceActionsMixin
from apps.marketing import selectors, services
from apps.marketing.forms import CampaignForm
from apps.marketing.mail import PreparedCampaign, Recipient
from apps.marketing.models import Campaign, MailMagazine, Subscription, SuppressedAddress


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
        if p["waiting"]:
            text += " · " + gettext(
                "%(waiting)s waiting for the mail server (next try %(next)s)"
            ) % {
                "waiting": p["waiting"],
                "next": date_format(timezone.localtime(p["next_attempt_at"]), "Y-m-d H:i:s"),
            }
        return format_html('<span class="campaign-progress">{}</span>', text)

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
        name = request.POST.get("name") or "山田 花子"
        raw, _mid = PreparedCampaign(campaign).render(
            Recipient(address="recipient@example.com", name=name[:100], subscription_id=0,
                      delivery_id=0)
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
                "headers": [(k, v) for k, v in message.items()],
                "text": message.get_body(("plain",)).get_content(),
                "html": message.get_body(("html",)).get_content(),
                "back": reverse("admin:marketing_campaign_change", args=[campaign.pk]),
                "opts": self.model._meta,
            },
        )


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["id", "magazine", "customer_id", "status", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status", "magazine"]
    readonly_fields = ["magazine", "customer", "status", "email_hash", "confirmed_at",
                       "unsubscribed_at", "created_at"]  # fmt: skip
    exclude = ["confirm_token_hash"]
    actions = ["unsubscribe"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Unsubscribe (at the person's request)"))
    def unsubscribe(self, request, queryset):
        from apps.consents.models import Source

        for subscription in queryset:
            services.subscription_unsubscribe(subscription=subscription, source=Source.ADMIN)


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    list_display = ["id", "reason", "magazine", "created_at"]
    list_select_related = ["magazine"]  # may be empty: Django's own join would skip it
    list_filter = ["reason"]
    readonly_fields = ["address_hash", "magazine", "reason", "created_at"]

    def has_add_permission(self, request):
        return False
