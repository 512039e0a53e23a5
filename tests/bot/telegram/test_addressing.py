"""Which messages are questions for the bot, in each kind of chat."""

from __future__ import annotations

import pytest
from telegram import Message

from bot.telegram.addressing import addressed_question
from devkit.botapi_server import BOT_ID, BOT_USERNAME, FakeBotApi

api = FakeBotApi()
ANN = api.user("Ann")
BOT = {"id": BOT_ID, "is_bot": True, "first_name": "Newsbot", "username": BOT_USERNAME}
OTHER_BOT = api.user("Other", is_bot=True, username="other_bot")
GROUP = api.group()
CHANNEL = api.channel()
PRIVATE = api.private_chat(ANN)


def ask(chat, text, sender=ANN, reply_to=None):
    payload = api.message(chat, text, sender=sender, reply_to=reply_to)
    message = Message.de_json(payload, None)
    found = addressed_question(message, bot_id=BOT_ID, bot_username=BOT_USERNAME)
    return None if found is None else (found.question, found.how)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Who is invited?", ("Who is invited?", "private")),
        ("  /ask Who is invited?", ("/ask Who is invited?", "private")),  # not a command
        ("/ask Who is invited?", ("Who is invited?", "command")),
        ("/help", None),
    ],
)
def test_private_chats(text, expected):
    assert ask(PRIVATE, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Who is invited to Moscow?", None),
        ("/ask Who is invited?", ("Who is invited?", "command")),
        (f"/ask@{BOT_USERNAME} Who is invited?", ("Who is invited?", "command")),
        (f"/ASK@{BOT_USERNAME.upper()} Who?", ("Who?", "command")),
        ("/ask@other_bot Who is invited?", None),
        ("/start", None),
        (f"@{BOT_USERNAME} who is invited?", ("who is invited?", "mention")),
        (f"Hey @{BOT_USERNAME}, who is invited?", ("Hey who is invited?", "mention")),
        (f"who is invited, @{BOT_USERNAME}?", ("who is invited?", "mention")),
        ("@other_bot who is invited?", None),
        (f"mail me at x@{BOT_USERNAME}.org", None),
        ("/ask", ("", "command")),
    ],
)
def test_groups_only_when_addressed(text, expected):
    assert ask(GROUP, text) == expected


def test_groups_reply_to_the_bot_but_not_to_others():
    bot_message = api.message(GROUP, "An answer [1].", sender=BOT)
    ann_message = api.message(GROUP, "Hi", sender=ANN)
    assert ask(GROUP, "And China?", reply_to=bot_message) == ("And China?", "reply")
    assert ask(GROUP, "And China?", reply_to=ann_message) is None


def test_never_other_bots():
    assert ask(GROUP, f"@{BOT_USERNAME} who?", sender=OTHER_BOT) is None
    assert ask(GROUP, f"/ask@{BOT_USERNAME} who?", sender=OTHER_BOT) is None


def test_anonymous_group_admins_are_people():
    anonymous = api.user("Group", user_id=1087968824, is_bot=True, username="GroupAnonymousBot")
    payload = api.message(GROUP, "/ask Who is invited?", sender=anonymous, sender_chat=GROUP)
    found = addressed_question(
        Message.de_json(payload, None), bot_id=BOT_ID, bot_username=BOT_USERNAME
    )
    assert found is not None
    assert found.question == "Who is invited?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Morning roundup", None),
        ("/ask Who is invited?", ("Who is invited?", "channel")),
        (f"@{BOT_USERNAME} who is invited?", ("who is invited?", "channel")),
    ],
)
def test_channels(text, expected):
    assert ask(CHANNEL, text, sender=None) == expected


def test_non_text_is_not_a_question():
    assert ask(PRIVATE, None) is None
