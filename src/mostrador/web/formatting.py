"""WhatsApp text formatting rendered to safe HTML.

The text is HTML-escaped FIRST; only then are the markers turned into tags. The markers (``* _ ~ `````) and the
URL characters we look for survive escaping unchanged, and everything the customer typed stays escaped, so no
input can produce a tag or attribute other than the ones below:

* ``*bold*`` → ``<strong>``, ``_italic_`` → ``<em>``, ``~strike~`` → ``<del>``, `````mono````` → ``<code>``
  (code spans are literal: no formatting or links inside);
* ``http(s)://`` URLs → ``<a href="…" rel="noopener noreferrer nofollow" target="_blank">``; no other scheme
  is ever linked.

Rules follow WhatsApp: a marker opens only at the start or after a non-word character, the content neither starts
nor ends with a space, the closing marker is not followed by a word character, and spans do not cross lines.
Nesting works (``*_both_*``); unbalanced markers stay literal. Newlines are kept as text; render with
``white-space: pre-wrap``.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["whatsapp_html"]

_CODE = re.compile(r"```(.+?)```", re.DOTALL)
# After escaping, '<' '>' '"' "'" appear as entities; a URL ends at whitespace or at one of them.
_URL = r"https?://(?:(?!&lt;|&gt;|&#34;|&#39;|&quot;)[^\s])+"
_SPAN = r"(?<![\w*_~])(?P<marker>[*_~])(?=\S)(?P<body>[^\n]*?\S)(?P=marker)(?![\w*_~])"
_TOKEN = re.compile(rf"(?P<url>{_URL})|{_SPAN}")
_TRAILING = ".,!?:)]}"
_TAGS = {"*": "strong", "_": "em", "~": "del"}


def _trim_url(url: str) -> tuple[str, str]:
    """Leave sentence punctuation (and unbalanced ')' ) outside the link."""
    tail = ""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        tail = url[-1] + tail
        url = url[:-1]
    return url, tail


def _link(escaped_url: str) -> str:
    url, tail = _trim_url(escaped_url)
    if not re.fullmatch(r"https?://[^\s/?#]+.*", url, re.DOTALL):
        return escaped_url
    # ``url`` is already escaped text, so it is safe inside a double-quoted attribute.
    return f'<a href="{url}" rel="noopener noreferrer nofollow" target="_blank">{url}</a>{tail}'


def _inline(escaped: str) -> str:
    out: list[str] = []
    position = 0
    while True:
        match = _TOKEN.search(escaped, position)
        if match is None:
            out.append(escaped[position:])
            return "".join(out)
        out.append(escaped[position : match.start()])
        if match.group("url"):
            out.append(_link(match.group("url")))
        else:
            tag = _TAGS[match.group("marker")]
            out.append(f"<{tag}>{_inline(match.group('body'))}</{tag}>")
        position = match.end()


def whatsapp_html(text: str | None) -> Markup:
    if not text:
        return Markup("")
    escaped = str(escape(text))
    out: list[str] = []
    position = 0
    for match in _CODE.finditer(escaped):
        out.append(_inline(escaped[position : match.start()]))
        out.append(f"<code>{match.group(1)}</code>")
        position = match.end()
    out.append(_inline(escaped[position:]))
    return Markup("".join(out))  # noqa: S704 - built from escaped text plus our own fixed tags
