"""A worker loads the URL configuration when it starts, not while the first mail waits."""

from django.urls import clear_url_caches, get_resolver

from apps.core.tasks import worker_warm_up


def test_the_warm_up_builds_the_url_lookup_tables():
    clear_url_caches()
    assert not get_resolver()._populated
    worker_warm_up(sender=None)
    assert get_resolver()._populated
