"""The mail providers' tracking webhooks (django-anymail) reach the suppression list.

A campaign is sent for real (pipeline + SMTP sink); each provider's bounce or complaint report
is then posted to our endpoint as that provider documents it, naming the Message-ID the mail
went out with. Only anymail's and our own code run: nothing is mocked."""

import base64
import datetime
import hashlib
import hmac
import json
import logging
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from django.core.cache import cache
from django.urls import reverse

from apps.marketing import pipeline, selectors
from apps.marketing.models import Campaign, Delivery, SuppressedAddress
from apps.marketing.selectors import address_hash, is_suppressed
from tests.marketing.helpers import campaign, magazine, received_by, subscriber

pytestmark = [
    pytest.mark.django_db,
    # SendGrid's webhook warns that anymail no longer tests it; it is still ours to support.
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]

SECRET = "esp-hook:9f2c1e7a5b"
MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
ESPS = ["amazon_ses", "sendgrid", "postmark", "brevo", "mailgun"]
SNS_CERT_URL = "https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem"


def _sns_signer():
    """A key and certificate standing in for Amazon SNS's (whose private key we cannot have)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM)


SNS_KEY, SNS_CERT_PEM = _sns_signer()
OTHER_SNS_KEY, _pem = _sns_signer()


def _public_key_setting(private_key) -> str:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": [SECRET],
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": _public_key_setting(SENDGRID_KEY),
    }
    # As if downloaded from SigningCertURL before (the download itself needs the internet).
    cache.set("sns-cert:" + SNS_CERT_URL, SNS_CERT_PEM)
    return settings.ANYMAIL


@pytest.fixture
def sent(smtp_settings):
    """One campaign sent to two readers: (the mail's Message-ID, its address, the magazine)."""
    mag = magazine()
    reader = subscriber(mag, email="taro.bounce@example.jp")
    subscriber(mag, email="hanako@example.jp")
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    for lo, hi in pipeline.campaign_fanout(campaign_id=c.pk):
        pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    (message,) = [m["message"] for m in smtp_settings.messages if reader.email in m["to"]]
    smtp_settings.messages.clear()
    return message["Message-ID"], reader.email, mag


def _sns_sign(body, *, key=SNS_KEY, version="2"):
    fields = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    signed = "".join(f"{name}\n{body[name]}\n" for name in fields if name in body).encode()
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303 (SNS v1)
    signature = key.sign(signed, padding.PKCS1v15(), algorithm)
    body.update(SignatureVersion=version, Signature=base64.b64encode(signature).decode())
    return body


def _ses(kind, message_id, address, *, sign=_sns_sign):
    mail = {
        "timestamp": "2026-12-01T12:00:00.000Z",
        "source": "news@shop.test",
        "messageId": "0100018c2b3e4f5a-1d2c3b4a-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000",
        "destination": [address],
        "headersTruncated": False,
        "headers": [{"name": "Message-ID", "value": message_id}],
        "commonHeaders": {"from": ["news@shop.test"], "to": [address], "messageId": message_id},
    }
    if kind == "complaint":
        ses_event = {
            "notificationType": "Complaint",
            "complaint": {
                "complainedRecipients": [{"emailAddress": address}],
                "timestamp": "2026-12-01T12:05:00.000Z",
                "feedbackId": "0100018c-complaint-000000",
                "complaintFeedbackType": "abuse",
            },
            "mail": mail,
        }
    else:
        bounce_type, sub_type, code = {
            "hard": ("Permanent", "General", "smtp; 550 5.1.1 user unknown"),
            "soft": ("Transient", "MailboxFull", "smtp; 452 4.2.2 mailbox full"),
        }[kind]
        ses_event = {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": bounce_type,
                "bounceSubType": sub_type,
                "bouncedRecipients": [
                    {"emailAddress": address, "action": "failed", "diagnosticCode": code}
                ],
                "timestamp": "2026-12-01T12:01:00.000Z",
                "feedbackId": "0100018c-bounce-000000",
            },
            "mail": mail,
        }
    sns_id = str(uuid.uuid4())
    body = {
        "Type": "Notification",
        "MessageId": sns_id,
        "TopicArn": "arn:aws:sns:ap-northeast-1:123456789012:ses-feedback",
        "Message": json.dumps(ses_event),
        "Timestamp": "2026-12-01T12:01:01.000Z",
        "SigningCertURL": SNS_CERT_URL,
        "UnsubscribeURL": "https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe",
    }
    body = sign(body)
    headers = {"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": sns_id}
    return json.dumps(body).encode(), headers


