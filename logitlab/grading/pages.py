"""Inert HTML pages from untrusted content: the one sanitizer and page policy of everything the grader writes as HTML.

Feedback pages (`feedback.py`) and any later report use the same two steps:

1. `clean_html(fragment)`: HTML from a submission (an output's text/html, a rendered markdown cell)
   goes through nh3 (the Rust sanitizer ammonia) with a short allowlist: text, lists, tables, links to
   http(s)/mailto and images embedded as data: URLs. No script, no event handler, no `style`, `class`
   or `id`, no relative URL (so nothing can point at a classmate's page or restyle the grader's).
2. `inert_page(title, body)`: the whole body is sanitized once more (the grader's own classes and ids
   allowed) and wrapped in a document whose Content-Security-Policy forbids every script and every
   request: only the page's own stylesheet (by its hash: no other `<style>` or `style=` applies) and
   data: images load.
"""

import base64
import hashlib
import html

import nh3

SCHEMES = {"http", "https", "mailto", "data"}
DATA_IMAGES = tuple(f"data:image/{kind};base64," for kind in ("png", "jpeg", "gif", "webp", "svg+xml"))
TEXT_TAGS = {"p", "br", "hr", "b", "i", "em", "strong", "code", "pre", "kbd", "samp", "var", "sub", "sup", "s",
             "del", "ins", "u", "mark", "small", "q", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
             "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
             "a", "img", "span", "div"}
TEXT_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"},
                   "ol": {"start"}}
PAGE_TAGS = TEXT_TAGS | {"header", "section", "main", "nav", "details", "summary", "figure", "figcaption"}
# Content-Security-Policy of every page; {style} is the hash of the page's one stylesheet.
POLICY = ("default-src 'none'; script-src 'none'; object-src 'none'; style-src {style}; img-src data:; "
          "font-src 'none'; connect-src 'none'; frame-src 'none'; child-src 'none'; worker-src 'none'; "
          "media-src 'none'; manifest-src 'none'; base-uri 'none'; form-action 'none'")


def _keep_url(tag, attribute, value):
    """attribute_filter: data: URLs only as embedded images, anything else only as a link."""
    if attribute == "src":
        return value if tag == "img" and value.startswith(DATA_IMAGES) else None
    if attribute == "href" and value.lower().startswith("data:"):
        return None
    return value


def clean_html(fragment):
    """HTML from a submission, sanitized with nh3: safe text markup only, nothing that runs, loads or styles."""
    return nh3.clean(str(fragment), tags=TEXT_TAGS, clean_content_tags={"script", "style"},
                     attributes=TEXT_ATTRIBUTES, attribute_filter=_keep_url, url_schemes=SCHEMES,
                     url_relative="deny", strip_comments=True, generic_attribute_prefixes=set())


def text(value):
    """Plain text (anything: a student's name, a reason) escaped for HTML."""
    return html.escape(str(value), quote=True)


def data_image(mime, payload, alt=None):
    """An <img> of an image: `payload` is the base64 text of a notebook's image output (or of PNG bytes), or an
    SVG's source, which goes in as a data: image, where its scripts and links never run."""
    if mime == "image/svg+xml":
        payload = base64.b64encode(str(payload).encode("utf-8")).decode("ascii")
    else:
        payload = "".join(str(payload).split())
    return f'<img src="data:{mime};base64,{text(payload)}" alt="{text(alt or mime + " output")}">'


def style_source(css):
    """The CSP source that lets exactly this stylesheet (and no other) apply."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def inert_page(title, body, css, classes=(), ids=True):
    """A complete HTML page: `body` (the grader's markup around `clean_html` output) sanitized again, under a
    Content-Security-Policy that forbids script and requests; `css` is the page's only stylesheet.

    `classes` are the class names the grader's own markup may use; `ids` keeps `id` attributes (for links
    within the page, which are the only relative links kept).
    """
    attributes = {tag: set(names) for tag, names in TEXT_ATTRIBUTES.items()}
    attributes["*"] = {"title"} | ({"id"} if ids else set())
    body = nh3.clean(body, tags=PAGE_TAGS, clean_content_tags={"script", "style"}, attributes=attributes,
                     attribute_filter=_keep_url, url_schemes=SCHEMES,
                     url_relative=lambda url: url if url.startswith("#") else None,
                     allowed_classes={tag: set(classes) for tag in PAGE_TAGS}, strip_comments=True)
    policy = POLICY.format(style=style_source(css))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{text(policy)}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{text(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n{body}\n</body></html>\n")
