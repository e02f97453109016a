from django.urls import path

from apps.privacy_requests import views

app_name = "privacy_requests"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_create, name="create"),
    path("<str:reference>/", views.request_detail, name="detail"),
    path("<str:reference>/withdraw/", views.request_withdraw, name="withdraw"),
    path("<str:reference>/code/", views.request_code, name="code"),
    path("<str:reference>/download/<str:token>/", views.request_download, name="download"),
]
