"""A database restart while a batch is out at the mail server: the mails went out, so their
record must still be written once the database is back (else the rows stay `sending`, end
`unknown`, and the campaign cannot tell whether they arrived)."""

import psycopg
import pytest
from django.db import connection

from apps.marketing import pipeline
from apps.marketing.models import Campaign, Delivery
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = [pytest.mark.postgres]


def drop_this_connection() -> None:
    """What a PostgreSQL restart does to the connection in use: the server ends it."""
    pid = connection.cursor().connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_batch_sent_before_a_database_restart_is_recorded_after_it(transactional_db):
    mag = magazine()
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    [(lo, hi)] = pipeline.campaign_fanout(campaign_id=c.pk)
    queries = pipeline._ChunkQueries(Campaign.objects.select_related("magazine").get(pk=c.pk))
    claimed = queries.claim(lo, hi, 10)
    assert len(claimed) == len(people)
    sent = [row[0] for row in claimed]

    drop_this_connection()
    # The next statement records the batch that went out and claims nothing more.
    assert queries.claim(hi + 1, hi, 10, sent=sent) == []

    statuses = set(Delivery.objects.filter(campaign=c).values_list("status", flat=True))
    assert statuses == {Delivery.Status.SENT}
