from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.integration.api import views

app_name = "api"

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Resources (one line per module).
    path("", include("apps.integration.api.requests")),
    path("customers/", include("apps.integration.api.customers")),
    path("consents/", include("apps.integration.api.consents")),
    path("orders/", include("apps.integration.api.orders")),
    path("propagations/", include("apps.integration.api.propagations")),
]