def _sendgrid(kind, message_id, address, *, key=SENDGRID_KEY):
    event = {
        "email": address,
        "timestamp": 1764590400,
        "smtp-id": message_id,
        "sg_event_id": "sg-" + uuid.uuid4().hex,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "category": ["newsletter"],
    }
    if kind == "complaint":
        event["event"] = "spamreport"
    else:
        event.update(
            event="bounce",
            type={"hard": "bounce", "soft": "blocked"}[kind],
            status={"hard": "5.1.1", "soft": "4.7.1"}[kind],
            reason="550 5.1.1 The email account that you tried to reach does not exist",
        )
    body = json.dumps([event]).encode()
    timestamp = "1764590401"
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }
    return body, headers


def _postmark(kind, message_id, address):
    # Postmark reports its own MessageID; ours comes back as metadata set when sending
    # (X-PM-Metadata-anymail_id), which anymail reads as the message id.
    event = {
        "ID": 4323372036854775807,
        "MessageID": str(uuid.uuid4()),
        "ServerID": 23,
        "MessageStream": "broadcast",
        "Email": address,
        "From": "news@shop.test",
        "BouncedAt": "2026-12-01T21:01:00Z",
        "Subject": "秋の新商品のご案内",
        "Tag": "",
        "Metadata": {"anymail_id": message_id},
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
    }
    event.update(
        {
            "hard": {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1,
                     "Name": "Hard bounce", "Details": "smtp;550 5.1.1 user unknown"},
            "soft": {"RecordType": "Bounce", "Type": "SoftBounce", "TypeCode": 4096,
                     "Name": "Soft bounce/Undeliverable", "Details": "smtp;452 mailbox full"},
            "complaint": {"RecordType": "SpamComplaint", "Type": "SpamComplaint",
                          "TypeCode": 512, "Name": "Spam complaint", "Details": ""},
        }[kind]
    )  # fmt: skip
    return json.dumps(event).encode(), {}


def _brevo(kind, message_id, address):
    event = {
        "event": {"hard": "hard_bounce", "soft": "soft_bounce", "complaint": "spam"}[kind],
        "email": address,
        "id": 1234567,
        "date": "2026-12-02 06:01:00",
        "ts": 1764590460,
        "message-id": message_id,
        "ts_event": 1764590460,
        "ts_epoch": 1764590460123,
        "subject": "秋の新商品のご案内",
        "sending_ip": "185.41.28.109",
    }
    if kind != "complaint":
        event["reason"] = "550 5.1.1 user unknown" if kind == "hard" else "452 mailbox full"
    return json.dumps(event).encode(), {}


def _mailgun(kind, message_id, address, *, key=MAILGUN_KEY):
    timestamp, token = "1764590460", uuid.uuid4().hex
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    event_data = {
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "timestamp": 1764590460.123,
        "recipient": address,
        "message": {
            "headers": {
                "to": address,
                "message-id": message_id.strip("<>"),  # Mailgun reports it without < >
                "from": "news@shop.test",
                "subject": "秋の新商品のご案内",
            }
        },
        "tags": [],
        "user-variables": {},
    }
    if kind == "complaint":
        event_data.update(event="complained", **{"log-level": "warn"})
    else:
        event_data.update(
            {
                "event": "failed",
                "log-level": "error",
                "severity": {"hard": "permanent", "soft": "temporary"}[kind],
                "reason": "bounce" if kind == "hard" else "generic",
                "delivery-status": {
                    "code": 550 if kind == "hard" else 452,
                    "message": "5.1.1 user unknown" if kind == "hard" else "4.2.2 full",
                    "description": "",
                    "attempt-no": 1,
                },
            }
        )
    body = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event_data,
    }
    return json.dumps(body).encode(), {}


BUILD = {
    "amazon_ses": _ses,
    "sendgrid": _sendgrid,
    "postmark": _postmark,
    "brevo": _brevo,
    "mailgun": _mailgun,
}


def _basic(secret=SECRET) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


