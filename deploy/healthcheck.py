"""The container's HEALTHCHECK: GET /healthz of the bot's web server (webhook mode).

Exit 0 when it answers 200, 1 otherwise. In long-polling mode (NEWSBOT_WEBHOOK_URL unset)
the bot serves no HTTP at all, so there is nothing to ask: the check passes, and Docker's
health then only says the process runs (it exits on a fatal error, and the restart policy
takes over). Standard library only: it runs in the image without the project's imports.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def health_url(environ: dict[str, str]) -> str | None:
    """The /healthz URL on loopback, or None in polling mode."""
    if not environ.get("NEWSBOT_WEBHOOK_URL", "").strip():
        return None
    listen = environ.get("NEWSBOT_WEBHOOK_LISTEN", "").strip() or "0.0.0.0:8443"
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def check(environ: dict[str, str], timeout: float = 8.0) -> int:
    url = health_url(environ)
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:  # 503 arrives as an HTTPError
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(check(dict(os.environ)))
