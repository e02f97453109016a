"""The permissions the request admin checks beyond Django's view/add."""

DECIDE = "privacy_requests.decide_privacyrequest"
VIEW_DOCUMENTS = "privacy_requests.view_identity_document"
