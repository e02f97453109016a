"""No module under apps/ grows past 500 lines: past that it becomes a package of modules by
concern (as customers.services, marketing.services and privacy_requests.services are)."""

from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "apps"
LIMIT = 500


def test_no_module_under_apps_exceeds_500_lines():
    sizes = {
        path.relative_to(APPS).as_posix(): len(path.read_text().splitlines())
        for path in APPS.rglob("*.py")
    }
    too_long = {name: n for name, n in sizes.items() if n > LIMIT}
    assert too_long == {}
