"""Text from a corpus made safe to show: on a terminal (`palmkit stats`) and in the HTML report.

Manifests and rejects carry whatever the inputs held. A lone surrogate (JSON allows
``"\\ud800"``, Python keeps it in a ``str``) makes ``print`` or writing a UTF-8 file raise
``UnicodeEncodeError``; an ESC starts a terminal escape sequence (colours, cursor moves, a
changed window title); NUL and form feed derail a layout. ``clean_text`` turns each into a
visible backslash escape (``\\ud800``, ``\\x1b``), so a person sees that it was there.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except tab and newline, DEL, C1 controls, and U+2028/2029 (line separators
# that some viewers break on).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def clean_text(value: Any) -> str:
    """``value`` as text that can be written as UTF-8: lone surrogates and control
    characters become backslash escapes; tabs and newlines stay."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)
