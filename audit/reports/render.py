"""HTML to PDF with WeasyPrint, which may read the app's own static and media files and nothing else."""
import os
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration

from .charts import ACCENT_CONTRAST, DEFAULT_ACCENT, DEFAULT_COLOUR, MAIN_CONTRAST, readable_colour

PRINT_CSS = Path(__file__).with_name("print.css")


class AppFileFetcher(URLFetcher):
    """Serve file:// URLs inside the allowed folders; refuse every other URL (and record it)."""

    def __init__(self, roots, **kwargs):
        super().__init__(**kwargs)
        self.roots = [os.path.realpath(root) for root in roots]
        self.refused = []

    def _is_allowed(self, url):
        parts = urlsplit(url)
        if parts.scheme == "data":
            return True  # inline data carries no request
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = os.path.realpath(unquote(parts.path))
        return any(path == root or path.startswith(root + os.sep) for root in self.roots)

    def fetch(self, url, headers=None):
        if not self._is_allowed(url):
            self.refused.append(url)
            raise ValueError(f"The report may not load {url!r}: only the app's own files.")
        return super().fetch(url, headers)


def asset_url(kind, name):
    """file:// URL of an app file for the report: kind is 'static', 'logo' or 'photo'."""
    if kind == "static":
        folder = current_app.static_folder
    elif kind == "logo":
        folder = os.path.join(current_app.config["MEDIA_DIR"], "logos")
    elif kind == "photo":
        folder = os.path.join(current_app.config["MEDIA_DIR"], "photos")
    else:
        raise ValueError(kind)
    return Path(folder, os.path.basename(name)).resolve().as_uri()


def brand_colours(brand):
    """(main, accent) colours of a brand as its reports print them: darkened to be read on white
    paper and behind white headings when the brand's own are too pale (see charts.readable_colour)."""
    return (readable_colour(brand.primary_color, DEFAULT_COLOUR, MAIN_CONTRAST),
            readable_colour(brand.accent_color, DEFAULT_ACCENT, ACCENT_CONTRAST))


def render_pdf(template, fetcher=None, **context):
    """Render a print template to PDF bytes; returns (pdf, fetcher) so callers can see what was refused."""
    fetcher = fetcher or AppFileFetcher(
        [current_app.static_folder, current_app.config["MEDIA_DIR"]]
    )
    html = render_template(template, asset_url=asset_url, colours=brand_colours(context["brand"]), **context)
    document = HTML(string=html, base_url=Path(current_app.static_folder).as_uri() + "/", url_fetcher=fetcher)
    # Tagged (headings, tables, paragraphs and the reading order marked): a screen reader reads the
    # report as the page shows it. Untagged, a board member using one heard an unordered stream.
    pdf = document.write_pdf(stylesheets=[CSS(filename=str(PRINT_CSS))], font_config=_font_config(), pdf_tags=True)
    return pdf, fetcher


_fonts = threading.local()


def _font_config():
    """One WeasyPrint font configuration per thread, reused by every PDF it renders.

    Without one, write_pdf builds a new fontconfig + Pango font map per PDF and native memory keeps
    about 0.24 MB of each: a region's ZIP of 500 reports grew the worker by 140 MB (bench_zip_memory).
    Per thread, because Pango objects must not be shared between threads. print.css declares no
    @font-face, so nothing document-specific is kept in it.
    """
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config
