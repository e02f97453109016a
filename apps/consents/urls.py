from django.urls import path

from apps.consents import views

app_name = "consents"

urlpatterns = [
    path("privacy/", views.privacy_notice, name="notice"),
    path("privacy/versions/", views.policy_versions, name="versions"),
    path("privacy/versions/<text:version>/", views.policy_version_detail, name="version"),
    path("privacy/cookies/", views.cookie_list, name="cookies"),
    path("privacy/cookies/consent/", views.cookie_choice, name="cookie_choice"),
    path("mypage/privacy/", views.mypage_privacy, name="mypage"),
    path("mypage/privacy/confirm/", views.reconfirm, name="reconfirm"),
]
