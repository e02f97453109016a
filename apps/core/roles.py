"""Staff roles and their least-privilege permissions.

Each role gets only what its work needs. Marketing has no permission on customers, addresses,
orders or inquiries at all, so it cannot open a customer's change page nor see personal fields.
Later apps add their permissions here.
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
        "privacy_requests.view_privacyrequest",
        "privacy_requests.add_privacyrequest",
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
        "privacy_requests.view_privacyrequest",
        "privacy_requests.add_privacyrequest",
        "privacy_requests.decide_privacyrequest",
        "privacy_requests.view_identity_document",
    ],
    MARKETING: [
        "orders.view_product",
    ],
}
