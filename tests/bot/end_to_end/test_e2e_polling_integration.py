"""End to end, long polling: the real `newsbot serve` process against the loopback Bot API
server, with an index built by `newsbot ingest` from the seed article."""

from __future__ import annotations

import shutil
import time

import pytest

from devkit.bot_process import SEED, SEED_TITLE, BotProcess
from devkit.botapi_server import BOT_USERNAME, TOKEN, FakeBotApi
from tests.bot.conftest import ADMIN_ID
from tests.bot.e2e import HAVANA, HAVANA_TITLE, JEDDAH, JEDDAH_TITLE, PageServer

pytestmark = pytest.mark.integration
MOSCOW = "Who is invited to Moscow?"
HAVANA_Q = "Where did Colombia and the ELN resume peace talks?"


@pytest.fixture(scope="module")
def api():
    with FakeBotApi() as server:
        yield server


@pytest.fixture(scope="module")
def pages():
    server = PageServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, seed_index, pages):
    root = tmp_path_factory.mktemp("polling")
    shutil.copytree(seed_index, root / "data")
    slow = pages.add("/wire/havana.html", HAVANA, delay=3.0)
    (root / "sources.toml").write_text(
        f'[[sources]]\nname = "seed"\npath = "{SEED}"\n\n'
        f'[[sources]]\nname = "wire"\nurl = "{slow}"\n'
    )
    return root


@pytest.fixture(scope="module")
def bot(api, workdir):
    process = BotProcess(
        api,
        workdir / "data",
        workdir,
        NEWSBOT_SOURCES=str(workdir / "sources.toml"),
        NEWSBOT_ADMIN_IDS=f"{ADMIN_ID}, 1",
        NEWSBOT_USER_QUESTIONS_PER_MINUTE="30",
    ).start()
    yield process
    process.stop()


def answer_in(api: FakeBotApi, chat_id: int, after: int = 0, timeout: float = 60):
    """The first message the bot sends to `chat_id` after `after` earlier ones."""
    return api.wait_for(
        lambda: len(api.sent_to(chat_id)) > after and api.sent_to(chat_id)[after],
        timeout,
        f"a message to {chat_id}",
    )


def test_starts_registers_commands_and_polls(api, bot):
    print(f"\nnewsbot serve ready in {bot.startup_seconds:.1f} s")
    scopes = {
        call.params.get("scope", {}).get("type"): [c["command"] for c in call.params["commands"]]
        for call in api.calls_to("setMyCommands")
    }
    follows = ["follow", "following", "unfollow", "whatsnew"]
    assert scopes["all_private_chats"] == ["start", "help", "timeline", *follows]
    assert scopes["all_group_chats"] == ["ask", "help", "timeline", *follows]
    assert api.calls_to("getMe")
    assert api.calls_to("getUpdates")[-1].params.get("timeout")  # long polling


def test_private_question_gets_html_answer_naming_invitees_and_source(api, bot):
    reader = api.user("Ann")
    chat = api.private_chat(reader)
    api.send_text(chat, MOSCOW, sender=reader)
    reply = answer_in(api, chat["id"])
    html = reply.params["text"]
    assert reply.params["parse_mode"] == "HTML"
    for invitee in ("United States", "China", "Pakistan"):
        assert invitee in html
    assert "[1]" in html
    assert SEED_TITLE in html
    assert api.calls_to("sendChatAction", chat_id=chat["id"], action="typing")
    typing = api.calls_to("sendChatAction", chat_id=chat["id"])[0]
    assert typing.at <= reply.at

    # the Sources button reveals the quoted sentences by editing the message
    button = reply.params["reply_markup"]["inline_keyboard"][0][0]
    assert button["text"] == "Sources"
    sent = api.messages[(chat["id"], reply.result["message_id"])]
    api.press(reader, {k: v for k, v in sent.items() if k != "html"}, button["callback_data"])
    edit = api.wait_calls("editMessageText", chat_id=chat["id"])[0]
    assert "<blockquote" in edit.params["text"]  # a long quote folds: <blockquote expandable>
    assert "Zakharova" in edit.params["text"]


