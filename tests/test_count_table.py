"""`palmkit corpus`'s closing count table (palmkit.tables.count_table), on hand-made counts."""

from palmkit.tables import count_table

COUNTS = {
    "web": {"read": 1200, "kept": 990, "kept_bytes": 5,
            "rejected": {"binary": 200, "too_large": 10}},
    "books": {"read": 40, "kept": 40, "kept_bytes": 5, "rejected": {}},
    "code": {"read": 12345, "kept": 12000, "kept_bytes": 5, "rejected": {"license": 345}},
}


def _rows(text):
    return [line.split() for line in text.splitlines()]


def test_columns_are_counts_then_each_reason_sorted_and_a_total_row():
    rows = _rows(count_table(COUNTS))
    assert rows[0] == ["component", "read", "kept", "rejected", "binary", "license", "too_large"]
    assert [r[0] for r in rows[1:]] == ["web", "books", "code", "total"]
    assert rows[1] == ["web", "1,200", "990", "210", "200", "0", "10"]
    assert rows[2] == ["books", "40", "40", "0", "0", "0", "0"]
    assert rows[-1] == ["total", "13,585", "13,030", "555", "200", "345", "10"]


def test_total_is_column_sums_and_read_is_kept_plus_rejected():
    rows = _rows(count_table(COUNTS))
    num = [[int(v.replace(",", "")) for v in r[1:]] for r in rows[1:]]
    body, total = num[:-1], num[-1]
    assert total == [sum(col) for col in zip(*body)]
    for read, kept, rejected, *by_reason in num:
        assert read == kept + rejected and rejected == sum(by_reason)


def test_columns_are_aligned():
    lines = count_table(COUNTS).splitlines()
    assert len({len(line) for line in lines}) == 1  # right-aligned numbers: same width
    header = lines[0]
    for name in ("read", "kept", "rejected", "too_large"):  # each number ends under its name
        end = header.index(name) + len(name)
        assert all(line[end - 1] != " " and (end == len(line) or line[end] == " ")
                   for line in lines[1:]), name


def test_no_rejects_no_reason_columns():
    text = count_table({"wiki": {"read": 3, "kept": 3, "rejected": {}}})
    assert _rows(text) == [["component", "read", "kept", "rejected"], ["wiki", "3", "3", "0"],
                           ["total", "3", "3", "0"]]
