"""Article pages on loopback for the end-to-end tests (`/add URL`, URL sources), and the pages
they serve. The bot process itself is `devkit.bot_process`."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PageServer:
    """Article pages on loopback for `/add URL` and URL sources; a page may answer slowly."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, float]] = {}
        self.hits: list[str] = []
        pages, hits = self.pages, self.hits

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_GET(self):
                hits.append(self.path)
                page = pages.get(self.path)
                if page is None:
                    self.send_error(404)
                    return
                body, delay = page
                time.sleep(delay)
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the reader gave up (stopped)
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def add(self, path: str, html: str, *, delay: float = 0.0) -> str:
        self.pages[path] = (html, delay)
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def article_page(title: str, site: str, date: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{date}">
</head><body><header><nav>Home | World | Peace</nav></header>
<article><h1>{title}</h1>
{body}
</article><footer>Copyright {site}</footer></body></html>"""


HAVANA_TITLE = "Colombia and ELN Rebels Resume Peace Talks in Havana"
HAVANA = article_page(
    HAVANA_TITLE,
    "Peace Wire",
    "2023-11-21T10:00:00Z",
    [
        "Negotiators for the Colombian government and the National Liberation Army, known as "
        "the ELN, resumed peace talks in Havana on Tuesday after a three-week pause.",
        "The talks in the Cuban capital are mediated by Cuba and Norway, which act as "
        "guarantor countries, and focus on extending a bilateral ceasefire.",
        "Government negotiator Vera Grabe said the delegations would discuss the "
        "participation of civil society before the end of the year.",
        "The ELN, founded in 1964, is the largest guerrilla group still active in Colombia "
        "after the FARC signed a peace agreement in 2016.",
    ],
)
JEDDAH_TITLE = "Sudan Ceasefire Talks Reopen in Jeddah"
JEDDAH = article_page(
    JEDDAH_TITLE,
    "Horn Monitor",
    "2023-10-29T08:00:00Z",
    [
        "Delegations of the Sudanese army and the Rapid Support Forces returned to Jeddah, "
        "Saudi Arabia, for ceasefire talks hosted by Saudi Arabia and the United States.",
        "The Jeddah talks aim to secure humanitarian access and a lasting truce after months "
        "of fighting in Khartoum and Darfur.",
        "Mediators said the sides agreed to improve the delivery of aid to civilians.",
    ],
)