def test_follow_up_uses_the_chat_history(api, bot):
    reader = api.user("Follow")
    chat = api.private_chat(reader)
    api.send_text(chat, MOSCOW, sender=reader)
    assert "Pakistan" in answer_in(api, chat["id"]).params["text"]
    # declined without the history; with it, it leans on the previous question
    api.send_text(chat, "And who else is invited?", sender=reader)
    follow_up = answer_in(api, chat["id"], after=1)
    assert "[1]" in follow_up.params["text"]
    assert SEED_TITLE in follow_up.params["text"]


def test_group_ignores_chatter_and_answers_a_mention_as_a_reply(api, bot):
    ann, bob = api.user("Ann"), api.user("Bob")
    other_bot = api.user("Other", is_bot=True, username="other_helper_bot")
    group = api.group("Peace desk", chat_id=-1001234)
    api.send_text(group, MOSCOW, sender=ann)  # chatter
    api.send_text(group, f"@{BOT_USERNAME} {MOSCOW}", sender=other_bot)  # a bot
    api.send_text(group, "/ask@other_helper_bot Who is invited?", sender=bob)
    mention = api.send_text(group, f"@{BOT_USERNAME} who is invited to Moscow?", sender=bob)
    reply = answer_in(api, group["id"])
    assert reply.params["reply_parameters"]["message_id"] == mention["message_id"]
    assert "Pakistan" in reply.params["text"]
    time.sleep(1.0)
    assert len(api.sent_to(group["id"])) == 1  # nothing for the chatter or the other bot

    command = api.send_text(group, f"/ask@{BOT_USERNAME} {MOSCOW}", sender=ann)
    reply = answer_in(api, group["id"], after=1)
    assert reply.params["reply_parameters"]["message_id"] == command["message_id"]
    bot_message = api.messages[(group["id"], reply.result["message_id"])]
    follow = api.send_text(group, "And who else?", sender=ann, reply_to=bot_message)
    reply = answer_in(api, group["id"], after=2)
    assert reply.params["reply_parameters"]["message_id"] == follow["message_id"]


def test_channel_post_with_ask_is_answered_in_the_channel(api, bot):
    channel = api.channel("Peace wire", chat_id=-1009876)
    api.send_text(channel, "Today's roundup: talks stall.")
    post = api.send_text(channel, f"/ask {MOSCOW}")
    reply = answer_in(api, channel["id"])
    assert reply.params["reply_parameters"]["message_id"] == post["message_id"]
    assert "Pakistan" in reply.params["text"]
    time.sleep(0.5)
    assert len(api.sent_to(channel["id"])) == 1


def test_inline_mode_offers_the_answer_with_sources(api, bot):
    reader = api.user("Inline")
    query_id = api.inline(reader, MOSCOW)
    [call] = api.wait_calls("answerInlineQuery", inline_query_id=query_id)
    [result] = call.params["results"]
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert "Pakistan" in content["message_text"]
    assert SEED_TITLE in content["message_text"]


def test_non_admin_reingest_is_refused_and_runs_nothing(api, bot, pages):
    reader = api.user("Mallory", username="admin")
    chat = api.private_chat(reader)
    api.send_text(chat, "/reingest", sender=reader)
    refusal = answer_in(api, chat["id"])
    assert "only the bot's admins" in refusal.params["text"]
    time.sleep(0.5)
    assert api.calls_to("editMessageText", chat_id=chat["id"]) == []
    assert pages.hits == []


