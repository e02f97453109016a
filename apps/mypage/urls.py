from django.urls import path

from apps.mypage import views

app_name = "mypage"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("email/", views.email_change, name="email_change"),
    path("email/resend/", views.email_confirm_resend, name="email_confirm_resend"),
]
