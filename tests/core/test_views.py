import pytest
from django.db import DatabaseError


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from apps.core import views

    class Broken:
        def cursor(self):
            raise DatabaseError("down")

    monkeypatch.setattr(views, "connection", Broken())
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_language_switch(client):
    client.post("/i18n/setlang/", {"language": "ja", "next": "/"})
    assert (
        "マイページ" in client.get("/").content.decode()
        or "ログイン" in client.get("/").content.decode()
    )
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Log in" in client.get("/").content.decode()


@pytest.mark.django_db
def test_bootstrap_is_served_locally(client):
    page = client.get("/accounts/login/").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in page
    assert "cdn" not in page.lower()
