"""The mail providers' tracking webhooks, under /integrations/esp/ (anymail's own paths and
names). Only tracking: anymail's inbound webhooks are not routed.

An endpoint answers 404 until its secrets are set: without WEBHOOK_SECRET anymail would accept
anyone's post (it only warns), and Mailgun's signature check with an empty key would accept a
signature anyone can compute."""

import json
from functools import wraps

from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.http import Http404, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from apps.marketing import sns


class SignedSESTrackingWebhookView(AmazonSESTrackingWebhookView):
    """Anymail's Amazon SES webhook, with the SNS signature checked after its own checks
    (basic auth first, so an unauthenticated post never makes us download anything)."""

    @staticmethod
    def _parse_sns_message(request):
        # Anymail's own puts the whole body in its error (and so in the error log); a body that
        # is not JSON is simply refused.
        try:
            return AmazonSESTrackingWebhookView._parse_sns_message(request)
        except AnymailAPIError:
            raise AnymailWebhookValidationFailure("Malformed SNS message body") from None

    def run_validators(self, request):
        super().run_validators(request)
        if not settings.ESP_SES_VERIFY_SNS_SIGNATURE:
            return
        try:
            sns.verify(self._parse_sns_message(request))
        except sns.SNSSignatureError as exc:
            raise AnymailWebhookValidationFailure(f"Amazon SNS message refused: {exc}") from None


def _configured(view, *required: str):
    @csrf_exempt
    @wraps(view)
    def configured(request, *args, **kwargs):
        anymail = getattr(settings, "ANYMAIL", {})
        if not all(anymail.get(name) for name in ("WEBHOOK_SECRET", *required)):
            raise Http404
        try:
            return view(request, *args, **kwargs)
        except (json.JSONDecodeError, UnicodeDecodeError):
            # A body that is not the provider's JSON: refused, and not retried by it.
            return HttpResponseBadRequest("malformed body", content_type="text/plain")

    return configured


urlpatterns = [
    path(
        "amazon_ses/tracking/",
        _configured(SignedSESTrackingWebhookView.as_view()),
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
