"""Staff roles and their least-privilege permissions.

Each role gets only what its work needs:

- Support answers customers: views and corrects profiles, addresses, orders and inquiries.
  It may not approve privacy requests, read identity documents, handle incidents or read the
  access log.
- The Privacy officer handles privacy requests, identity documents, incidents and the access
  log, and is the only role that may export personal data.
- Marketing never sees customers' names, addresses, phones or e-mails: it has no permission on
  customers, addresses, orders or inquiries, nor ``audit.view_personal_data`` (without which the
  admin hides personal fields of any model that holds them, see apps/audit/admin_mixins.py).

``ROLE_FORBIDDEN`` says what a role must never get, as patterns; a test checks the grants
against it, so a later app's permissions cannot slip to the wrong role unnoticed. Apps that
land later add their grants in the marked places.
"""

SUPPORT = "Support"
PRIVACY_OFFICER = "Privacy officer"
MARKETING = "Marketing"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: [
        "customers.view_customer",
        "customers.change_customer",
        "customers.view_address",
        "customers.add_address",
        "customers.change_address",
        "customers.delete_address",
        "customers.view_inquiry",
        "customers.change_inquiry",
        "orders.view_order",
        "orders.change_order",
        "orders.view_orderline",
        "orders.view_payment",
        "orders.view_product",
        "consents.view_purpose",
        "consents.view_consentevent",
        "consents.view_consentstate",
        # Consents given offline (phone, letter, counter), entered with the staff user's name.
        "consents.add_consentevent",
        "marketing.view_subscription",
        "marketing.change_subscription",
        "privacy_requests.view_privacyrequest",
        "privacy_requests.add_privacyrequest",
        "audit.view_personal_data",
    ],
    PRIVACY_OFFICER: [
        "customers.view_customer",
        "customers.change_customer",
        "customers.view_address",
        "customers.view_inquiry",
        "customers.change_inquiry",
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_payment",
        "orders.view_product",
        "consents.view_purpose",
        "consents.change_purpose",
        "consents.view_policyversion",
        "consents.add_policyversion",
        "consents.change_policyversion",
        "consents.view_consentevent",
        "consents.view_consentstate",
        "consents.add_consentevent",
        "consents.view_externaltag",
        "consents.add_externaltag",
        "consents.change_externaltag",
        "consents.view_provisionrecord",
        "consents.add_provisionrecord",
        "consents.view_contractor",
        "consents.add_contractor",
        "consents.change_contractor",
        "consents.view_receiptrecord",
        "consents.add_receiptrecord",
        "marketing.view_mailmagazine",
        "marketing.view_subscription",
        "marketing.change_subscription",
        "marketing.view_suppressedaddress",
        "marketing.add_suppressedaddress",
        # Why a person got a mail: the delivery and the consent event that allowed it.
        "marketing.view_delivery",
        "marketing.view_suppressionlift",
        "privacy_requests.view_privacyrequest",
        "privacy_requests.add_privacyrequest",
        "privacy_requests.decide_privacyrequest",
        "privacy_requests.view_identity_document",
        "audit.view_personal_data",
        "audit.export_personal_data",
        "audit.view_accesslog",
        # Who restricted a customer or sent a campaign (ids only).
        "core.view_staffaction",
        "incidents.view_incident",
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.view_incidentnotice",
        "incidents.add_incidentnotice",
        # Background work (notices, request execution): its state and "try again now".
        "core.view_job",
        "core.change_job",
        # The systems connected through the API: their keys and their calls.
        "integration.view_apiclient",
        "integration.add_apiclient",
        "integration.change_apiclient",
        "integration.view_apikey",
        "integration.view_apicalllog",
        # Shopify's privacy webhooks as received, and "try again now" for a failed one.
        "integration.view_shopifywebhook",
        "integration.change_shopifywebhook",
        # The register of systems holding copies, their webhook endpoints and the delivery log.
        "integration.view_downstreamsystem",
        "integration.add_downstreamsystem",
        "integration.change_downstreamsystem",
        "integration.view_webhookendpoint",
        "integration.add_webhookendpoint",
        "integration.change_webhookendpoint",
        "integration.view_webhookdelivery",
        "integration.change_webhookdelivery",
        # Propagation tasks: the systems told of an erasure; staff close the manual ones.
        "integration.view_propagationtask",
        "integration.change_propagationtask",
    ],
    MARKETING: [
        "orders.view_product",
        "marketing.view_mailmagazine",
        "marketing.view_campaign",
        "marketing.add_campaign",
        "marketing.change_campaign",
        "marketing.delete_campaign",
        "consents.view_purpose",
        # The list shows keyed hashes and reasons only; an address typed in is only hashed.
        "marketing.view_suppressedaddress",
        "marketing.add_suppressedaddress",
    ],
}

# fnmatch patterns over "app_label.codename".
ROLE_FORBIDDEN: dict[str, list[str]] = {
    SUPPORT: [
        # Logins (and so members' login e-mails and passwords) are the administrator's alone.
        "customers.*_user",
        "privacy_requests.approve_*",
        "privacy_requests.decide_*",
        "*.*identitydocument",
        "*.*identity_document",
        "incidents.*",
        "audit.view_accesslog",
        "audit.export_personal_data",
        "integration.*",
    ],
    MARKETING: [
        "customers.*",
        "marketing.*_subscription",
        # Taking an address off the list (or changing why it is there) is not marketing's.
        "marketing.change_suppressedaddress",
        "marketing.delete_suppressedaddress",
        "marketing.*_delivery",
        "marketing.*_suppressionlift",
        "consents.*_consentevent",
        "consents.*_consentstate",
        "consents.*_provisionrecord",
        "orders.*_order",
        "orders.*_payment",
        "orders.*_orderline",
        "privacy_requests.*",
        "*.*identitydocument",
        "*.*identity_document",
        "incidents.*",
        "audit.*",
        "integration.*",
    ],
    PRIVACY_OFFICER: ["customers.*_user"],
}
