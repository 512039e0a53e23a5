"""Handlers with a fake service, through the real PTB application and the loopback Bot API
server: what the bot sends for each kind of update."""

from __future__ import annotations

import asyncio
import itertools
from contextlib import asynccontextmanager

import pytest

from bot.telegram import admin, replies
from bot.telegram.app import build_application
from devkit.botapi_server import BOT_USERNAME, FakeBotApi
from retrieval.errors import IndexNotFoundError
from retrieval.types import Answer, Citation
from tests.bot.conftest import ADMIN_ID, FakeService, deliver, make_settings

# Every test here talks to the loopback Bot API server (`api`).
pytestmark = pytest.mark.integration


@asynccontextmanager
async def running(api: FakeBotApi, answer=None, **overrides):
    settings = make_settings(api, **overrides)
    services: list[FakeService] = []

    def factory(s):
        service = FakeService(s) if answer is None else FakeService(s, answer)
        services.append(service)
        return service

    app = build_application(settings, service_factory=factory)
    async with app:
        await app.post_init(app)
        await app.start()
        try:
            yield app, services[0]
        finally:
            await app.stop()
            await app.post_shutdown(app)


def texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [c.params["text"] for c in api.sent_to(chat_id)]


async def test_private_question_gets_html_answer_with_sources_button(api):
    reader = api.user("Ann")
    chat = api.private_chat(reader)
    async with running(api) as (app, service):
        await deliver(
            app, {"message": api.message(chat, "Who is invited to Moscow?", sender=reader)}
        )
    assert api.calls_to("sendChatAction", chat_id=chat["id"], action="typing")
    [sent] = api.sent_to(chat["id"])
    assert sent.params["parse_mode"] == "HTML"
    assert "Pakistan are invited to Moscow [1]" in sent.params["text"]
    assert (
        '<a href="https://www.rferl.org/a/31142925.html">Russia Plans Afghan'
        in (sent.params["text"])
    )
    assert "RFE/RL, 2021-03-10" in sent.params["text"]
    [[button]] = sent.params["reply_markup"]["inline_keyboard"]
    assert button["text"] == "Sources"
    assert button["callback_data"].startswith("src:")
    assert "reply_parameters" not in sent.params  # private chats: no quoting
    assert service.questions == [("Who is invited to Moscow?", [])]


async def test_follow_up_uses_recent_turns(api):
    reader = api.user()
    chat = api.private_chat(reader)
    async with running(api) as (app, service):
        await deliver(app, {"message": api.message(chat, "Who is invited?", sender=reader)})
        await deliver(app, {"message": api.message(chat, "And when?", sender=reader)})
    assert service.questions[1] == (
        "And when?",
        [("Who is invited?", "The United States, China and Pakistan are invited to Moscow [1].")],
    )


async def test_sources_button_reveals_quotes_and_hides_them(api):
    reader = api.user()
    chat = api.private_chat(reader)
    async with running(api) as (app, _):
        await deliver(app, {"message": api.message(chat, "Who is invited?", sender=reader)})
        [sent] = api.sent_to(chat["id"])
        bot_message = api.messages[(chat["id"], max(k[1] for k in api.messages))]
        data = sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await deliver(
            app,
            {
                "callback_query": {
                    "id": "q1",
                    "from": reader,
                    "chat_instance": "c",
                    "message": bot_message,
                    "data": data,
                }
            },
        )
        [edit] = api.calls_to("editMessageText")
        assert "<blockquote>Russian Foreign Ministry spokeswoman" in edit.params["text"]
        assert "Pakistan are invited to Moscow [1]" in edit.params["text"]
        hide = edit.params["reply_markup"]["inline_keyboard"][0][0]
        assert hide["text"] == "Hide quotes"
        await deliver(
            app,
            {
                "callback_query": {
                    "id": "q2",
                    "from": reader,
                    "chat_instance": "c",
                    "message": bot_message,
                    "data": hide["callback_data"],
                }
            },
        )
        assert "<blockquote>" not in api.calls_to("editMessageText")[-1].params["text"]
        await deliver(
            app,
            {
                "callback_query": {
                    "id": "q3",
                    "from": reader,
                    "chat_instance": "c",
                    "message": bot_message,
                    "data": "src:zzzz",
                }
            },
        )
    assert api.calls_to("answerCallbackQuery", callback_query_id="q3")[0].params["text"] == (
        replies.TOO_OLD
    )


