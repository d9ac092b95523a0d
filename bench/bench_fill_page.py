"""What a phone downloads to fill a 40-item visit, and what it downloads again offline.

Measures (1) the fill page's first-load transfer size: the HTML plus every CSS and JS file it loads,
gzip-compressed as a server would send them (target: at most 100 KB; the web form engines in use today
send 1-2 MB); and (2) in Debian's Chromium, a repeat load of the same page with the network off:
how many requests leave the phone (target: zero; the service worker answers them all).

Run: .venv/bin/python bench/bench_fill_page.py [--json PATH]
"""
import gzip
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from audit.db import database  # noqa: E402
from audit.models import User, Visit  # noqa: E402
from bench._setup import demo_app, signed_in, write_figures  # noqa: E402


def first_load_sizes(app, client, fill_url):
    html = client.get(fill_url).data
    assets = re.findall(rb'(?:href|src)="(/static/[^"?]+\.(?:css|js)(?:\?v=[0-9a-f]+)?)"', html)
    rows = [("fill page HTML", html)]
    for path in assets:
        rows.append((path.decode().split("?")[0], client.get(path.decode()).data))
    return [(name, len(body), len(gzip.compress(body, 6))) for name, body in rows]


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per request: the bench's own table is its output."""

    def log_request(self, *args, **kwargs):
        pass


def offline_repeat_load(app, fill_url):
    from playwright.sync_api import sync_playwright

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu",
                                                           "--disable-background-networking", "--disable-component-update"])
            context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("#email", "shopper1@example.com")
            page.fill("#password", "demo-password")
            page.click("button.primary")
            page.wait_for_selector("[data-offline-note]:not([hidden])", timeout=15000)
            page.wait_for_timeout(500)
            context.set_offline(True)
            from_network, from_worker = [], []
            page.on("response", lambda r: (from_worker if r.from_service_worker else from_network).append(r.url))
            page.goto(base + fill_url)
            page.wait_for_timeout(500)
            browser.close()
            return from_network, from_worker
    finally:
        server.shutdown()


def main():
    app, _folder = demo_app()
    with app.app_context(), database.connection_context():
        visit = (Visit.select().join(User).where((User.email == "shopper1@example.com") & (Visit.state == "assigned"))
                 .first())
        fill_url = f"/visits/{visit.uuid}/fill"
        items = sum(len(s["items"]) for s in visit.checklist_version.content["sections"])
    client, _token = signed_in(app, "shopper1@example.com")
    rows = first_load_sizes(app, client, fill_url)
    print(f"Fill page of a {items}-item checklist, first load:")
    print(f"{'resource':<24} {'bytes':>9} {'gzip':>8}")
    print(f"{'-' * 24} {'-' * 9} {'-' * 8}")
    for name, raw, packed in rows:
        print(f"{name:<24} {raw:>9,} {packed:>8,}")
    total = sum(r[2] for r in rows)
    print(f"{'total':<24} {sum(r[1] for r in rows):>9,} {total:>8,}")
    print(f"Target: at most 100 KB compressed: {'met' if total <= 100 * 1024 else 'MISSED'} ({total / 1024:.1f} KB)")
    network, worker = offline_repeat_load(app, fill_url)
    print(f"\nRepeat load with the network off: {len(network)} requests reached the network, "
          f"{len(worker)} answered by the service worker.")
    print(f"Target: zero network requests: {'met' if not network else 'MISSED'}")
    if "--json" in sys.argv:
        write_figures(sys.argv[sys.argv.index("--json") + 1], {"fill_page_gzip_kb": total / 1024, "offline_network_requests": len(network)})


if __name__ == "__main__":
    main()
