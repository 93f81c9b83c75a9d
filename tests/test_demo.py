"""The demo flow (corpus -> vocab -> pack -> train -> stats) at reduced size on the bundled sample."""

import json
import os

import pytest

from palmkit.demo import DemoConfig, main


@pytest.mark.slow  # ~60 s: every stage on the whole sample; tests/test_trainer_e2e.py is the small one
def test_demo_flow_at_reduced_size(tmp_path, capsys):
    out = main(DemoConfig(output=str(tmp_path / "demo"), vocab_size=4000, seq_len=64,
                          preset="palm-tiny", steps=40, batch_size=8))
    paths, results = out["paths"], out["results"]
    corpus = results["corpus"]
    for c, e in corpus.counts.items():  # every record accounted for, every component kept some
        assert e["read"] == e["kept"] + sum(e["rejected"].values()) and e["kept"] > 0, c
    assert results["vocab"]["vocab_size"] == 4000
    # three examples of the demo's evaluation set are copied from the sample, four are not
    cont = results["contamination"].extra["summary"]["sets"]["demo_cloze"]
    assert (cont["examples"], cont["contaminated"]) == (7, 3)
    pack = results["pack"]
    assert pack.extra["seq_len"] == 64 and pack.counts["tokens_packed"] > 0
    with open(os.path.join(paths["train"], "metrics.jsonl")) as f:
        losses = [json.loads(line)["loss"] for line in f]
    assert len(losses) == 40 and sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.5  # ~1.0 measured
    html = open(paths["report"], encoding="utf-8").read()
    assert "target vs actual" in html and "<svg" in html
    text = capsys.readouterr().out
    assert "palmkit demo: summary" in text and "loss" in text and paths["report"] in text
    assert "contamination (demo_cloze): 3 of 7 examples contaminated" in text
    assert os.path.exists(os.path.join(os.path.dirname(paths["report"]), "summary.txt"))