def _post(client, esp, body, headers, *, auth=SECRET):
    if auth:
        headers = {**headers, "Authorization": _basic(auth)}
    return client.post(
        reverse(f"{esp}_tracking_webhook"),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def _state():
    return (
        sorted(SuppressedAddress.objects.values_list("address_hash", "magazine_id", "reason")),
        sorted(Delivery.objects.values_list("pk", "status", "feedback", "feedback_at")),
    )


@pytest.mark.parametrize("esp", ESPS)
@pytest.mark.parametrize(("kind", "reason"), [("hard", "bounced"), ("complaint", "complained")])
def test_a_hard_bounce_or_complaint_suppresses_and_marks_the_delivery(
    client, sent, esp, kind, reason, caplog
):
    message_id, address, _mag = sent
    caplog.set_level(logging.DEBUG)
    body, headers = BUILD[esp](kind, message_id, address)
    response = _post(client, esp, body, headers)
    assert response.status_code == 200
    row = SuppressedAddress.objects.get()
    assert row.address_hash == address_hash(address) and row.reason == reason
    assert row.magazine_id is None  # every magazine
    delivery = Delivery.objects.get(message_id=message_id)
    assert delivery.status == "sent"  # the pipeline's record stays as it was
    assert delivery.feedback == reason
    assert Delivery.objects.exclude(pk=delivery.pk).get().feedback == ""
    progress = selectors.campaign_progress(campaign=delivery.campaign)
    assert progress[reason] == 1 and progress["sent"] == 2
    assert is_suppressed(address=address.upper())
    # The address is in no log line (nor its local part).
    assert "esp feedback" in caplog.text and "taro.bounce" not in caplog.text

    before = _state()
    assert _post(client, esp, body, headers).status_code == 200  # the provider retries
    assert _state() == before


@pytest.mark.parametrize("esp", ESPS)
@pytest.mark.parametrize("auth", [None, "esp-hook:wrong"])
def test_without_the_secret_the_report_is_refused_and_changes_nothing(client, sent, esp, auth):
    message_id, address, _mag = sent
    body, headers = BUILD[esp]("hard", message_id, address)
    before = _state()
    response = _post(client, esp, body, headers, auth=auth)
    assert response.status_code in (400, 401, 403)
    assert _state() == before and not SuppressedAddress.objects.exists()


@pytest.mark.parametrize(
    ("esp", "forged"),
    [
        ("mailgun", lambda mid, addr: _mailgun("hard", mid, addr, key="key-not-the-real-one")),
        ("sendgrid", lambda mid, addr: _sendgrid("hard", mid, addr, key=OTHER_KEY)),
    ],
)
def test_a_wrong_provider_signature_is_refused_even_with_the_secret(client, sent, esp, forged):
    message_id, address, _mag = sent
    body, headers = forged(message_id, address)
    before = _state()
    assert _post(client, esp, body, headers).status_code == 400
    assert _state() == before


@pytest.mark.parametrize(
    "forge",
    [
        lambda body: _sns_sign(body, key=OTHER_SNS_KEY),  # not Amazon's key
        lambda body: {**_sns_sign(body), "TopicArn": "arn:aws:sns:ap-northeast-1:666:x"},
        lambda body: {**_sns_sign(body), "SignatureVersion": "3"},
        lambda body: {**_sns_sign(body), "Signature": "not base64!"},
        lambda body: _sns_sign({**body, "SigningCertURL": "https://sns.evil.test/cert.pem"}),
        lambda body: _sns_sign(
            {**body, "SigningCertURL": "http://sns.ap-northeast-1.amazonaws.com/x.pem"}
        ),
        lambda body: body,  # unsigned
    ],
)
def test_an_amazon_sns_message_without_amazons_signature_is_refused(client, sent, forge):
    message_id, address, _mag = sent
    body, headers = _ses("hard", message_id, address, sign=forge)
    assert _post(client, "amazon_ses", body, headers).status_code == 400
    assert not SuppressedAddress.objects.exists()


def test_a_malformed_body_is_refused_without_being_logged(client, sent, caplog):
    _message_id, address, _mag = sent
    body = f"not json, but {address}".encode()
    headers = {"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": "1"}
    assert _post(client, "amazon_ses", body, headers).status_code == 400
    for esp in ("postmark", "brevo"):
        assert _post(client, esp, b'{"Email": "%s", ' % address.encode(), {}).status_code == 400
    assert address not in caplog.text and "taro.bounce" not in caplog.text
    assert not SuppressedAddress.objects.exists()


def test_sns_signature_version_1_and_topic_allow_list(client, sent, settings):
    message_id, address, _mag = sent
    settings.ESP_SES_TOPIC_ARNS = ["arn:aws:sns:ap-northeast-1:123456789012:other-topic"]
    body, headers = _ses("hard", message_id, address)
    assert _post(client, "amazon_ses", body, headers).status_code == 400  # not our topic
    settings.ESP_SES_TOPIC_ARNS = ["arn:aws:sns:ap-northeast-1:123456789012:ses-feedback"]
    body, headers = _ses("hard", message_id, address, sign=lambda b: _sns_sign(b, version="1"))
    assert _post(client, "amazon_ses", body, headers).status_code == 200
    assert SuppressedAddress.objects.filter(reason="bounced").count() == 1


def test_a_signed_body_changed_on_the_way_is_refused(client, sent):
    message_id, address, _mag = sent
    body, headers = _sendgrid("soft", message_id, address)
    tampered = body.replace(b'"blocked"', b'"bounce"')
    assert _post(client, "sendgrid", tampered, headers).status_code == 400
    assert not SuppressedAddress.objects.exists()


@pytest.mark.parametrize("esp", ESPS)
def test_a_soft_bounce_suppresses_nothing(client, sent, esp):
    message_id, address, _mag = sent
    body, headers = BUILD[esp]("soft", message_id, address)
    assert _post(client, esp, body, headers).status_code == 200
    assert not SuppressedAddress.objects.exists()
    # Marked where the provider calls it a bounce; Mailgun calls it a deferral (no mark).
    assert Delivery.objects.get(message_id=message_id).feedback in ("soft_bounced", "")
    assert Delivery.objects.filter(feedback="soft_bounced").count() == (esp != "mailgun")


def test_a_soft_bounce_after_a_complaint_does_not_lighten_it(client, sent):
    message_id, address, _mag = sent
    for kind in ("complaint", "soft", "hard"):
        body, headers = _brevo(kind, message_id, address)
        assert _post(client, "brevo", body, headers).status_code == 200
    assert Delivery.objects.get(message_id=message_id).feedback == "complained"
    assert list(SuppressedAddress.objects.values_list("reason", flat=True)) == ["complained"]


@pytest.mark.parametrize("esp", ESPS)
def test_a_report_for_a_message_that_is_not_ours_is_accepted_and_ignored(client, sent, esp):
    _message_id, address, _mag = sent
    before = _state()
    for other in ("<20261201.abc@mail.example.net>", "<c999.d999@shop.test>"):
        body, headers = BUILD[esp]("hard", other, address)
        assert _post(client, esp, body, headers).status_code == 200
    assert _state() == before and not SuppressedAddress.objects.exists()


def test_a_message_id_with_another_domain_or_campaign_is_not_ours(client, sent):
    message_id, address, _mag = sent
    campaign_part, _at, _domain = message_id.strip("<>").partition("@")
    c, d = campaign_part.split(".")
    for forged in (f"<{campaign_part}@evil.test>", f"<c{int(c[1:]) + 1}.{d}@shop.test>"):
        body, headers = _brevo("hard", forged, address)
        assert _post(client, "brevo", body, headers).status_code == 200
    assert not SuppressedAddress.objects.exists()


def test_the_endpoints_are_off_until_the_secret_is_set(client, sent, settings):
    message_id, address, _mag = sent
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    for esp in ESPS:
        body, headers = BUILD[esp]("hard", message_id, address)
        assert _post(client, esp, body, headers).status_code == 404
    # Mailgun's also needs its signing key (an empty one would sign for anyone).
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET]}
    body, headers = _mailgun("hard", message_id, address, key="")
    assert _post(client, "mailgun", body, headers).status_code == 404
    assert not SuppressedAddress.objects.exists()


