"""A real `celery -A config worker` on the throwaway Redis and PostgreSQL carries out a task
enqueued by a service, and sends its mail over SMTP to a real local sink."""

import pytest

from apps.customers.models import Inquiry
from apps.customers.services import inquiry_create
from tests.conftest import wait_until

pytestmark = [
    pytest.mark.services,
    pytest.mark.postgres,
]


def test_worker_acknowledges_an_inquiry(celery_worker_process, smtp_sink):
    inquiry = inquiry_create(
        name="山田 花子", email="hanako@example.com", topic="privacy", message="開示請求の方法は？"
    )
    # Nothing ran in this process: the task went to Redis on commit.
    assert Inquiry.objects.get(pk=inquiry.pk).acknowledged_at is None

    acknowledged = wait_until(
        lambda: Inquiry.objects.filter(pk=inquiry.pk, acknowledged_at__isnull=False).first(),
        timeout=60,
    )
    assert acknowledged.acknowledged_at is not None
    wait_until(lambda: smtp_sink.messages, timeout=10)
    [mail] = smtp_sink.messages
    assert mail["to"] == ["hanako@example.com"]
    assert str(inquiry.pk) in mail["message"].get_content()
    log = celery_worker_process.log_path.read_text()
    assert "inquiry_acknowledge_task" in log and "succeeded" in log
    # The worker log carries ids, never the inquirer's e-mail or name.
    assert "hanako@example.com" not in log and "山田" not in log


def test_a_duplicated_task_sends_once(celery_worker_process, smtp_sink):
    from apps.customers.tasks import inquiry_acknowledge_task

    inquiry = inquiry_create(name="x", email="twice@example.com", topic="other", message="m")
    inquiry_acknowledge_task.delay(inquiry.pk)  # a duplicate beside the one sent on commit
    log_path = celery_worker_process.log_path
    wait_until(lambda: log_path.read_text().count("inquiry_acknowledge_task") >= 4, timeout=60)
    wait_until(lambda: log_path.read_text().count("succeeded") >= 2, timeout=60)
    assert [m["to"] for m in smtp_sink.messages] == [["twice@example.com"]]
