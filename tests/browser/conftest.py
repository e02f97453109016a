"""A launched Chromium for the browser tests that open their own pages (tests/browser/member_pages.py)."""

import pytest

from tests.browser.member_pages import chromium


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser
