"""What the shop's systems bring in (API calls, imports, Shopify's webhooks), written through the
domain apps' services. ``types`` holds the shapes every way in shares: an API serializer and an
import row both end as these, so one service decides what a customer, an order or a consent event
may do to the database."""
