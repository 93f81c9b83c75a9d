"""The HTML report in a real browser: headless Chromium (Debian's `chromium` package) loads it.

Checks what only a browser can: the page parses into the DOM we meant (every section present,
no element a hostile text could have smuggled in), nothing is loaded from elsewhere, no console
message or script error, and it renders to a screenshot that is not blank. `make test` installs
Chromium where it is missing and `apt-get` can; without it these tests skip, saying so.

The quick tests render the demo-like output of ``tests.test_report.write_demo_like`` (about 3 s
of Chromium each); the slow one runs the real corpus, vocabulary and pack jobs on the bundled
sample first, as `palmkit demo` does.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib

import pytest

from palmkit import report, stats
from tests.test_report import with_analyses, write_demo_like

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             "/usr/bin/chromium") if p and os.access(p, os.X_OK)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found: install Debian's package (`apt-get install -y "
           "chromium`; `make test` tries to) to check the HTML report in a real browser")

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars")
#: Console output and script errors, as Chromium logs them with --enable-logging=stderr.
CONSOLE = re.compile(r"CONSOLE|Uncaught|net::ERR_")


def chromium(tmp_path, url: str, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url],
                          capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


def png_size_and_colours(path) -> tuple[int, int, int]:
    """(width, height, distinct grey levels in a sample of rows), with zlib only."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    chunks, pos = [], 8
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + n])
        pos += 12 + n
    raw = zlib.decompress(b"".join(chunks))
    bpp = {2: 3, 6: 4}.get(colour, 1) * depth // 8
    stride = 1 + width * bpp
    levels = set()
    for row in range(0, height, max(1, height // 50)):  # filtered bytes: a rough variety count
        levels.update(raw[row * stride + 1:(row + 1) * stride:97])
    return width, height, len(levels)


def _check_page(tmp_path, page_path, *, hostile: bool = False) -> str:
    url = "file://" + str(page_path)
    dom = chromium(tmp_path, url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_errors(dom.stderr) == []
    html = dom.stdout
    for section in report.SECTIONS:
        assert f'id="{section.id}"' in html, f"section {section.id} missing from the DOM"
    assert html.count("<svg") >= 10
    # nothing from elsewhere, and no element a text could have injected
    assert not re.search(r"<(script|img|iframe|link|object|embed)\b", html, re.I)
    assert not re.search(r"\s(src|href)=\"(?!#)", html)
    if hostile:
        assert "&lt;script&gt;" in html
    shot = tmp_path / "report.png"
    run = chromium(tmp_path, url, f"--screenshot={shot}", "--window-size=1280,3000")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    width, height, levels = png_size_and_colours(shot)
    assert (width, height) == (1280, 3000) and levels > 20, "blank or broken screenshot"
    return html


def test_console_check_catches_script_errors(tmp_path):
    """The check the other tests rely on does see a console message and a script error."""
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><p>x</p><script>console.log("seen-it"); nope();</script>')
    errors = console_errors(chromium(tmp_path, "file://" + str(page), "--dump-dom").stderr)
    assert any("seen-it" in e for e in errors) and any("Uncaught" in e for e in errors)


def test_demo_like_report_loads_in_chromium(tmp_path):
    corpus, shards = write_demo_like(tmp_path)
    page = tmp_path / "report.html"
    page.write_text(report.render_stats(with_analyses(stats.collect(shards))), encoding="utf-8")
    dom = _check_page(tmp_path, page)
    assert "PaLM appendix D" in dom and "code/file1.jsonl:1" in dom


def test_hostile_report_loads_in_chromium_without_injected_elements(tmp_path):
    corpus, shards = write_demo_like(tmp_path, hostile=True)
    page = tmp_path / "report.html"
    page.write_text(report.render_stats(with_analyses(stats.collect(shards))), encoding="utf-8")
    _check_page(tmp_path, page, hostile=True)


@pytest.mark.slow
def test_real_demo_report_loads_in_chromium(tmp_path):
    """Corpus, vocabulary and pack of the bundled sample (the demo's settings), then the
    report of the pack and its corpus (about 1-2 min on 2 cores)."""
    from palmkit import demo

    cfg = demo.DemoConfig(output=str(tmp_path / "demo"))
    paths = {"corpus": str(tmp_path / "demo" / "corpus"), "vocab": str(tmp_path / "demo" / "v"),
             "shards": str(tmp_path / "demo" / "shards")}
    demo.run_corpus(cfg, paths)
    demo.run_vocab(cfg, paths)
    demo.run_pack(cfg, paths)
    page = tmp_path / "report.html"
    page.write_text(report.render_stats(with_analyses(stats.collect(paths["shards"], paths["corpus"]))),
                    encoding="utf-8")
    dom = _check_page(tmp_path, page)
    assert "after near_dedup" in dom and "held-out accuracy" in dom
