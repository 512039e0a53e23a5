"""A Bot API server on loopback that speaks the HTTP API python-telegram-bot 22 uses.

`TELEGRAM_API_BASE_URL=<server.base_url>` points the bot at it. It answers
`POST /bot<token>/<method>` with `{"ok": ..., "result": ...}` the way Telegram does: getMe,
getUpdates (real long polling: `timeout`, `offset` confirming updates), sendMessage,
editMessageText, sendChatAction, answerCallbackQuery, answerInlineQuery, getChatMember
(members are "member" unless `set_member` says otherwise), setWebhook,
deleteWebhook, getWebhookInfo, setMyCommands, getMyCommands, deleteMyCommands. HTML text is
parsed as strictly as Telegram does (`telegram_html`); messages over 4096 characters, edits
that change nothing, unknown chats and unknown messages get Telegram's 400 errors; a wrong
token gets 401; getUpdates while a webhook is set gets 409.

Tests enqueue updates (users' messages with the entities Telegram would attach, channel
posts, button presses, inline queries). In webhook mode the same helpers POST the update to
the bot's webhook with the secret header instead. Every call is recorded; `wait_for` blocks
until a condition over the recorded calls holds. `fail(method, ...)` injects error replies:
429 with retry_after, 400, 5xx, or a dropped connection; `outage(seconds, ...)` fails every
call for a while (Telegram down: 5xx, or connections dropped); `block(chat)` makes every
message to a chat fail with 403, as when a user blocks the bot.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from devkit import telegram_html

TOKEN = "123456789:AAE-fake-token-for-tests_0123456789"
BOT_ID = 123456789
BOT_USERNAME = "newsbot_test_bot"
MAX_TEXT = 4096
STRING_PARAMS = {
    "text",
    "query",
    "parse_mode",
    "callback_query_id",
    "inline_query_id",
    "url",
    "secret_token",
    "action",
    "next_offset",
    "language_code",
    "caption",
    "inline_message_id",
}


@dataclass
class Call:
    """One Bot API call the bot made, as the server recorded it."""

    method: str  # as the bot spelled it, e.g. "sendMessage"
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None

    @property
    def name(self) -> str:
        return self.method.lower()


@dataclass
class Failure:
    """A failure injected into a method's calls: an error response or a dropped connection."""

    status: int
    description: str
    retry_after: int | None = None
    drop: bool = False


