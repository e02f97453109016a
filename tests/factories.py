import factory
from django.utils import timezone

from apps.customers.models import Address, Customer, User
from apps.orders.models import Product

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    # Members in tests have confirmed their address unless a test says otherwise.
    email_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else "guest@example.com")
    family_name = "山田"
    given_name = factory.Sequence(lambda n: f"花子{n}")
    family_name_kana = "ヤマダ"
    given_name_kana = "ハナコ"
    phone = "090-1234-5678"
    acquired_via = Customer.AcquiredVia.SIGNUP
    created_at = factory.LazyFunction(timezone.now)


class GuestFactory(CustomerFactory):
    user = None
    email = factory.Sequence(lambda n: f"guest{n}@example.com")
    acquired_via = Customer.AcquiredVia.PURCHASE


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    recipient_name = "山田 花子"
    country = "JP"
    postal_code = "150-0001"
    prefecture = "東京都"
    city = "渋谷区神宮前"
    line1 = "1-2-3"
    phone = "03-1234-5678"
    is_default = False


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"商品{n}")
    price = 1500


def make_staff(role: str | None = None, *, email: str | None = None, superuser: bool = False):
    """A staff login in one role's group (the groups come from `setup_roles`)."""
    from django.contrib.auth.models import Group

    from apps.core.services import roles_setup

    roles_setup()
    user = User.objects.create_user(
        email=email or f"{(role or 'admin').split()[0].lower()}-{User.objects.count()}@shop.test",
        password=PASSWORD,
        is_staff=True,
        is_superuser=superuser,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def move_login_email(customer, new_email: str):
    """A member's own change of login address, link clicked (the real services)."""
    from apps.customers import services

    confirmation = services.user_email_change_request(user=customer.user, new_email=new_email)
    services.user_email_confirm(token=services.email_confirmation_token(confirmation.pk))
    customer.refresh_from_db()
    return customer
