"""The fault bench's SMTP sink: each fault does to a real SMTP client what the bench says it does,
and ends when switched off; what it counts is what a client was told was taken."""

from __future__ import annotations

import os
import smtplib
import threading

import pytest

from apps.bench.faults import FaultSink, pid_holding

MESSAGE = b"Subject: hello\r\nX-Campaign: 7\r\n\r\nbody\r\n"


def send(sink: FaultSink, *recipients: str) -> dict:
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
        return smtp.sendmail("news@shop.example", list(recipients), MESSAGE)


@pytest.fixture
def sink():
    with FaultSink() as running:
        yield running


def test_normal_mode_counts_each_recipient_by_campaign(sink):
    send(sink, "a@example.com")
    send(sink, "A@example.com", "b@example.com")

    assert sink.by_recipient == {(7, "a@example.com"): 2, (7, "b@example.com"): 1}


def test_refuse_stops_listening_and_listen_takes_mail_again_on_the_same_port(sink):
    sink.refuse()
    with pytest.raises(ConnectionRefusedError):
        send(sink, "a@example.com")

    sink.listen()
    send(sink, "a@example.com")

    assert sink.by_recipient == {(7, "a@example.com"): 1}


def test_tempfail_answers_451_to_the_same_share_of_addresses_until_it_ends(sink):
    addresses = [f"m{i}@example.com" for i in range(200)]
    sink.mode = "tempfail"
    refused = set()
    for address in addresses:
        try:
            send(sink, address)
        except smtplib.SMTPRecipientsRefused as exc:
            assert exc.recipients[address][0] == 451
            refused.add(address)
    for address in sorted(refused)[:5]:  # the same addresses again: refused again
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(sink, address)
    sink.mode = "normal"
    for address in refused:
        send(sink, address)

    assert 0 < len(refused) < 60  # about 10%
    assert {rcpt for (_c, rcpt) in sink.by_recipient} == set(addresses)


def test_close_cuts_the_connection_before_answering_and_does_not_count_that_message(sink):
    sink.mode = "close"
    sink.close_every = 3
    outcomes = []
    for i in range(6):
        try:
            send(sink, f"m{i}@example.com")
            outcomes.append("taken")
        except smtplib.SMTPServerDisconnected:
            outcomes.append("cut")

    assert outcomes == ["taken", "taken", "cut", "taken", "taken", "cut"]
    assert sorted(rcpt for (_c, rcpt) in sink.by_recipient) == [
        "m0@example.com", "m1@example.com", "m3@example.com", "m4@example.com"
    ]  # fmt: skip


def test_hold_keeps_the_kth_message_unanswered_and_names_the_process_that_sent_it(sink):
    sink.trigger_at(7, 2, hold=True)
    send(sink, "m0@example.com")
    answered = threading.Event()
    sender = threading.Thread(
        target=lambda: (send(sink, "m1@example.com"), answered.set()), daemon=True
    )
    sender.start()

    assert sink.triggered.wait(10)
    assert not answered.wait(0.5)  # the client is still waiting for the answer
    assert pid_holding(sink.held_peer_port, [os.getpid()]) == os.getpid()
    assert (7, "m1@example.com") in sink.by_recipient  # the message itself arrived
    sink.release()
    assert answered.wait(10)
