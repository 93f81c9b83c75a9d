"""`palmkit memorization` (trainer/memorization.py): fed examples, span sampling, occurrence
counts on planted repeats, the statistics, the HTML section, and the probe end to end on a model
overfitted through the real trainer (it must reproduce its training spans: proves the decode)."""

import json

import numpy as np
import pytest

from palmkit.cli import main as cli
from tests.shards_fixture import write_shards
from trainer import memorization as mem
from palmkit.report.memorization import html_section, summary_lines

EOD = 256


# -- which examples were fed -------------------------------------------------------------------
def test_fed_intervals_follow_the_schedule_and_leave_out_skips():
    # steps 1..5 at 4 examples = [0, 20); a skip of 6 at step 3 starting at example 8
    skips = [{"at_step": 3, "examples": 6, "start_example": 8}]
    got = mem.fed_intervals(step=5, schedule=[[0, 4]], skips=skips, num_examples=100)
    assert got == [(0, 8, 1), (14, 26, 1)]
    # a skip recorded after the checkpoint's step does not count
    later = [{"at_step": 9, "examples": 6, "start_example": 30}]
    assert mem.fed_intervals(step=5, schedule=[[0, 4]], skips=later, num_examples=100) == [(0, 20, 1)]


def test_fed_intervals_wrap_around_with_repeat_and_count_times():
    # 7 steps x 4 = 28 examples over 10: [0, 8) fed 3 times, [8, 10) twice
    got = mem.fed_intervals(step=7, schedule=[[0, 4]], skips=[], num_examples=10)
    assert got == [(0, 8, 3), (8, 10, 2)]
    # batch-size schedule: steps 1-2 at 2, then 8: 2 + 2 + 8 = 12 after step 3
    assert mem.fed_intervals(step=3, schedule=[[0, 2], [2, 8]], skips=[],
                             num_examples=50) == [(0, 12, 1)]


# -- sampling ----------------------------------------------------------------------------------
def _rows_with_docs(n_rows, seq_len, seed=0):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, EOD, (n_rows, seq_len)).astype(np.int32)
    rows[rng.random((n_rows, seq_len)) < 0.01] = EOD
    return rows


def test_sampled_spans_are_inside_one_document_fed_distinct_and_deterministic():
    rows = _rows_with_docs(40, 64)
    fed = [(0, 10, 1), (20, 30, 2)]
    kw = dict(num_spans=50, span=16, seq_len=64, eod_id=EOD)
    spans = mem.sample_spans(lambda i: rows[i], fed, seed=3, **kw)
    assert len(spans) == 50 == len(set(spans)) and spans == sorted(spans)
    for ex, off in spans:
        assert ex in range(0, 10) or ex in range(20, 30)
        assert EOD not in rows[ex, off: off + 16] and off + 16 <= 64
    assert mem.sample_spans(lambda i: rows[i], fed, seed=3, **kw) == spans
    assert mem.sample_spans(lambda i: rows[i], fed, seed=4, **kw) != spans


def test_span_longer_than_a_row_is_a_user_error():
    with pytest.raises(mem.UserError, match="--span-tokens 100"):
        mem.sample_spans(lambda i: None, [(0, 1, 1)], num_spans=1, span=100, seq_len=64,
                         eod_id=EOD, seed=0)


# -- occurrence counts -------------------------------------------------------------------------
def test_window_hashes_equal_the_polynomial_written_out():
    rows = np.random.default_rng(1).integers(0, 1000, (3, 12)).astype(np.int32)
    h = mem.window_hashes(rows, 5)
    m = mem._mix(rows)
    base, mod = int(mem._BASE), 2**64
    for r in range(3):
        for i in range(8):
            want = 0
            for j in range(5):
                want = (want * base + int(m[r, i + j])) % mod
            assert int(h[r, i]) == want


def test_occurrences_counted_right_on_planted_repeats():
    rng = np.random.default_rng(7)
    rows = rng.integers(0, EOD, (30, 48)).astype(np.int32)
    a, b, c = (rng.integers(0, EOD, 10).astype(np.int32) for _ in range(3))
    # a: 4 times (two in one row, one at a row's very end); b: once; c: 3 times, one in a row
    # that is never fed; near-miss of a (one token differs) must not count.
    for r, off in ((0, 0), (0, 20), (5, 38), (17, 7)):
        rows[r, off: off + 10] = a
    rows[9, 3: 13] = b
    for r, off in ((2, 30), (11, 0), (25, 5)):
        rows[r, off: off + 10] = c
    near = a.copy()
    near[9] = (near[9] + 1) % EOD
    rows[13, 30: 40] = near
    fed = [(0, 20, 1), (24, 26, 2)]  # row 25 (holding c) is fed twice, rows 20-23 never
    spans = np.stack([a, b, c, a])  # the sample may hold a text twice: both get the count
    counts = mem.count_occurrences(lambda lo, hi: rows[lo:hi], fed, spans, chunk_rows=7)
    assert counts.tolist() == [4, 1, 2 + 2, 4]
    # rows fed only once and in one chunk: same counts for the once-fed part
    assert mem.count_occurrences(lambda lo, hi: rows[lo:hi], [(0, 30, 1)], spans[:3]).tolist() \
        == [4, 1, 3]


