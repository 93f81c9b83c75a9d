"""Statistics helpers that do not need a whole pipeline run."""

from palmkit.manifest import Manifest
from palmkit.report_html import bar_chart
from palmkit.stats import _cluster_sizes


def test_cluster_size_histogram_from_stage_stats_in_bound_order():
    m = Manifest(stage="corpus", config={}, outputs={}, counts={}, extra={"stages": {
        "near_dedup": {"cluster_size.<=10": 1, "cluster_size.>1000": 2, "cluster_size.<=2": 7,
                       "removed": 12},
        "exact_dedup": {"largest_group": 2},
    }})
    assert list(_cluster_sizes(m).items()) == [("<=2", 7), ("<=10", 1), (">1000", 2)]


def test_bar_chart_scales_bars_and_escapes_labels():
    svg = bar_chart("t", ["<b>", "x"], {"s": [10, 5]})
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert 'width="420.0"' in svg and 'width="210.0"' in svg  # longest bar = full width