async def test_group_answers_only_when_addressed(api):
    ann, bob = api.user("Ann"), api.user("Bob")
    other_bot = api.user("Spam", is_bot=True, username="spam_bot")
    group = api.group()
    async with running(api) as (app, service):
        for text, sender in [
            ("Who is invited to Moscow?", ann),  # chatter
            ("/ask@other_bot Who is invited?", ann),  # another bot's command
            (f"@{BOT_USERNAME} who is invited?", other_bot),  # a bot
            ("/start", ann),
        ]:
            await deliver(app, {"message": api.message(group, text, sender=sender)})
        assert api.sent_to(group["id"]) == []
        mention = api.message(group, f"@{BOT_USERNAME} who is invited to Moscow?", sender=ann)
        await deliver(app, {"message": mention})
        command = api.message(group, f"/ask@{BOT_USERNAME} Who else?", sender=bob)
        await deliver(app, {"message": command})
        plain = api.message(group, "/ask And China?", sender=bob)
        await deliver(app, {"message": plain})
        bot_reply = api.messages[(group["id"], max(k[1] for k in api.messages))]
        follow = api.message(group, "When is it?", sender=ann, reply_to=bot_reply)
        await deliver(app, {"message": follow})
    sent = api.sent_to(group["id"])
    assert [s.params["reply_parameters"]["message_id"] for s in sent] == [
        mention["message_id"],
        command["message_id"],
        plain["message_id"],
        follow["message_id"],
    ]
    assert [q for q, _ in service.questions] == [
        "who is invited to Moscow?",
        "Who else?",
        "And China?",
        "When is it?",
    ]
    # each member has their own follow-up history
    assert service.questions[3][1][0][0] == "who is invited to Moscow?"
    assert service.questions[1][1] == []


async def test_channel_post_with_ask_is_answered_in_the_channel(api):
    channel = api.channel()
    async with running(api) as (app, service):
        await deliver(app, {"channel_post": api.message(channel, "Morning news roundup")})
        post = api.message(channel, "/ask Who is invited to Moscow?")
        await deliver(app, {"channel_post": post})
        mention = api.message(channel, f"What do you know, @{BOT_USERNAME}?")
        await deliver(app, {"channel_post": mention})
    sent = api.sent_to(channel["id"])
    assert len(sent) == 2
    assert sent[0].params["reply_parameters"]["message_id"] == post["message_id"]
    assert [q for q, _ in service.questions] == ["Who is invited to Moscow?", "What do you know?"]


async def test_inline_query_offers_answer_with_sources(api):
    reader = api.user()
    async with running(api) as (app, _):
        await deliver(
            app,
            {
                "inline_query": {
                    "id": "iq1",
                    "from": reader,
                    "offset": "",
                    "query": "Who is invited to Moscow?",
                }
            },
        )
        await deliver(
            app, {"inline_query": {"id": "iq2", "from": reader, "offset": "", "query": "W"}}
        )
    [call] = api.calls_to("answerInlineQuery", inline_query_id="iq1")
    [result] = call.params["results"]
    assert result["type"] == "article"
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert "Pakistan" in content["message_text"]
    assert "<b>Sources</b>" in content["message_text"]
    assert api.calls_to("answerInlineQuery", inline_query_id="iq2")[0].params["results"] == []


async def test_start_and_help(api):
    reader = api.user()
    chat = api.private_chat(reader)
    async with running(api) as (app, _):
        await deliver(app, {"message": api.message(chat, "/start", sender=reader)})
        await deliver(app, {"message": api.message(chat, "/help", sender=reader)})
        await deliver(app, {"message": api.message(chat, "/frobnicate", sender=reader)})
    start, help_, unknown = texts(api, chat["id"])
    assert "<b>1</b> article from RFE/RL (1), published 2021-03-10" in start
    assert f"@{BOT_USERNAME}" in help_
    assert "/reingest" not in help_
    assert f"Your Telegram user id is <code>{reader['id']}</code>" in help_
    assert unknown == replies.UNKNOWN_COMMAND