def test_buckets_and_wilson_interval():
    occ = np.array([1, 1, 2, 10, 11, 100, 101, 5000])
    exact = np.array([0, 1, 0, 1, 1, 1, 1, 1], bool)
    rows = mem.bucket_rows(occ, exact)
    assert [(r["occurrences"], r["spans"], r["memorized"]) for r in rows] == \
        [("1", 2, 1), ("2-10", 2, 1), ("11-100", 2, 2), ("101+", 2, 2)]
    lo, hi = mem.wilson(0, 100)
    assert lo == 0.0 and 0.03 < hi < 0.04
    lo, hi = mem.wilson(50, 100)
    assert 0.40 < lo < 0.41 and 0.59 < hi < 0.60


def test_html_section_escapes_and_has_the_paper_numbers():
    result = _fake_result(preset="<script>alert(1)</script>")
    section = html_section(result)
    assert "<script>" not in section and "&lt;script&gt;" in section
    assert "1.60%" in section and "2.40%" in section and "0.75%" in section
    assert section.startswith('<section id="memorization">') and section.endswith("</section>")
    assert any("2 of 4 spans" in line for line in summary_lines(result))


def _fake_result(preset="palm-tiny"):
    occ, exact = np.array([1, 3, 50, 200]), np.array([0, 0, 1, 1], bool)
    return {"preset": preset, "step": 10, "options": {"num_spans": 4, "span_tokens": 100,
                                                       "prompt_tokens": 50, "seed": 0},
            "fed": {"examples": 8, "of_examples": 8}, "overall": mem.rate_row(2, 4),
            "mean_tokens_matched": 25.0, "by_occurrences": mem.bucket_rows(occ, exact),
            "component_note": mem.COMPONENT_NOTE, "paper": mem.PAPER}


# -- user errors -------------------------------------------------------------------------------
def test_missing_and_untrained_workdir_are_one_line_errors(tmp_path, capsys):
    out = str(tmp_path / "m.json")
    assert cli(["memorization", "--workdir", str(tmp_path / "nope"), "--output", out]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "w").mkdir()
    assert cli(["memorization", "--workdir", str(tmp_path / "w"), "--output", out]) == 2
    err = capsys.readouterr().err
    assert "not trained yet" in err and len(err.strip().splitlines()) == 1
    assert cli(["memorization", "--workdir", str(tmp_path / "w"), "--output", out,
                "--prompt-tokens", "100"]) == 2
    assert "--prompt-tokens 100" in capsys.readouterr().err


# -- end to end through the real trainer -------------------------------------------------------
@pytest.mark.slow
def test_overfitted_model_reproduces_its_training_spans(tmp_path):
    """palm-tiny trained 60 steps on 8 rows cut from one random 224-token document at stride 16
    (so every span occurs several times at different row offsets: the model must learn the text,
    not the positions) reproduces every sampled span; the same spans from a fresh model do not.
    ~50 s on 2 loaded cores, mostly the trainer's compile and steps."""
    import jax

    from model_stub.palm import init_params
    from trainer.generate import load_workdir
    from trainer.train import TrainConfig, main as train

    doc = np.random.default_rng(0).integers(0, EOD, 112 + 16 * 7).astype(np.int32)
    rows = np.stack([doc[16 * r: 16 * r + 112] for r in range(8)])
    shards = write_shards(tmp_path / "shards", rows, vocab_size=257, eod_id=EOD, num_shards=1)
    work = str(tmp_path / "train")
    train(TrainConfig(data=shards, workdir=work, steps=60, preset="palm-tiny",
                      batch_schedule=((0, 8),), lr_constant_steps=60, checkpoint_every=60,
                      allow_repeat=True, progress=False, spike_factor=100.0))
    out = str(tmp_path / "mem.json")
    # --data found by the data fingerprint beside the workdir (the demo's layout)
    assert cli(["memorization", "--workdir", work, "--output", out, "--num-spans", "40",
                "--batch-size", "16", "--quiet"]) == 0
    result = json.loads(open(out).read())
    assert result["overall"]["rate"] >= 0.9, result["overall"]
    assert result["fed"] == {"examples": 8, "examples_with_repeats": 480, "of_examples": 8}
    # each span occurs in 1..7 rows, each row fed 60 times
    assert all(s["occurrences"] % 60 == 0 and 60 <= s["occurrences"] <= 420 for s in result["spans"])
    assert sum(b["spans"] for b in result["by_occurrences"]) == 40

    model = load_workdir(work, need_data=True)
    spans = np.stack([rows[s["example"]][s["offset"]: s["offset"] + 100] for s in result["spans"]])
    model.params = init_params(model.config, jax.random.key(1))
    fresh, _ = mem.decode_spans(model, spans, prompt_tokens=50, batch_size=16)
    assert (fresh == spans[:, 50:]).all(axis=1).mean() <= 0.05
    # same workdir, data and seed: byte-identical output
    again = str(tmp_path / "again.json")
    assert cli(["memorization", "--workdir", work, "--output", again, "--num-spans", "40",
                "--batch-size", "16", "--data", shards, "--quiet"]) == 0
    assert open(again, "rb").read() == open(out, "rb").read()


