from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.customers.models import Customer
from apps.orders.validators import reject_card_number, validate_last4


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    price = models.PositiveIntegerField(_("price (yen, tax included)"))
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]

    def __str__(self):
        return f"{self.sku} {self.name}"


class Order(models.Model):
    """An order, with a snapshot of where it was shipped (the address may change later)."""

    class Status(models.TextChoices):
        PLACED = "placed", _("Placed")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("order number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLACED
    )
    subtotal = models.PositiveIntegerField(_("subtotal (yen)"))
    shipping_fee = models.PositiveIntegerField(_("shipping fee (yen)"), default=0)
    total = models.PositiveIntegerField(_("total (yen)"))
    ship_name = models.CharField(_("ship to: name"), max_length=200, blank=True)
    ship_postal_code = models.CharField(_("ship to: postal code"), max_length=16, blank=True)
    ship_address = models.CharField(_("ship to: address"), max_length=500, blank=True)
    ship_phone = models.CharField(_("ship to: phone"), max_length=20, blank=True)
    placed_at = models.DateTimeField(_("placed at"))
    # Set when the person's data was erased: the row stays for the tax hold, without personal
    # fields, and must not be used for anything else until the hold expires.
    use_suspended = models.BooleanField(_("use suspended"), default=False)
    hold_until = models.DateField(_("legal hold until"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["customer", "-placed_at"]),
            # The admin's list, newest first, a page at a time without sorting every order.
            models.Index(fields=["-placed_at", "-id"], name="order_placed_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total=models.F("subtotal") + models.F("shipping_fee")),
                name="order_total_is_subtotal_plus_shipping",
            ),
        ]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    # Empty for a line a storefront recorded: its products are its own, known by SKU and name.
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("product"),
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    product_name = models.CharField(_("product name"), max_length=200)
    unit_price = models.PositiveIntegerField(_("unit price (yen)"))
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orderline_qty_gte_1")
        ]

    def __str__(self):
        return f"{self.product_name} × {self.quantity}"

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


class Payment(models.Model):
    """How an order was paid. For cards only the brand and the last four digits, never more."""

    class Method(models.TextChoices):
        CARD = "card", _("Credit card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CONVENIENCE_STORE = "konbini", _("Convenience store")
        CASH_ON_DELIVERY = "cod", _("Cash on delivery")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CAPTURED = "captured", _("Captured")
        REFUNDED = "refunded", _("Refunded")

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="payment", verbose_name=_("order")
    )
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    card_brand = models.CharField(
        _("card brand"), max_length=20, blank=True, validators=[reject_card_number]
    )
    card_last4 = models.CharField(
        _("card last 4 digits"), max_length=4, blank=True, validators=[validate_last4]
    )
    reference = models.CharField(
        _("payment reference"), max_length=64, blank=True, validators=[reject_card_number]
    )
    amount = models.PositiveIntegerField(_("amount (yen)"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self):
        return _("Payment for order %(number)s") % {"number": self.order.number}
