from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.customers.models import Customer


class LoyaltyCard(models.Model):
    class Tier(models.TextChoices):
        BRONZE = "bronze", _("Bronze")
        GOLD = "gold", _("Gold")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("card number"), max_length=20)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices)
    points = models.IntegerField(_("points balance"), default=0)
    issued_at = models.DateTimeField(_("issued at"))
    # The personal field "added": declared here and listed in privacy.py, nowhere else.
    nickname = models.CharField(_("name printed on the card"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("loyalty card")
        verbose_name_plural = _("loyalty cards")

    def __str__(self) -> str:
        return self.number