async def test_rate_limit_replies_friendly_and_skips_the_work(api):
    reader = api.user()
    chat = api.private_chat(reader)
    async with running(api, user_questions_per_minute=2) as (app, service):
        for i in range(3):
            await deliver(app, {"message": api.message(chat, f"Question {i}?", sender=reader)})
    assert len(service.questions) == 2
    assert "faster than I can read" in texts(api, chat["id"])[-1]


async def test_hints_for_empty_oversized_and_non_text(api):
    reader = api.user()
    chat = api.private_chat(reader)
    group = api.group()
    async with running(api, max_question_chars=50) as (app, service):
        await deliver(app, {"message": api.message(chat, "x" * 51, sender=reader)})
        await deliver(
            app,
            {
                "message": api.message(
                    chat,
                    None,
                    sender=reader,
                    sticker={
                        "file_id": "s",
                        "file_unique_id": "u",
                        "type": "regular",
                        "width": 1,
                        "height": 1,
                        "is_animated": False,
                        "is_video": False,
                    },
                )
            },
        )
        await deliver(app, {"message": api.message(group, "/ask", sender=reader)})
    assert service.questions == []
    too_long, non_text = texts(api, chat["id"])
    assert "under 50 characters" in too_long
    assert non_text == replies.NON_TEXT
    assert texts(api, group["id"]) == [replies.ASK_HINT]


async def test_non_admins_are_refused_and_nothing_runs(api):
    reader = api.user(user_id=4444, username="admin")  # a username is never enough
    chat = api.private_chat(reader)
    async with running(api) as (app, service):
        for command in ("/reingest", "/add https://example.org/a", "/status"):
            await deliver(app, {"message": api.message(chat, command, sender=reader)})
        await asyncio.sleep(0.1)
    assert texts(api, chat["id"]) == [replies.ADMIN_ONLY] * 3
    assert service.ingests == []


async def test_admin_reingest_edits_one_status_message_and_refuses_a_second(api):
    admin = api.user(user_id=ADMIN_ID)
    reader = api.user()
    chat, reader_chat = api.private_chat(admin), api.private_chat(reader)
    async with running(api) as (app, service):
        service.ingest_gate.clear()
        await deliver(app, {"message": api.message(chat, "/reingest", sender=admin)})
        [status] = api.sent_to(chat["id"])
        assert "Re-ingest</b>: running" in status.params["text"]
        await asyncio.to_thread(api.wait_for, lambda: service.ingests, 10)
        await deliver(app, {"message": api.message(chat, "/reingest", sender=admin)})
        assert "already running" in texts(api, chat["id"])[-1]
        await deliver(app, {"message": api.message(reader_chat, "Who?", sender=reader)})
        assert len(api.sent_to(reader_chat["id"])) == 1  # answered while the ingest runs
        service.ingest_gate.set()
        await asyncio.to_thread(
            api.wait_for,
            lambda: any("done in" in c.params["text"] for c in api.calls_to("editMessageText")),
            10,
        )
        await deliver(app, {"message": api.message(chat, "/status", sender=admin)})
    edits = api.calls_to("editMessageText")
    assert {e.params["message_id"] for e in edits} == {status.result["message_id"]}
    assert "added 1, updated 0, unchanged 1, removed 0, failed 0" in edits[-1].params["text"]
    assert service.ingests == ["reingest"]
    assert "<b>Index</b>: 1 articles" in texts(api, chat["id"])[-1]
    assert f"<code>{chat['id']}</code>" in texts(api, chat["id"])[-1]  # for NEWSBOT_ADMIN_CHAT_ID
    times = [e.at for e in edits]
    progress_edits = times[:-1]  # the final summary is not throttled
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(progress_edits))


