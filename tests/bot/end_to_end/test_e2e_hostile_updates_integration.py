"""Odd and hostile updates through the real `newsbot serve` process (long polling, the loopback
Bot API server): each gets a short reply or is ignored, never an exception, and the process
stays up and goes on answering. With the default settings (no NEWSBOT_FETCH_ALLOW_HOSTS), an
admin's `/add` of a loopback or metadata address, however written, reaches nothing."""

from __future__ import annotations

import random
import shutil

import pytest

from bot.telegram import replies
from devkit.bot_process import SEED_TITLE, BotProcess
from devkit.botapi_server import BOT_USERNAME, FakeBotApi
from tests.bot.conftest import ADMIN_ID
from tests.bot.e2e import JEDDAH, PageServer

pytestmark = pytest.mark.integration
MOSCOW = "Who is invited to Moscow?"
STICKER = {
    "file_id": "s",
    "file_unique_id": "u",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
}


@pytest.fixture(scope="module")
def api():
    with FakeBotApi() as server:
        yield server


@pytest.fixture(scope="module")
def pages():
    server = PageServer()  # on 127.0.0.1: what a default bot must never reach
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bot(api, seed_index, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-updates")
    shutil.copytree(seed_index, root / "data")
    process = BotProcess(
        api,
        root / "data",
        root,
        NEWSBOT_ADMIN_IDS=str(ADMIN_ID),
        NEWSBOT_FETCH_ALLOW_HOSTS="",  # the default: no private address allowed
        NEWSBOT_USER_QUESTIONS_PER_MINUTE="60",
    ).start()
    yield process
    process.stop()


def texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [c.params["text"] for c in api.sent_to(chat_id)]


def next_text(api: FakeBotApi, chat_id: int, after: int, timeout: float = 60) -> str:
    return api.wait_for(
        lambda: len(api.sent_to(chat_id)) > after and api.sent_to(chat_id)[after],
        timeout,
        f"message {after + 1} to {chat_id}",
    ).params["text"]


def still_answers(api: FakeBotApi, chat: dict, user: dict) -> str:
    """Ask the seed question: the answer (updates before it may still get their replies)."""
    before = len(api.sent_to(chat["id"]))
    api.send_text(chat, MOSCOW, sender=user)
    return api.wait_for(
        lambda: next((t for t in texts(api, chat["id"])[before:] if SEED_TITLE in t), None),
        60,
        f"an answer in {chat['id']}",
    )


def junk_entities(rng: random.Random, count: int) -> list[dict]:
    kinds = ["mention", "bot_command", "text_link", "bold", "text_mention", "custom_emoji"]
    entities = []
    for _ in range(count):
        kind = rng.choice(kinds)
        entity = {
            "type": kind,
            "offset": rng.choice([0, rng.randrange(10**6), -5]),
            "length": rng.choice([1, rng.randrange(10**6)]),
        }
        if kind == "text_link":
            entity["url"] = "javascript:alert(1)"
        if kind == "text_mention":
            entity["user"] = {"id": rng.randrange(10**9), "is_bot": False, "first_name": "X"}
        if kind == "custom_emoji":
            entity["custom_emoji_id"] = "1"
        entities.append(entity)
    return entities


def test_messages_without_text_and_edits_get_a_hint_or_nothing(api, bot):
    reader = api.user("Odd")
    chat = api.private_chat(reader)
    api.send_text(chat, None, sender=reader, sticker=STICKER)
    assert next_text(api, chat["id"], 0) == replies.NON_TEXT
    api.send_text(chat, None, sender=reader)  # a message with nothing in it at all
    edited = api.message(chat, "Who is invited to Moscow? (edited)", sender=reader)
    api.push({"edited_message": {**edited, "edit_date": edited["date"]}})
    api.push({"some_future_update": {"what": "Telegram adds kinds of update"}})
    api.send_text(chat, " \u200b\u2060 \t", sender=reader)  # only invisible characters
    api.send_text(chat, "\x00\x01 \u202e?", sender=reader)  # control characters

    assert SEED_TITLE in still_answers(api, chat, reader)
    sent = texts(api, chat["id"])
    assert sent[0] == replies.NON_TEXT
    assert all(len(t) < 4096 for t in sent)
    assert not [t for t in sent if "(edited)" in t]  # edits are not questions
    assert replies.FIXED_ERROR not in sent
    assert bot.process.poll() is None


def test_huge_and_broken_entities(api, bot):
    rng = random.Random(12)
    reader = api.user("Entities")
    chat = api.private_chat(reader)
    prefix = f"@{BOT_USERNAME} " * 180
    long_text = prefix + "x" * (4096 - len(prefix))
    api.send_text(chat, long_text, sender=reader, entities=junk_entities(rng, 5000))
    assert SEED_TITLE in still_answers(api, chat, reader)
    hint, _ = texts(api, chat["id"])  # too long for a question (or not one: a junk command)
    assert "under 1000 characters" in hint

    group = api.group("Entity storm", chat_id=-1001000000777)
    question = f"@{BOT_USERNAME} {MOSCOW}"
    mention = {"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}
    api.send_text(
        group, question, sender=reader, entities=[mention, *junk_entities(rng, 5000)]
    )  # still addressed by its real mention: answered
    assert SEED_TITLE in next_text(api, group["id"], 0)
    command = {"type": "bot_command", "offset": 0, "length": 10**6}
    api.send_text(group, "/ask", sender=reader, entities=[command, *junk_entities(rng, 100)])
    assert SEED_TITLE in still_answers(api, chat, reader)
    assert replies.FIXED_ERROR not in texts(api, group["id"]) + texts(api, chat["id"])
    assert bot.process.poll() is None


def test_forged_callback_data(api, bot):
    reader = api.user("Presser")
    chat = api.private_chat(reader)
    api.send_text(chat, MOSCOW, sender=reader)
    api.wait_for(lambda: api.sent_to(chat["id"]), 60, "the answer")
    answer = api.sent_to(chat["id"])[0]
    message = {k: v for k, v in answer.result.items() if k != "html"}
    real = answer.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    prefix = real.split(":", 1)[0]
    forged = [
        f"{prefix}:forged",
        "hide:" + "x" * 5000,
        "src:",
        "src:../../etc/passwd",
        "not-a-button",
        "\x00",
        real.replace(":", ":0"),
    ]
    ids = [api.press(reader, message, data) for data in forged]
    orphan = api.press(reader, {**message, "chat": {"id": 42, "type": "private"}}, "src:x")
    api.wait_for(
        lambda: len(api.calls_to("answerCallbackQuery")) >= 6,
        60,
        "the forged presses answered",
    )
    too_old = {
        c.params["callback_query_id"]
        for c in api.calls_to("answerCallbackQuery")
        if c.params.get("text") == replies.TOO_OLD
    }
    assert {ids[0], ids[1], ids[2], ids[3], ids[6], orphan} <= too_old
    assert not api.calls_to("answerCallbackQuery", callback_query_id=ids[4])  # no such button
    assert not api.calls_to("editMessageText", chat_id=chat["id"])  # nothing was revealed

    pressed = api.press(reader, message, real)  # the real button still works
    api.wait_calls("answerCallbackQuery", callback_query_id=pressed)
    api.wait_calls("editMessageText", chat_id=chat["id"])
    assert bot.process.poll() is None


def test_inline_queries_at_and_beyond_the_size_limit(api, bot):
    reader = api.user("Inline")
    at_limit = (MOSCOW + " ") * 9
    at_limit = at_limit + "x" * (256 - len(at_limit))
    assert len(at_limit) == 256
    queries = {
        "limit": api.inline(reader, at_limit),
        "beyond": api.inline(reader, "peace " * 2000),  # forged: Telegram stops at 256
        "empty": api.inline(reader, ""),
        "controls": api.inline(reader, "\x00\u202e\u200b" * 80),
    }
    for key, query_id in queries.items():
        (call,) = api.wait_calls("answerInlineQuery", inline_query_id=query_id, timeout=60)
        if key == "limit":
            (result,) = call.params["results"]
            assert SEED_TITLE in result["input_message_content"]["message_text"]
        elif key in ("beyond", "empty"):
            assert call.params["results"] == []
    assert bot.process.poll() is None


def admin_add(api: FakeBotApi, chat: dict, admin: dict, argument: str) -> str:
    """The bot's reply to `/add argument`: its usage hint, or the finished ingest summary."""
    before = len(api.sent_to(chat["id"]))
    api.send_text(chat, f"/add {argument}", sender=admin)
    first = api.wait_for(
        lambda: len(api.sent_to(chat["id"])) > before and api.sent_to(chat["id"])[before],
        60,
        f"the reply to /add {argument}",
    )
    if "running" not in first.params["text"]:
        return first.params["text"]
    return api.wait_for(
        lambda: [
            e.params["text"]
            for e in api.calls_to("editMessageText", message_id=first.result["message_id"])
            if "done in" in e.params["text"]
        ],
        120,
        f"the /add {argument} summary",
    )[-1]


def test_add_with_other_schemes_and_private_addresses(api, bot, pages):
    page = pages.add("/secret.html", JEDDAH)
    port = page.split(":")[2].split("/")[0]
    admin = api.user("Admin", user_id=ADMIN_ID)
    chat = api.private_chat(admin)
    for url in (
        "file:///etc/passwd",
        "javascript:alert(document.cookie)",
        "gopher://127.0.0.1:70/",
        "ftp://127.0.0.1/",
        "data:text/html,<h1>Peace</h1>",
    ):
        assert admin_add(api, chat, admin, url) == replies.ADD_USAGE

    loopback = "a private address (loopback); set NEWSBOT_FETCH_ALLOW_HOSTS to allow it"
    for host, reason in [
        ("127.0.0.1", f"refused: 127.0.0.1 is {loopback}"),
        ("localhost", "refused: localhost resolves to "),
        ("2130706433", f"refused: 127.0.0.1 is {loopback}"),
        ("0x7f000001", f"refused: 127.0.0.1 is {loopback}"),
        ("127.1", f"refused: 127.0.0.1 is {loopback}"),
        ("[::ffff:127.0.0.1]", "refused: ::ffff:127.0.0.1 is a private address (IPv4-mapped"),
        ("169.254.169.254", "refused: 169.254.169.254 is a private address (link-local)"),
    ]:
        summary = admin_add(api, chat, admin, f"http://{host}:{port}/secret.html")
        assert "added 0" in summary
        assert "failed 1" in summary
        assert reason in summary

    assert pages.hits == []  # nothing reached the loopback server
    reader = api.user("After")
    assert SEED_TITLE in still_answers(api, api.private_chat(reader), reader)
    assert bot.process.poll() is None


def test_the_process_never_logged_an_error(bot):
    stderr = bot.stderr()
    assert "Traceback" not in stderr, stderr[-3000:]
    assert " ERROR " not in stderr, stderr[-3000:]
