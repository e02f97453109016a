"""The download link of a requester without a login (views.disclosure_link): the token in the
path is the capability, no login needed. Included by config/urls.py at /disclosure/."""

from django.urls import path

from apps.privacy_requests import views

app_name = "privacy_disclosure"

urlpatterns = [
    path("<text:token>/", views.disclosure_link, name="open"),
    path("<text:token>/code/", views.disclosure_link_code, name="code"),
    path("<text:token>/download/", views.disclosure_link_download, name="download"),
]
