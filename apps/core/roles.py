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
        "consents.view_purpose",
        "consents.view_consentevent",
        "consents.view_consentstate",
        "marketing.view_subscription",
        "marketing.change_subscription",
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
    ],
    MARKETING: [
        "orders.view_product",
        "marketing.view_mailmagazine",
        "marketing.view_campaign",
        "marketing.add_campaign",
        "marketing.change_campaign",
        "marketing.delete_campaign",
        "consents.view_purpose",
    ],
}
