"""bench_scale's verdict on issue 16's targets (apps.bench.scale_targets)."""

from apps.bench.scale_targets import TARGETS, targets_check

MET = {
    "mypage_rps": 415.5, "mypage_p99_ms": 69.2, "privacy_rps": 935.9, "admin_p95_ms": 168.4,
    "eligible_count_s": 0.856, "fanout_s": 42.72, "erasure_queries": 26, "erasure_s": 0.28,
    "disclosure_peak_rss_mb": 155.3, "retention_guests_per_s": 785.2,
    "fanout_worker_peak_rss_mb": 127.2,
}  # fmt: skip


def test_figures_inside_every_target_are_met():
    verdict = targets_check(MET, rss_baseline_mb=126.3)
    assert verdict["targets_met"] is True and verdict["targets_rss_checked"] is True
    assert set(verdict["targets"]) == {key for key, _, _ in TARGETS} | {"fanout_worker_peak_rss_mb"}
    assert verdict["targets"]["mypage_rps"] == {"limit": ">= 300", "value": 415.5, "met": True}


def test_one_figure_past_its_target_fails_the_run_and_says_which():
    for key, figure in (("mypage_rps", 270.2), ("erasure_queries", 31), ("fanout_s", 60.1)):
        verdict = targets_check({**MET, key: figure})
        assert verdict["targets_met"] is False
        assert [k for k, t in verdict["targets"].items() if not t["met"]] == [key]
    # The bounds are inclusive.
    assert targets_check({**MET, "mypage_rps": 300, "mypage_p99_ms": 100})["targets_met"]


def test_the_rss_target_is_checked_only_against_a_given_baseline():
    grown = {**MET, "fanout_worker_peak_rss_mb": 160.0}
    assert targets_check(grown)["targets_met"] is True
    assert targets_check(grown)["targets_rss_checked"] is False
    verdict = targets_check(grown, rss_baseline_mb=126.3)
    assert verdict["targets_met"] is False
    assert verdict["targets"]["fanout_worker_peak_rss_mb"]["limit"] == "<= 157.9 (1.25 × 126.3)"