def test_admin_reingest_edits_status_while_others_are_answered(api, bot, pages):
    reader = api.user("Reader")
    reader_chat = api.private_chat(reader)
    api.send_text(reader_chat, HAVANA_Q, sender=reader)
    before = answer_in(api, reader_chat["id"])
    assert HAVANA_TITLE not in before.params["text"]

    admin = api.user("Admin", user_id=ADMIN_ID)
    chat = api.private_chat(admin)
    api.send_text(chat, "/reingest", sender=admin)
    status = answer_in(api, chat["id"])
    assert "Re-ingest" in status.params["text"]
    api.wait_for(lambda: pages.hits, 30, "the slow source to be fetched")
    api.send_text(chat, "/reingest", sender=admin)  # a second one while it runs
    busy = answer_in(api, chat["id"], after=1)
    assert "already running" in busy.params["text"]

    during = api.user("During")
    during_chat = api.private_chat(during)
    api.send_text(during_chat, MOSCOW, sender=during)
    answered = answer_in(api, during_chat["id"])
    assert "Pakistan" in answered.params["text"]

    status_id = status.result["message_id"]
    final = api.wait_for(
        lambda: [
            e
            for e in api.calls_to("editMessageText", message_id=status_id)
            if "done in" in e.params["text"]
        ],
        90,
        "the final summary",
    )[0]
    assert answered.at < final.at  # answered while the re-ingest ran
    assert "added 1, " in final.params["text"]
    assert "removed 0, failed 0" in final.params["text"]
    edits = api.calls_to("editMessageText", ok_only=False)
    assert {e.params["message_id"] for e in edits} == {status_id}
    assert all(e.status == 200 for e in edits)
    assert len(pages.hits) == 1  # the second /reingest started nothing

    api.send_text(reader_chat, HAVANA_Q, sender=reader)
    after = answer_in(api, reader_chat["id"], after=1)
    assert HAVANA_TITLE in after.params["text"]
    assert "Havana" in after.params["text"]

    api.send_text(chat, "/status", sender=admin)
    status_reply = answer_in(api, chat["id"], after=2)
    assert "2 articles" in status_reply.params["text"]
    assert "added 1" in status_reply.params["text"]


def test_admin_add_ingests_one_article(api, bot, pages):
    url = pages.add("/horn/jeddah.html", JEDDAH)
    admin = api.user("Admin", user_id=ADMIN_ID)
    chat = api.private_chat(admin)
    sent_before = len(api.sent_to(chat["id"]))
    api.send_text(chat, f"/add {url}", sender=admin)
    status = answer_in(api, chat["id"], after=sent_before)
    api.wait_for(
        lambda: [
            e
            for e in api.calls_to("editMessageText", message_id=status.result["message_id"])
            if "added 1" in e.params["text"]
        ],
        60,
        "the /add summary",
    )
    reader = api.user("Sudan")
    reader_chat = api.private_chat(reader)
    api.send_text(reader_chat, "Where are the Sudan ceasefire talks held?", sender=reader)
    reply = answer_in(api, reader_chat["id"])
    assert JEDDAH_TITLE in reply.params["text"]


def test_flood_control_and_network_errors_are_retried(api, bot):
    reader = api.user("Flood")
    chat = api.private_chat(reader)
    api.fail("sendMessage", 429, retry_after=1)
    api.fail("sendMessage", drop=True)
    api.send_text(chat, MOSCOW, sender=reader)
    reply = answer_in(api, chat["id"])
    assert "Pakistan" in reply.params["text"]
    failed = [c for c in api.calls_to("sendMessage", ok_only=False) if c.status != 200]
    assert [c.status for c in failed[-2:]] == [429, 0]


def test_bad_html_is_never_sent(api, bot):
    refused = [c for c in api.calls_to("sendMessage", ok_only=False) if c.status == 400]
    refused += [c for c in api.calls_to("editMessageText", ok_only=False) if c.status == 400]
    assert refused == []


def test_stops_cleanly_and_never_logs_the_token(bot):
    assert bot.stop() == 0
    stderr = bot.stderr()
    assert TOKEN not in stderr
    assert TOKEN.split(":")[1] not in stderr
    assert "Traceback" not in stderr
