"""User text made safe for the places that render markup, so that it shows as the text it is.

Task types, fleets, agents, models, confidence sources, notes, names, file names and URL
parameters all come from outside. Shown in a dataframe, `st.text` or `st.code` they are text
already; anywhere Streamlit renders markdown (alerts, captions, subheaders, metric help, page
links) they go through `literal`, and in a Plotly figure (which reads a few HTML tags)
through `label`.
"""

from __future__ import annotations

import html
import re

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


_AUTOLINKS = re.compile(r"(?i)(://|@|www\.)")
WORD_JOINER = "\u2060"  # invisible, unbreakable: it keeps a URL from being linked


def literal(text) -> str:
    """User text for a place that renders markdown: every ASCII punctuation character
    backslash-escaped (CommonMark's escapes), an invisible word joiner inside `://`, `@` and
    `www.` (GitHub-flavoured markdown links bare URLs and e-mail addresses even when
    escaped), and line breaks as spaces, so a link, an image or a directive in it shows as
    the text it is."""
    one_line = " ".join(str(text).split())
    unlinked = _AUTOLINKS.sub(lambda m: m.group(1)[0] + WORD_JOINER + m.group(1)[1:], one_line)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", unlinked)


def label(text) -> str:
    """A user-given name as Plotly text: its tag characters escaped, shown literally."""
    return html.escape(str(text), quote=False)
