"""The web server of webhook mode (PTB's custom-webhook pattern, examples/customwebhookbot):
one tornado server on NEWSBOT_WEBHOOK_LISTEN serving

- the webhook path: Telegram POSTs updates there with the secret header; a wrong or missing
  secret (or a body that is not JSON) gets 403, as PTB's own webhook server answers; an update
  is put on `application.update_queue`, which the running application handles;
- `GET /healthz`: JSON — whether the index answers, its size, the last ingest, the uptime;
  200 when the index is reachable, 503 when not (a load balancer or Docker HEALTHCHECK reads
  the status code);
- `GET /metrics`: the bot's Prometheus metrics (`bot.telegram.metrics`).

Tornado because PTB's webhooks extra already brings it (and it is what `run_webhook` served
with): no other web framework to install, and no server that installs its own signal handlers.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from http import HTTPStatus
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.telegram.context import SERVICE_KEY
from bot.telegram.metrics import CONTENT_TYPE
from bot.telegram.service import NewsService
from retrieval.errors import NewsbotError

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
HEALTH_TIMEOUT = 5.0  # seconds the index may take to answer a health check


async def health(service: NewsService, *, within: float = HEALTH_TIMEOUT) -> tuple[int, dict]:
    """(HTTP status, JSON body) of a health check. The index status blocks (Chroma), so it runs
    in a thread and counts as unreachable when it takes longer than `within` seconds."""
    body: dict[str, Any] = {"status": "ok"}
    index: dict[str, Any]
    last_ingest = None
    try:
        status = await asyncio.wait_for(asyncio.to_thread(service.status), within)
    except TimeoutError:
        logger.warning("health check: the index did not answer within %.1f s", within)
        index = {"reachable": False, "error": f"no answer within {within:g} s"}
    except NewsbotError as error:  # the store's own words are in the log already
        index = {"reachable": False, "error": type(error).__name__}
    except Exception as error:
        logger.warning("health check failed", exc_info=True)
        index = {"reachable": False, "error": type(error).__name__}
    else:
        index = {
            "reachable": True,
            "articles": status.articles,
            "passages": status.chunks,
            "collection": status.collection,
        }
        last_ingest = status.last_ingest
    if not index["reachable"]:
        body["status"] = "degraded"
    body.update(index=index, last_ingest=last_ingest, uptime_seconds=round(service.state.uptime, 1))
    return (HTTPStatus.OK if index["reachable"] else HTTPStatus.SERVICE_UNAVAILABLE), body


class _Base(tornado.web.RequestHandler):
    """What every handler of the web server shares: the bot application and its service."""

    def initialize(self, bot_app: Application, secret: str | None = None) -> None:
        self.bot_app = bot_app  # tornado's own `self.application` is the web app
        self.secret = secret

    @property
    def service(self) -> NewsService:
        return self.bot_app.bot_data[SERVICE_KEY]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish({"error": self._reason})  # never a traceback, whatever `debug` says


class WebhookHandler(_Base):
    """POST of an update from Telegram, checked for the secret header."""

    SUPPORTED_METHODS = ("POST",)

    async def post(self) -> None:
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != "application/json":
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN, reason="not JSON")
        given = self.request.headers.get(SECRET_HEADER)
        if self.secret is not None and (
            not given or not hmac.compare_digest(given.encode(), self.secret.encode())
        ):
            logger.debug("webhook call refused: missing or wrong secret")  # never the value
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN, reason="wrong secret")
        bot = self.bot_app.bot
        try:
            update = Update.de_json(json.loads(self.request.body), bot)
        except Exception as error:
            logger.error("webhook: an update that cannot be read (%s)", type(error).__name__)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST, reason="bad update") from None
        if update is not None:
            if isinstance(bot, ExtBot):
                bot.insert_callback_data(update)
            await self.bot_app.update_queue.put(update)
        self.set_status(HTTPStatus.OK)


class HealthHandler(_Base):
    """GET /healthz: whether the bot and its index are up."""

    SUPPORTED_METHODS = ("GET",)

    async def get(self) -> None:
        status, body = await health(self.service)
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(body)


class MetricsHandler(_Base):
    """GET /metrics: the bot's counters for Prometheus."""

    SUPPORTED_METHODS = ("GET",)

    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(self.service.state.metrics.exposition())


class _App(tornado.web.Application):
    """The tornado application, without a log line per request."""

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """Quiet: one log line per webhook call would drown the bot's own lines."""


def make_app(application: Application, *, webhook_path: str, secret: str | None) -> _App:
    shared = {"bot_app": application}
    path = "/" + webhook_path.strip("/")
    return _App(
        [
            (HEALTH_PATH, HealthHandler, shared),
            (METRICS_PATH, MetricsHandler, shared),
            (rf"{re.escape(path)}/?", WebhookHandler, {**shared, "secret": secret}),
        ]
    )


class WebServer:
    """The tornado HTTP server around `make_app`: `start()` listens (OSError when it cannot),
    `stop()` closes the socket and every open connection."""

    def __init__(
        self,
        application: Application,
        *,
        host: str,
        port: int,
        webhook_path: str,
        secret: str | None,
    ):
        self.host, self.port = host, port
        self._server = tornado.httpserver.HTTPServer(
            make_app(application, webhook_path=webhook_path, secret=secret)
        )
        self.running = False

    def start(self) -> None:
        self._server.listen(self.port, address=self.host)
        self.running = True

    async def stop(self) -> None:
        if self.running:
            self.running = False
            self._server.stop()
            await self._server.close_all_connections()
