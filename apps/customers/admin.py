from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from apps.core.admin_extensions import ExtensibleAdminMixin
from apps.core.admin_pagination import EstimatedCountPaginator
from apps.core.admin_search import PostedSearchAdminMixin
from apps.customers import selectors, services
from apps.customers.models import Address, Customer, Inquiry, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined", "email_confirmed_at"]
    filter_horizontal = ["groups"]

    @staticmethod
    def _is_member(user) -> bool:
        return user is not None and Customer.objects.filter(user=user).exists()

    def get_readonly_fields(self, request, obj=None):
        # A member's login moves only when the member confirms the new address (My Page or a
        # correction request): staff who could set it could reset the password to themselves.
        fields = list(super().get_readonly_fields(request, obj))
        if self._is_member(obj):
            fields.append("email")
        return fields

    def user_change_password(self, request, id, form_url=""):
        # Likewise no staff member sets a member's password: the member resets it by mail.
        if self._is_member(self.get_object(request, admin.utils.unquote(id))):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    fields = [
        "is_default",
        "recipient_name",
        "postal_code",
        "prefecture",
        "city",
        "line1",
        "line2",
        "phone",
    ]
    readonly_fields = ["is_default"]


class RestrictForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (e.g. resale of purchased goods, terms article)"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )


@admin.register(Customer)
class CustomerAdmin(PostedSearchAdminMixin, ExtensibleAdminMixin, admin.ModelAdmin):
    """Apps above customers add their inlines through apps.core.admin_extensions. Searched by
    name, e-mail or phone through a posted form: the term stays out of URLs and logs."""

    list_display = ["number", "family_name", "given_name", "status", "acquired_via", "created_at"]
    list_filter = ["status", "acquired_via"]
    search_fields = [
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "email",
        "phone",
    ]
    readonly_fields = [
        "user",
        "status",
        "restriction_reason",
        "restricted_at",
        "erased_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["user", "status", "acquired_via"]}),
        (
            _("Personal data"),
            {
                "fields": [
                    ("family_name", "given_name"),
                    ("family_name_kana", "given_name_kana"),
                    "date_of_birth",
                    "phone",
                    "email",
                ]
            },
        ),
        (_("Restriction"), {"fields": ["restriction_reason", "restricted_at", "erased_at"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [AddressInline]
    actions = ["restrict_customers", "lift_restriction"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(self, request, queryset, search_term):
        # Through indexes (selectors.customers_matching), not icontains over every column: that
        # scans the whole table. Only the fields this role may search (AuditedAdminMixin).
        fields = {name.lstrip("^=@") for name in self.get_search_fields(request)}
        return selectors.customers_matching(
            term=search_term, fields=fields, queryset=queryset
        ), False

    class Media:
        css = {"all": ["css/admin-layout.css"]}

    @admin.display(description=_("customer No."), ordering="pk")
    def number(self, obj):
        return obj.number

    def get_readonly_fields(self, request, obj=None):
        # A member's e-mail is their login (see UserAdmin.get_readonly_fields); a guest's is
        # only a contact address, which support may correct.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.user_id:
            fields.append("email")
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = [f for f in form.changed_data if f in services.PROFILE_FIELDS]
        email = obj.email if "email" in form.changed_data and not obj.user_id else None
        services.customer_update_profile(
            customer=obj, email=email, **{name: getattr(obj, name) for name in fields}
        )

    @admin.action(description=_("Restrict selected customers (resale prevention)"))
    def restrict_customers(self, request, queryset):
        form = RestrictForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for customer in queryset.order_by("pk"):
                try:
                    services.customer_restrict(
                        customer=customer, reason=form.cleaned_data["reason"], by=request.user
                    )
                    done += 1
                except ValidationError as exc:
                    self.message_user(request, f"#{customer.pk}: {exc.messages[0]}", messages.ERROR)
            self.message_user(request, _("%d customer(s) restricted.") % done, messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/customers/restrict.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Restrict customers"),
                "form": form,
                "queryset": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Lift the restriction of selected customers"))
    def lift_restriction(self, request, queryset):
        done = 0
        for customer in queryset.filter(status=Customer.Status.RESTRICTED).order_by("pk"):
            services.customer_lift_restriction(customer=customer, by=request.user)
            done += 1
        self.message_user(request, _("%d restriction(s) lifted.") % done, messages.SUCCESS)


@admin.register(Inquiry)
class InquiryAdmin(ExtensibleAdminMixin, admin.ModelAdmin):
    """Apps above customers add their actions through apps.core.admin_extensions."""

    list_display = ["id", "topic", "status", "created_at", "acknowledged_at"]
    list_filter = ["topic", "status"]
    search_fields = ["name", "email"]
    readonly_fields = [
        "customer",
        "name",
        "email",
        "phone",
        "topic",
        "message",
        "created_at",
        "acknowledged_at",
    ]
    fields = ["status", *readonly_fields]

    def has_add_permission(self, request):
        return False
