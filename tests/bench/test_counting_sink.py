"""The benchmarks' counting sink offers PIPELINING, as the mail servers a shop sends through do,
and counts pipelined messages exactly as one-by-one ones."""

from __future__ import annotations

import smtplib

from apps.bench.kit import CountingSink


def test_the_counting_sink_offers_pipelining_and_counts_pipelined_messages():
    with CountingSink() as sink, smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("pipelining")
        message = b"Subject: hello\r\nX-Campaign: 7\r\n\r\nbody\r\n.\r\n"
        # Two messages in one write each: the content of one with the next one's commands.
        smtp.send(b"MAIL FROM:<news@shop.example>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n")
        assert [smtp.getreply()[0] for _ in range(3)] == [250, 250, 354]
        smtp.send(message + b"MAIL FROM:<news@shop.example>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        assert [smtp.getreply()[0] for _ in range(4)] == [250, 250, 250, 354]
        smtp.send(message)
        assert smtp.getreply()[0] == 250
    assert sink.by_recipient == {(7, "a@example.com"): 1, (7, "b@example.com"): 1}
    assert sink.by_campaign == {7: 2}