async def test_admin_add_validates_the_url(api):
    admin = api.user(user_id=ADMIN_ID)
    chat = api.private_chat(admin)
    async with running(api) as (app, service):
        await deliver(app, {"message": api.message(chat, "/add not-a-url", sender=admin)})
        await deliver(
            app, {"message": api.message(chat, "/add https://example.org/a", sender=admin)}
        )
        await asyncio.to_thread(
            api.wait_for,
            lambda: any("done in" in c.params["text"] for c in api.calls_to("editMessageText")),
            10,
        )
    assert texts(api, chat["id"])[0] == replies.ADD_USAGE
    assert service.ingests == ["add https://example.org/a"]


async def test_unexpected_error_gets_fixed_sentence_and_admin_report(api):
    reader = api.user()
    chat = api.private_chat(reader)
    admin_chat = api.group("Admins", chat_id=-1009)

    def explode(question):
        raise RuntimeError("secret internals /etc/passwd")

    async with running(api, explode, admin_chat_id=admin_chat["id"]) as (app, _):
        await deliver(app, {"message": api.message(chat, "Who?", sender=reader)})
    assert texts(api, chat["id"]) == [replies.FIXED_ERROR]
    [report] = texts(api, admin_chat["id"])
    assert "RuntimeError" in report
    assert "secret internals" not in report


async def test_expected_failures_get_clear_sentences(api):
    reader = api.user()
    chat = api.private_chat(reader)

    def no_index(question):
        raise IndexNotFoundError("no index yet at /data: run `newsbot ingest` first")

    async with running(api, no_index) as (app, _):
        await deliver(app, {"message": api.message(chat, "Who?", sender=reader)})
    assert texts(api, chat["id"]) == [replies.NO_INDEX]


async def test_sends_are_retried_after_429_and_dropped_connections(api):
    reader = api.user()
    chat = api.private_chat(reader)
    api.fail("sendMessage", 429, retry_after=1)
    api.fail("sendMessage", drop=True)
    async with running(api) as (app, _):
        await deliver(app, {"message": api.message(chat, "Who?", sender=reader)})
    attempts = api.calls_to("sendMessage", ok_only=False)
    assert [a.status for a in attempts] == [429, 0, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert len(api.sent_to(chat["id"])) == 1


async def test_long_answers_are_split_below_the_limit(api):
    reader = api.user()
    chat = api.private_chat(reader)
    citation = Citation(1, "T & <T>", "Outlet", None, None, "q " * 300, "a")

    def long_answer(question):
        return Answer(
            question, ("Sentence with <markup> & more. " * 400) + "[1]", True, (citation,)
        )

    async with running(api, long_answer) as (app, _):
        await deliver(app, {"message": api.message(chat, "Tell me everything", sender=reader)})
    sent = api.sent_to(chat["id"])  # the server refuses >4096 characters and bad HTML
    assert len(sent) >= 3
    assert "reply_markup" in sent[-1].params
    assert "<b>Sources</b>" in sent[-1].params["text"]
    assert all("reply_markup" not in s.params for s in sent[:-1])


@pytest.mark.parametrize("listen", ["0.0.0.0:8443", "[::]:80"])
def test_listen_setting_parses(api, listen):
    assert make_settings(api, webhook_listen=listen).webhook_listen == listen


async def test_scheduled_reingest_reports_to_the_admin_chat(api):
    admin_chat = api.group("Admins", chat_id=-1010)
    async with running(api, reingest_every=0.3, admin_chat_id=admin_chat["id"]) as (app, svc):
        [job] = app.job_queue.get_jobs_by_name(admin.SCHEDULED_INGEST_JOB)
        assert job is not None
        await asyncio.to_thread(api.wait_for, lambda: api.sent_to(admin_chat["id"]), 10)
        job.schedule_removal()
    [summary] = texts(api, admin_chat["id"])
    assert "Scheduled re-ingest</b>: done" in summary
    assert svc.ingests[0] == "reingest"


async def test_scheduled_reingest_skips_while_another_runs(api):
    async with running(api) as (app, service):
        service.state.ingests.try_start("Re-ingest")
        await app.job_queue.run_once(admin.run_scheduled_ingest, 0).run(app)
        assert service.ingests == []