def write_checkpoint(workdir, params, *, step, shards, batch_schedule=((0, 4),)):
    """A checkpoint as `palmkit train` saves it (``trainer.checkpoint.save``), without training."""
    from trainer import checkpoint
    from trainer.generate import _fingerprint

    manager = checkpoint.make_manager(str(workdir), keep=2, async_save=False)
    meta = {"step": step, "skips": [], "loss_history": [], "examples_consumed": step * 4,
            "batch_schedule": [list(p) for p in batch_schedule], "seed": 0,
            "data_fingerprint": _fingerprint(shards)}
    checkpoint.save(manager, step, {"step": np.int32(step), "params": params}, meta)
    manager.wait_until_finished()
    manager.close()


def test_probe_on_a_fresh_checkpoint_reproduces_nothing_and_reports_everything(tmp_path):
    """The whole job (restore, data by fingerprint, fed examples, spans, decode, counts, JSON,
    HTML) on a checkpoint of random parameters: nothing memorized, every field filled."""
    import jax

    from model_stub.palm import get_config, init_params

    rows = _rows_with_docs(12, 40, seed=5)
    shards = write_shards(tmp_path / "shards", rows, vocab_size=257, eod_id=EOD, num_shards=2)
    cfg = get_config("palm-tiny", vocab_size=257, seq_len=40, eod_id=EOD)
    write_checkpoint(tmp_path / "train", init_params(cfg, jax.random.key(0)), step=2, shards=shards)
    out = tmp_path / "m.json"
    result = mem.main(mem.MemorizationConfig(workdir=str(tmp_path / "train"), output=str(out),
                                             num_spans=12, span_tokens=20, prompt_tokens=10,
                                             batch_size=8, html=str(tmp_path / "page.html")))
    assert json.loads(out.read_text()) == result
    page = (tmp_path / "page.html").read_text()
    assert page.startswith("<!doctype html>") and html_section(result) in page and "<script" not in page
    assert result["preset"] == "palm-tiny" and result["step"] == 2
    assert result["fed"] == {"examples": 8, "examples_with_repeats": 8, "of_examples": 12}
    assert result["overall"]["spans"] == 12 and result["overall"]["memorized"] == 0
    assert all(s["example"] < 8 and s["occurrences"] >= 1 for s in result["spans"])
    assert sum(b["spans"] for b in result["by_occurrences"]) == 12
    assert result["by_component"] is None and "component" in result["component_note"]
    assert "Memorization" in html_section(result)
    # other shards than the checkpoint's: an error naming --data, not a silent wrong probe
    other = write_shards(tmp_path / "other", rows[::-1].copy(), vocab_size=257, eod_id=EOD)
    assert cli(["memorization", "--workdir", str(tmp_path / "train"), "--data", other,
                "--output", str(out), "--html", str(tmp_path / "m.html")]) == 2
    assert not (tmp_path / "m.html").exists()


