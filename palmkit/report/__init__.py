"""The HTML report of `palmkit stats --html`: one self-contained file, a list of sections.

A section is a function ``(Context) -> str | None``: the HTML body of the section (escaped
with ``page.esc``), or None when it has nothing to say for this output (no pack section on a
corpus). ``SECTIONS`` lists them in page order with an id (the anchor, ``<section id=...>``)
and a title; ``render`` wraps each in ``<section id="ID"><h2>TITLE</h2>...</section>`` and
adds it to the navigation bar.

**Adding a section** (e.g. a contamination summary): write ``section_x(ctx) -> str | None``
in a module of this package (``palmkit/report/contamination.py``), reading what it needs from
``ctx`` (``ctx.stats``, ``ctx.corpus_manifest.extra[...]``, ``ctx.pack_manifest``; bounded
reads of output files go in ``Context`` methods), escape every value with ``page.esc``, draw
with ``svg``, and add one ``Section("x", "Title", section_x)`` row to ``SECTIONS``.
``tests/test_report.py`` renders every row against hostile inputs, and
``tests/test_browser_report.py`` checks each id is in the page Chromium loads.

Layout of the package: ``page`` (escaping, CSS, frame), ``svg`` (charts), ``context``
(what sections read), ``funnel`` (funnel, rejects), ``content`` (quality, languages,
near-dedup), ``sizes`` (lengths, pack, timings, raw JSON).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable

from palmkit.report.contamination import section_contamination
from palmkit.report.content import section_languages, section_near_dedup, section_quality
from palmkit.report.context import Context
from palmkit.report.funnel import section_funnel, section_rejects
from palmkit.report.memorization import section_memorization
from palmkit.report.page import esc, page
from palmkit.report.sizes import (section_lengths, section_pack, section_raw,
                                  section_timings)
from palmkit.stats import format_table

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Section:
    id: str  # HTML id and anchor: letters, digits and dashes
    title: str
    render: Callable[[Context], str | None]


def section_overview(ctx: Context) -> str | None:
    warnings = "".join(f'<div class="warn">{esc(w)}</div>'
                       for w in ctx.stats.get("warnings") or ())
    return warnings + f"<pre>{esc(format_table(ctx.stats))}</pre>"


SECTIONS: tuple[Section, ...] = (
    Section("overview", "Overview", section_overview),
    Section("funnel", "Funnel per component", section_funnel),
    Section("rejects", "Rejects by component and reason", section_rejects),
    Section("quality", "Web quality", section_quality),
    Section("languages", "Languages", section_languages),
    Section("near-dedup", "Near-duplicates", section_near_dedup),
    Section("lengths", "Document lengths", section_lengths),
    Section("pack", "Pack: tokens per component", section_pack),
    Section("timings", "Stage timings and throughput", section_timings),
    Section("contamination", "Evaluation-set contamination (PaLM section 8)",
            section_contamination),
    Section("memorization", "Memorization (PaLM section 7)", section_memorization),
    Section("raw", "Raw statistics", section_raw),
)


def render(ctx: Context, sections: tuple[Section, ...] = SECTIONS) -> str:
    """The whole page: every section that has something to say, in order."""
    body, nav = [], []
    for s in sections:
        try:
            html = s.render(ctx)
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            # A manifest from another version (or edited by hand) with a field of an
            # unexpected shape costs one section, said on the page, not the whole report.
            logger.warning("report section %s could not be drawn: %r", s.id, e)
            html = (f'<p class="warn">This section could not be drawn from these outputs: '
                    f"{esc(type(e).__name__)}: {esc(e)}</p>")
        if html is None:
            continue
        nav.append((s.id, s.title))
        body.append(f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>{html}</section>')
    stats = ctx.stats
    title = f"palmkit {stats.get('kind', '')} report"
    subtitle = (f"{esc(stats.get('path', ''))} · mixture {esc(stats.get('mixture'))}"
                + (f" · corpus {esc(ctx.corpus_dir)}" if stats.get("kind") == "pack"
                   and ctx.corpus_dir else ""))
    return page(title, subtitle, nav, "".join(body))


def render_stats(stats: dict[str, Any]) -> str:
    """The report of ``palmkit.stats.collect``'s result (finds its folders from it)."""
    return render(Context.from_stats(stats))
