from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from apps.core.ratelimit import rate_limit
from apps.customers.forms import EmailAuthenticationForm, PasswordResetForm

urlpatterns = [
    path(
        "login/",
        rate_limit("login")(
            auth_views.LoginView.as_view(
                template_name="account/login.html",
                authentication_form=EmailAuthenticationForm,
                redirect_authenticated_user=True,
            )
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/reset/",
        rate_limit("password_reset")(
            auth_views.PasswordResetView.as_view(
                form_class=PasswordResetForm,
                template_name="account/password_reset.html",
                email_template_name="account/email/password_reset.txt",
                subject_template_name="account/email/password_reset_subject.txt",
                success_url=reverse_lazy("password_reset_done"),
            )
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="account/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        rate_limit("password_reset_confirm")(
            auth_views.PasswordResetConfirmView.as_view(
                template_name="account/password_reset_confirm.html",
                success_url=reverse_lazy("password_reset_complete"),
            )
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="account/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