@dataclass
class FakeBotApi:
    """The Bot API's state and behaviour: updates to hand out, messages sent, calls recorded."""

    token: str = TOKEN
    bot_id: int = BOT_ID
    bot_username: str = BOT_USERNAME
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._chats: dict[int, dict] = {}
        self.messages: dict[tuple[int, int], dict] = {}  # every message, by (chat, id)
        self.failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.outages: list[tuple[float, float, Failure]] = []  # (start, end) monotonic
        self.webhook: dict | None = None
        self.commands: dict[str, list[dict]] = {}
        self.members: dict[tuple[int, int], str] = {}  # (chat, user) -> status
        self.blocked: set[int] = set()
        self._stopping = False
        self._server: ThreadingHTTPServer | None = None
        self._user_ids = itertools.count(1001)
        self.bot_user = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Newsbot",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        api = self

        class Handler(_Handler):
            """The request handler bound to this server's `FakeBotApi`."""

            server_api = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- making users, chats and updates --------------------------------------------------

    def user(
        self,
        first_name: str = "Reader",
        *,
        user_id: int | None = None,
        is_bot: bool = False,
        username: str | None = None,
    ) -> dict:
        user = {"id": user_id or next(self._user_ids), "is_bot": is_bot, "first_name": first_name}
        if username:
            user["username"] = username
        return user

    def private_chat(self, user: dict) -> dict:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        self._chats[chat["id"]] = chat
        return chat

    def group(
        self, title: str = "Peace desk", *, chat_id: int = -1001000000001, supergroup: bool = True
    ) -> dict:
        chat = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        self._chats[chat_id] = chat
        return chat

    def channel(self, title: str = "Peace wire", *, chat_id: int = -1002000000001) -> dict:
        chat = {"id": chat_id, "type": "channel", "title": title}
        self._chats[chat_id] = chat
        return chat

    def message(
        self,
        chat: dict,
        text: str | None,
        *,
        sender: dict | None = None,
        reply_to: dict | None = None,
        **extra,
    ) -> dict:
        """A message from `sender` (None: a channel post) in `chat`, stored, not yet sent."""
        self._chats.setdefault(chat["id"], chat)
        message = {
            "message_id": next(self._message_ids[chat["id"]]),
            "date": int(time.time()),
            "chat": chat,
            **extra,
        }
        if sender is not None:
            message["from"] = sender
        else:
            message["sender_chat"] = chat
        if text is not None:
            message["text"] = text
            entities = entities_for(text)
            if entities:
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def send_text(
        self,
        chat: dict,
        text: str | None,
        *,
        sender: dict | None = None,
        reply_to: dict | None = None,
        **extra,
    ) -> dict:
        """A user writes `text` in `chat`: the update reaches the bot. Returns the message."""
        message = self.message(chat, text, sender=sender, reply_to=reply_to, **extra)
        key = "channel_post" if chat["type"] == "channel" else "message"
        self.push({key: message})
        return message

    def press(self, user: dict, message: dict, data: str) -> str:
        """`user` presses an inline button (callback data `data`) under a bot `message`."""
        query_id = str(next(self._update_ids) * 1000 + 7)
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": "ci-1",
                    "message": message,
                    "data": data,
                }
            }
        )
        return query_id

    def inline(self, user: dict, query: str) -> str:
        query_id = f"iq{next(self._update_ids)}"
        self.push({"inline_query": {"id": query_id, "from": user, "query": query, "offset": ""}})
        return query_id

    def push(self, payload: dict) -> int:
        """Deliver an update: to the webhook when one is set, else to getUpdates."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **payload}
            webhook = self.webhook
            if webhook is None:
                self._updates.append(update)
                self._cond.notify_all()
                return update["update_id"]
        status = self.deliver_to_webhook(update, secret=webhook.get("secret_token"))
        if status != 200:
            raise AssertionError(f"the bot's webhook answered {status}")
        return update["update_id"]

    def deliver_to_webhook(
        self, update: dict, *, secret: str | None, give_up_after: float = 60.0
    ) -> int:
        """POST an update as Telegram does: a refused connection or a 5xx answer is retried
        with backoff (the bot's web server may not listen yet right after setWebhook)."""
        deadline = time.monotonic() + give_up_after
        delay = 0.05
        while True:
            try:
                status = self.post_to_webhook(update, secret=secret)
            except httpx.TransportError:
                status = None
            if status is not None and status < 500:
                return status
            if time.monotonic() + delay > deadline:
                if status is None:
                    raise AssertionError("the bot's webhook could not be reached")
                return status
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def post_to_webhook(self, update: dict, *, secret: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        response = httpx.post(
            self.webhook["url"], content=json.dumps(update), headers=headers, timeout=10
        )
        return response.status_code

    def fail(
        self,
        method: str,
        status: int = 400,
        description: str = "Bad Request: test",
        *,
        retry_after: int | None = None,
        drop: bool = False,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail like this."""
        if status == 429 and retry_after is not None:
            description = f"Too Many Requests: retry after {retry_after}"
        for _ in range(times):
            self.failures[method.lower()].append(
                Failure(0 if drop else status, description, retry_after, drop)
            )

    def set_member(self, chat: dict, user: dict, status: str) -> None:
        """`user`'s status in `chat` for getChatMember: creator, administrator, member..."""
        self.members[(chat["id"], user["id"])] = status

    def block(self, chat: dict) -> None:
        """Messages to `chat` fail with 403 from now on (the user blocked the bot)."""
        with self._cond:
            self.blocked.add(chat["id"])

    def outage(
        self,
        seconds: float,
        status: int = 502,
        description: str = "Bad Gateway",
        *,
        drop: bool = False,
    ) -> tuple[float, float]:
        """Every call fails like this for `seconds`, from now or from the end of the outage
        already planned; returns its (start, end) in `time.monotonic()` time. Updates sent
        meanwhile wait, as Telegram keeps them."""
        with self._cond:
            start = max([time.monotonic(), *(end for _, end, _ in self.outages)])
            failure = Failure(0 if drop else status, description, None, drop)
            self.outages.append((start, start + seconds, failure))
        return start, start + seconds

    # -- looking at what the bot did -------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = True, **match) -> list[Call]:
        with self._cond:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if c.name == method.lower()
            and (c.status == 200 or not ok_only)
            and all(_same(c.params.get(k), v) for k, v in match.items())
        ]

    def sent_to(self, chat_id: int) -> list[Call]:
        return self.calls_to("sendMessage", chat_id=chat_id)

    def wait_for(self, condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
        """Block until `condition()` is truthy (re-checked on every call); return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                self._cond.release()
                try:
                    result = condition()
                finally:
                    self._cond.acquire()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what or condition}")
                self._cond.wait(min(left, 0.2))

    def wait_calls(self, method: str, count: int = 1, timeout: float = 30.0, **match) -> list[Call]:
        return self.wait_for(
            lambda: (calls := self.calls_to(method, **match)) and len(calls) >= count and calls,
            timeout,
            f"{count} {method} {match}",
        )

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    # -- the API ---------------------------------------------------------------------------

    def handle(self, token: str, method: str, params: dict) -> tuple[int, dict] | None:
        name = method.lower()
        with self._cond:
            call = Call(method, params, time.monotonic())
            self.calls.append(call)
            self._cond.notify_all()
            if token != self.token:
                call.status = 401
                return 401, _error(401, "Unauthorized")
            queue = self.failures.get(name)
            failure = next((f for start, end, f in self.outages if start <= call.at < end), None)
            if failure is None and queue:
                failure = queue.popleft()
            if failure is not None:
                call.status = failure.status
                if failure.drop:
                    return None
                reply = _error(failure.status, failure.description)
                if failure.retry_after is not None:
                    reply["parameters"] = {"retry_after": failure.retry_after}
                return failure.status, reply
        if name == "getupdates":
            return self._get_updates(call, params)
        handler = getattr(self, f"_api_{name}", None)
        if handler is None:
            call.status = 404
            return 404, _error(404, "Not Found")
        try:
            with self._cond:
                result = handler(params)
                self._cond.notify_all()
        except _ApiError as error:
            call.status = error.status
            return error.status, _error(error.status, error.description)
        call.result = result
        return 200, {"ok": True, "result": result}

    def _get_updates(self, call: Call, params: dict) -> tuple[int, dict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook is not None:
                call.status = 409
                return 409, _error(
                    409,
                    "Conflict: can't use getUpdates method while webhook "
                    "is active; use deleteWebhook to delete the webhook first",
                )
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return 200, {"ok": True, "result": self._updates[:limit]}

    def _api_getme(self, params: dict) -> dict:
        return self.bot_user

    def _api_logout(self, params: dict) -> bool:
        return True

    def _api_close(self, params: dict) -> bool:
        return True

    def _api_deletewebhook(self, params: dict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_setwebhook(self, params: dict) -> bool:
        if not params.get("url"):
            raise _ApiError(400, "Bad Request: bad webhook: URL must be provided")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {
            "url": params["url"],
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
        }
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_getwebhookinfo(self, params: dict) -> dict:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _api_setmycommands(self, params: dict) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") == "chat" and scope.get("chat_id") not in self._chats:
            raise _ApiError(400, "Bad Request: chat not found")
        self.commands[json.dumps(scope, sort_keys=True)] = commands
        return True

    def _api_getmycommands(self, params: dict) -> list:
        scope = params.get("scope") or {"type": "default"}
        return self.commands.get(json.dumps(scope, sort_keys=True), [])

    def _api_deletemycommands(self, params: dict) -> bool:
        scope = params.get("scope") or {"type": "default"}
        self.commands.pop(json.dumps(scope, sort_keys=True), None)
        return True

    def _api_sendchataction(self, params: dict) -> bool:
        self._chat(params.get("chat_id"))
        return True

    def _api_getchatmember(self, params: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        user_id = int(params.get("user_id") or 0)
        status = self.members.get((chat["id"], user_id), "member")
        member: dict[str, Any] = {
            "status": status,
            "user": {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"},
        }
        if status in ("creator", "administrator"):
            member["is_anonymous"] = False
        if status == "administrator":
            member.update(
                {
                    right: True
                    for right in (
                        "can_be_edited can_manage_chat can_delete_messages "
                        "can_manage_video_chats can_restrict_members can_promote_members "
                        "can_change_info can_invite_users can_post_stories can_edit_stories "
                        "can_delete_stories"
                    ).split()
                }
            )
        return member

    def _api_sendmessage(self, params: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        if chat["id"] in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        text = _check_text(params)
        message = {
            "message_id": next(self._message_ids[chat["id"]]),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            "text": text,
        }
        reply = params.get("reply_parameters") or {}
        if reply:
            replied = self.messages.get((chat["id"], reply.get("message_id")))
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise _ApiError(400, "Bad Request: message to be replied not found")
            if replied is not None:
                message["reply_to_message"] = replied
        if params.get("reply_markup"):
            message["reply_markup"] = _check_markup(params["reply_markup"])
        message["html"] = params.get("text")  # test-side convenience, not in Telegram's reply
        self.messages[(chat["id"], message["message_id"])] = message
        return {k: v for k, v in message.items() if k != "html"}

    def _api_editmessagetext(self, params: dict) -> dict | bool:
        if params.get("inline_message_id"):
            _check_text(params)
            return True
        chat = self._chat(params.get("chat_id"))
        message = self.messages.get((chat["id"], params.get("message_id")))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited")
        text = _check_text(params)
        markup = _check_markup(params["reply_markup"]) if params.get("reply_markup") else None
        if message.get("html") == params.get("text") and message.get("reply_markup") == markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        message.update(text=text, html=params.get("text"), edit_date=int(time.time()))
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return {k: v for k, v in message.items() if k != "html"}

    def _api_answercallbackquery(self, params: dict) -> bool:
        if not params.get("callback_query_id"):
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired")
        return True

    def _api_answerinlinequery(self, params: dict) -> bool:
        results = params.get("results") or []
        if len(results) > 50:
            raise _ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        for result in results:
            content = result.get("input_message_content") or {}
            _check_text(
                {"text": content.get("message_text"), "parse_mode": content.get("parse_mode")}
            )
            if not result.get("id") or len(result["id"].encode()) > 64:
                raise _ApiError(400, "Bad Request: RESULT_ID_INVALID")
        return True

    def _chat(self, chat_id: Any) -> dict:
        chat = self._chats.get(chat_id if not isinstance(chat_id, str) else _int(chat_id))
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat


class _ApiError(Exception):
    """A Bot API error response (status and description)."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str) -> dict:
    return {"ok": False, "error_code": status, "description": description}


def _int(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value


def _same(actual: Any, expected: Any) -> bool:
    return actual == expected or (isinstance(actual, str) and str(expected) == actual)


def _check_text(params: dict) -> str:
    raw = params.get("text")
    if raw is None or not str(raw).strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    text = str(raw)
    if (params.get("parse_mode") or "").upper() == "HTML":
        try:
            text = telegram_html.parse(text)
        except telegram_html.ParseError as error:
            raise _ApiError(400, f"Bad Request: can't parse entities: {error}") from None
    text = text.strip()
    if not text:
        raise _ApiError(400, "Bad Request: message text is empty")
    if telegram_html.utf16_len(text) > MAX_TEXT:
        raise _ApiError(400, "Bad Request: message is too long")
    return text


def _check_markup(markup: dict) -> dict:
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def entities_for(text: str) -> list[dict]:
    """The entities Telegram attaches: a leading bot command, and @username mentions."""
    entities = []
    command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
    if command:
        entities.append(
            {"type": "bot_command", "offset": 0, "length": telegram_html.utf16_len(command.group())}
        )
    for mention in re.finditer(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}", text):
        entities.append(
            {
                "type": "mention",
                "offset": telegram_html.utf16_len(text[: mention.start()]),
                "length": telegram_html.utf16_len(mention.group()),
            }
        )
    return entities


class _Handler(BaseHTTPRequestHandler):
    """The HTTP side of the loopback server: each request to a `FakeBotApi` method."""

    protocol_version = "HTTP/1.1"
    server_api: FakeBotApi

    def log_message(self, format: str, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length) if length else b"")

    def _serve(self, body: bytes) -> None:
        parts = urlsplit(self.path)
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", parts.path)
        if not match:
            self._send(404, _error(404, "Not Found"))
            return
        params = dict(_decode(k, v) for k, v in parse_qsl(parts.query))
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == "application/json" and body:
            params.update(json.loads(body))
        elif body:
            fields = parse_qsl(body.decode(), keep_blank_values=True)
            params.update(_decode(k, v) for k, v in fields)
        outcome = self.server_api.handle(match.group(1), match.group(2), params)
        if outcome is None:  # a dropped connection
            self.close_connection = True
            return
        self._send(*outcome)

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the bot hung up (it is stopping)
            self.close_connection = True


def _decode(key: str, value: str) -> tuple[str, Any]:
    """PTB sends strings as they are and everything else JSON-encoded."""
    if key in STRING_PARAMS:
        return key, value
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value
