from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mostrador.web.formatting import whatsapp_html

ALLOWED = {"strong": set(), "em": set(), "del": set(), "code": set(), "a": {"href", "rel", "target"}}


class TagAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data


def audit(html: str) -> TagAudit:
    parser = TagAudit()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED, tag
        assert set(attrs) <= ALLOWED[tag], attrs
        if tag == "a":
            href = attrs["href"] or ""
            assert href.startswith(("http://", "https://")), href
            assert attrs["rel"] == "noopener noreferrer nofollow"
    return parser


class TestFormatting:
    @pytest.mark.parametrize(
        ("text", "html"),
        [
            ("*hola*", "<strong>hola</strong>"),
            ("_hola_", "<em>hola</em>"),
            ("~hola~", "<del>hola</del>"),
            ("```x = *1*```", "<code>x = *1*</code>"),
            ("Precio: *20 €* _IVA incl._", "Precio: <strong>20 €</strong> <em>IVA incl.</em>"),
            ("*_ambos_*", "<strong><em>ambos</em></strong>"),
            ("~*tachado y negrita*~", "<del><strong>tachado y negrita</strong></del>"),
            ("snake_case_name", "snake_case_name"),
            ("2*3*4", "2*3*4"),
            ("* no *", "* no *"),
            ("*sin cerrar", "*sin cerrar"),
            ("*a\nb*", "*a\nb*"),
            ("", ""),
        ],
    )
    def test_markers(self, text: str, html: str) -> None:
        assert str(whatsapp_html(text)) == html

    @pytest.mark.parametrize(
        "payload",
        [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "*<b>*",
            '_<a href="javascript:alert(1)">x</a>_',
            "```<svg onload=alert(1)>```",
            "~<iframe src=//evil>~",
            '"><script>alert(1)</script>',
            "&lt;script&gt;",
            'https://example.com/"onmouseover="alert(1)',
            "https://example.com/'onmouseover='alert(1)",
            "https://example.com/<script>",
        ],
    )
    def test_xss_payloads_stay_text(self, payload: str) -> None:
        html = str(whatsapp_html(payload))
        assert "<script" not in html and "<img" not in html and "<svg" not in html and "<iframe" not in html
        assert "onerror=" not in html or "&" in html  # only as escaped text
        parsed = audit(html)
        assert all(name not in ("onerror", "onload", "onmouseover") for _, attrs in parsed.tags for name in attrs)

    def test_escapes_before_formatting(self) -> None:
        assert str(whatsapp_html("*<b>*")) == "<strong>&lt;b&gt;</strong>"
        assert str(whatsapp_html("a & b")) == "a &amp; b"

    def test_links_only_http_and_https(self) -> None:
        html = str(whatsapp_html("mira https://tienda.example/p?id=1&x=2. o javascript:alert(1) o ftp://x.example"))
        assert html.count("<a ") == 1
        assert 'href="https://tienda.example/p?id=1&amp;x=2"' in html
        assert "</a>." in html  # sentence punctuation stays outside
        assert 'rel="noopener noreferrer nofollow"' in html and 'target="_blank"' in html

    def test_no_formatting_inside_urls_or_code(self) -> None:
        html = str(whatsapp_html("https://x.example/a_b_c_d and ```*not bold*```"))
        assert "<em>" not in html and "<strong>" not in html
        assert 'href="https://x.example/a_b_c_d"' in html

    def test_parenthesised_urls(self) -> None:
        html = str(whatsapp_html("(ver https://es.wikipedia.org/wiki/Olivo_(planta))"))
        assert 'href="https://es.wikipedia.org/wiki/Olivo_(planta)"' in html
        assert html.endswith("</a>)")

    def test_quote_cannot_break_out_of_href(self) -> None:
        html = str(whatsapp_html('https://x.example/"><script>'))
        parsed = audit(html)
        assert [tag for tag, _ in parsed.tags] == ["a"]
        assert parsed.tags[0][1]["href"] == "https://x.example/"

    def test_long_message(self) -> None:
        text = ("*negrita* " * 500)[:4096]
        html = str(whatsapp_html(text))
        assert html.count("<strong>") == 409

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("*_~`<>\"'&/: abc\nhttps.x=()")), max_size=80))
    def test_property_only_allowed_tags_and_text_preserved(self, text: str) -> None:
        html = str(whatsapp_html(text))
        parsed = audit(html)
        # Removing tags gives back the original text minus the markers that were consumed.
        stripped = "".join(c for c in parsed.text if c not in "*_~`")
        original = "".join(c for c in text if c not in "*_~`")
        assert stripped == original