# -- by component (the pack's component sidecars) ---------------------------------------------
def test_span_component_is_the_segment_before_its_offset():
    #           seg:  0  0  0  1  1  1  2  2
    row = np.array([5, 6, EOD, 7, 8, EOD, 9, 9], np.int32)
    rows, comps = [row, row, row], [np.array([2, 0, 1])] * 3
    assert mem.span_components(rows, [0, 3, 6], comps, eod_id=EOD) == [2, 0, 1]
    with pytest.raises(mem.UserError, match="lists 2 segments but its example has 3"):
        mem.span_components([row], [0], [np.array([2, 0])], eod_id=EOD)
    with pytest.raises(mem.UserError, match="no component"):  # a leading [eod]'s segment
        mem.span_components([row], [0], [np.array([-1, 0, 1])], eod_id=EOD)
    table = mem.component_rows(("code", "web", "news"), [0, 1, 1, 0, 1],
                               np.array([1, 0, 1, 1, 0], bool))
    assert [(r["component"], r["spans"], r["memorized"]) for r in table] == \
        [("code", 2, 2), ("web", 3, 1), ("news", 0, 0)]
    assert table[2]["rate"] is None and table[1]["ci95"] == mem.rate_row(1, 3)["ci95"]
    assert "by_occurrences" not in table[0]
    split = mem.component_rows(("code", "web", "news"), [0, 1, 1, 0, 1],
                               np.array([1, 0, 1, 1, 0], bool), np.array([1, 3, 150, 3, 1]))
    got = {r["component"]: [(b["occurrences"], b["memorized"], b["spans"]) for b in r["by_occurrences"]]
           for r in split}
    assert got == {"code": [("1", 1, 1), ("2-10", 1, 1), ("11-100", 0, 0), ("101+", 0, 0)],
                   "web": [("1", 0, 1), ("2-10", 0, 1), ("11-100", 0, 0), ("101+", 1, 1)],
                   "news": [("1", 0, 0), ("2-10", 0, 0), ("11-100", 0, 0), ("101+", 0, 0)]}
    assert [{k: v for k, v in r.items() if k != "by_occurrences"} for r in split] == table


def test_probe_splits_the_rate_by_component_from_the_sidecars(tmp_path):
    """Spans of a pack with sidecars get their document's component: here document d of the
    stream (d = [eod]s before it) is 'web' when d is odd, else 'code', so every span's component
    is known independently; the table's spans sum to the total, and text and HTML show it."""
    import jax

    from model_stub.palm import get_config, init_params

    rows = _rows_with_docs(12, 40, seed=5)
    flat = rows.reshape(-1)
    doc = np.cumsum(flat == EOD) - (flat == EOD)  # an [eod] is its document's
    doc_of = doc.reshape(rows.shape)
    segments = [[int(d % 2) for d in dict.fromkeys(r.tolist())] for r in doc_of]
    shards = write_shards(tmp_path / "shards", rows, vocab_size=257, eod_id=EOD, num_shards=2,
                          components=("code", "web"), segments=segments)
    cfg = get_config("palm-tiny", vocab_size=257, seq_len=40, eod_id=EOD)
    write_checkpoint(tmp_path / "train", init_params(cfg, jax.random.key(0)), step=2, shards=shards)
    result = mem.main(mem.MemorizationConfig(workdir=str(tmp_path / "train"),
                                             output=str(tmp_path / "m.json"), num_spans=12,
                                             span_tokens=20, prompt_tokens=10, batch_size=8))
    assert result["component_note"] is None
    table = {r["component"]: r for r in result["by_component"]}
    assert list(table) == ["code", "web"]
    assert sum(r["spans"] for r in table.values()) == result["overall"]["spans"] == 12
    assert sum(r["memorized"] for r in table.values()) == result["overall"]["memorized"]
    for s in result["spans"]:
        assert s["component"] == ("code", "web")[int(doc_of[s["example"], s["offset"]] % 2)]
    assert {s["component"] for s in result["spans"]} == {"code", "web"}
    for name, r in table.items():
        assert r["spans"] == sum(s["component"] == name for s in result["spans"])
        mine = [s for s in result["spans"] if s["component"] == name]
        for b, (_, lo, hi) in zip(r["by_occurrences"], mem.BUCKETS):
            assert b["spans"] == sum(lo <= s["occurrences"] <= hi for s in mine)
            assert b["memorized"] == sum(lo <= s["occurrences"] <= hi and s["memorized"] for s in mine)
    lines = summary_lines(result)
    assert any("by component" in line for line in lines)
    assert any(line.strip().startswith("code:") for line in lines)
    assert sum("by times seen: 1: " in line for line in lines) == 2
    section = html_section(result)
    assert "by times seen" in section
    assert "By component of the span" in section and ">web<" in section
    assert "not available" not in section


def test_summary_and_html_say_why_components_are_unavailable():
    result = {**_fake_result(), "by_component": None}
    assert summary_lines(result)[-1] == f"  by component: not available ({mem.COMPONENT_NOTE})"
    assert "By component: not available" in html_section(result)


def test_by_component_table_escapes_component_names():
    rows = mem.component_rows(("<b>web</b>", "code"), [0, 0, 1], np.array([1, 0, 0], bool))
    section = html_section({**_fake_result(), "by_component": rows, "component_note": None})
    assert "<b>web" not in section and "&lt;b&gt;web&lt;/b&gt;" in section
    assert "<td style=\"padding:2px 8px\">50.00%</td>" in section
