"""The mail providers' tracking webhooks, under /integrations/esp/ (anymail's own paths and
names). Only tracking: anymail's inbound webhooks are not routed.

An endpoint answers 404 until its secrets are set: without WEBHOOK_SECRET anymail would accept
anyone's post (it only warns), and Mailgun's signature check with an empty key would accept a
signature anyone can compute."""

from functools import wraps

from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.http import Http404
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def _configured(view, *required: str):
    @csrf_exempt
    @wraps(view)
    def configured(request, *args, **kwargs):
        anymail = getattr(settings, "ANYMAIL", {})
        if not all(anymail.get(name) for name in ("WEBHOOK_SECRET", *required)):
            raise Http404
        return view(request, *args, **kwargs)

    return configured


urlpatterns = [
    path(
        "amazon_ses/tracking/",
        _configured(AmazonSESTrackingWebhookView.as_view()),
        name="amazon_ses_tracking_webhook",
    ),
    path(
        "brevo/tracking/",
        _configured(BrevoTrackingWebhookView.as_view()),
        name="brevo_tracking_webhook",
    ),
    path(
        "mailgun/tracking/",
        _configured(MailgunTrackingWebhookView.as_view(), "MAILGUN_WEBHOOK_SIGNING_KEY"),
        name="mailgun_tracking_webhook",
    ),
    path(
        "postmark/tracking/",
        _configured(PostmarkTrackingWebhookView.as_view()),
        name="postmark_tracking_webhook",
    ),
    path(
        "sendgrid/tracking/",
        _configured(SendGridTrackingWebhookView.as_view()),
        name="sendgrid_tracking_webhook",
    ),
]
