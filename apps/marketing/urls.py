from django.urls import path

from apps.marketing import views

app_name = "marketing"

urlpatterns = [
    path("newsletter/subscribe/", views.subscribe, name="subscribe"),
    path("newsletter/confirm/<text:token>/", views.confirm, name="confirm"),
    path("newsletter/unsubscribe/<text:token>/", views.unsubscribe, name="unsubscribe"),
    path("mypage/privacy/subscriptions/", views.mypage_subscription, name="mypage_subscription"),
]