def test_a_bounced_address_receives_no_further_campaign(client, sent, smtp_settings):
    message_id, address, mag = sent
    body, headers = _mailgun("hard", message_id, address)
    assert _post(client, "mailgun", body, headers).status_code == 200
    c = campaign(mag, subject="冬の新商品のご案内")
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    for lo, hi in pipeline.campaign_fanout(campaign_id=c.pk):
        pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert received_by(smtp_settings) == ["hanako@example.jp"]


def test_a_reported_internationalised_domain_suppresses_the_address_as_typed(client, smtp_settings):
    mag = magazine()
    reader = subscriber(mag, email="yamada@例え.jp")
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    pipeline.campaign_fanout(campaign_id=c.pk)
    delivery = Delivery.objects.get()
    # Whether or not this pipeline can send it yet, the provider reports the ASCII form.
    Delivery.objects.filter(pk=delivery.pk).update(status="sending")
    body, headers = _brevo("hard", f"<c{c.pk}.d{delivery.pk}@shop.test>", "yamada@xn--r8jz45g.jp")
    assert _post(client, "brevo", body, headers).status_code == 200
    assert is_suppressed(address=reader.email)


def test_marketing_sees_bounces_and_complaints_in_the_campaigns_progress(client, sent):
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from apps.core import roles
    from apps.customers.models import User

    message_id, address, _mag = sent
    body, headers = _postmark("complaint", message_id, address)
    assert _post(client, "postmark", body, headers).status_code == 200
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(email="mkt@shop.test", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.MARKETING))
    client.force_login(user)
    c = Delivery.objects.get(message_id=message_id).campaign
    page = client.get(reverse("admin:marketing_campaign_change", args=[c.pk])).content.decode()
    assert "2 sent" in page
    assert "0 bounced · 1 complained" in page
    assert address not in page


def test_the_persons_disclosure_shows_what_the_provider_reported(client, sent):
    from apps.core.privacy import personal_data_export
    from apps.customers.models import Customer

    def export(customer_id):  # the app's exported sections' raw rows, by section key
        return personal_data_export(customer_id=customer_id)["marketing"]

    message_id, address, _mag = sent
    body, headers = _sendgrid("complaint", message_id, address)
    assert _post(client, "sendgrid", body, headers).status_code == 200
    customer = Customer.objects.get(email=address)
    (mail,) = export(customer.pk)["mails_received"]
    assert mail["status"] == "sent" and mail["provider_report"] == "complained"
