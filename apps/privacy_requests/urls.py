from django.urls import path

from apps.privacy_requests import views

app_name = "privacy_requests"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_create, name="create"),
    path("<text:reference>/", views.request_detail, name="detail"),
    path("<text:reference>/withdraw/", views.request_withdraw, name="withdraw"),
    path("<text:reference>/code/", views.request_code, name="code"),
    path("<text:reference>/download/<text:token>/", views.request_download, name="download"),
]
