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
        "audit.view_personal_data",
        # privacy_requests (when it lands): view / add / change requests, e.g. to record one
        # received by phone -- never approve them, never view identity documents.
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
        "audit.view_personal_data",
        "audit.export_personal_data",
        "audit.view_accesslog",
        "incidents.view_incident",
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.view_incidentnotice",
        "incidents.add_incidentnotice",
        # privacy_requests (when it lands): view / add / change / approve requests and view
        # identity documents -- this role only.
    ],
    MARKETING: [
        "orders.view_product",
        # marketing / consents (when they land): campaigns, mail magazines, purposes. Their
        # admins hide personal fields from this role automatically (no view_personal_data).
    ],
}

# fnmatch patterns over "app_label.codename".
ROLE_FORBIDDEN: dict[str, list[str]] = {
    SUPPORT: [
        "privacy_requests.approve_*",
        "*.*identitydocument",
        "*.*identity_document",
        "incidents.*",
        "audit.view_accesslog",
        "audit.export_personal_data",
    ],
    MARKETING: [
        "customers.*",
        "orders.*_order",
        "orders.*_payment",
        "orders.*_orderline",
        "privacy_requests.*",
        "*.*identitydocument",
        "*.*identity_document",
        "incidents.*",
        "audit.*",
    ],
    PRIVACY_OFFICER: [],
}
