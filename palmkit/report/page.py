"""Escaping and the page frame of the HTML report: one file, inline CSS, no scripts.

Everything that reaches the page from a manifest, a reject or a file name goes through ``esc``:
``palmkit.safe_text.clean_text`` (lone surrogates and control characters become visible
escapes: ``html.escape`` alone would leave a surrogate that makes writing the file raise) and
then ``html.escape`` with quotes, so a value is safe in text and in attributes.
"""

from __future__ import annotations

import html
from typing import Any

from palmkit.safe_text import clean_text

__all__ = ["clean_text", "esc", "facts", "num", "page", "pct", "table"]


def esc(value: Any) -> str:
    """HTML-escaped (quotes too: safe inside attributes) ``clean_text``."""
    return html.escape(clean_text(value), quote=True)


def num(value: Any, fmt: str = "{:,.0f}") -> str:
    """A number formatted for a table cell, or an em dash where it is not known."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return fmt.format(value)


def pct(value: Any, digits: int = 1) -> str:
    return num(None if value is None else value * 100, f"{{:.{digits}f}}%")


def facts(rows: list[tuple[str, str]]) -> str:
    """A two-column table of named values (names and values already-escaped HTML)."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="facts"><tbody>{body}</tbody></table>'


def table(head: list[str], rows: list[list[str]], *, cls: str = "") -> str:
    """An HTML table; cells are already-escaped HTML (callers escape with ``esc``)."""
    h = "".join(f"<th>{c}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;
 background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:1.2em 2em 3em}
header{background:#23395d;color:#fff;padding:1em 2em}
header h1{font-size:1.3em;margin:0 0 .3em}header p{margin:0;opacity:.85}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.5em 2em;
 z-index:1;font-size:.9em}
nav a{margin-right:1.1em;color:#23395d;text-decoration:none}nav a:hover{text-decoration:underline}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:1.2em 0;
 padding:.4em 1.2em 1em}
h2{font-size:1.15em;border-bottom:1px solid #eee;padding-bottom:.3em}
h3{font-size:1em;margin:1em 0 .4em}
.note{color:#666;font-size:.88em}.warn{background:#fff4e5;border-left:4px solid #f58518;
 padding:.5em 1em;margin:.5em 0}
table{border-collapse:collapse;font-size:.86em;margin:.4em 0 .8em}
th,td{border:1px solid #e2e2e2;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f3f5f8;font-weight:600}td:first-child,th:first-child{text-align:left}
table.facts th{text-align:left;font-weight:500}table.facts td{text-align:left}
table.funnel td{white-space:nowrap}.scroll{overflow-x:auto}
.grid{display:flex;flex-wrap:wrap;gap:1.2em}.grid>div{flex:0 0 auto}
pre{background:#f6f6f6;padding:.6em .8em;overflow-x:auto;font-size:.82em;margin:.3em 0;
 white-space:pre-wrap;word-break:break-all}
pre.sample{max-height:12em;overflow-y:auto}
details{margin:.4em 0}summary{cursor:pointer;color:#23395d}
.ex{border-left:3px solid #ddd;padding-left:.7em;margin:.5em 0}
.ex .meta{font-size:.82em;color:#555}
svg{display:block;max-width:100%;height:auto}
"""


def page(title: str, subtitle: str, nav: list[tuple[str, str]], body: str) -> str:
    links = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t in nav)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{subtitle}</p></header>"
        f"<nav>{links}</nav><main>{body}</main></body></html>\n"
    )
