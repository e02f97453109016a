from django.urls import path

from apps.mypage import views

app_name = "mypage"

urlpatterns = [
    path("", views.overview, name="overview"),
]
