"""Whether a message is a question for this bot, and which: pure rules over PTB messages.

- Private chats: any text is a question (an `/ask` prefix is allowed and dropped).
- Groups and supergroups: only when addressed: `/ask question`, `/ask@botname question`, a
  message mentioning @botname, or a reply to one of the bot's messages. Never other chatter,
  never messages from bots.
- Channels: a post starting with `/ask` or mentioning @botname.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from telegram import Message, MessageEntity
from telegram.constants import ChatType

ASK = "ask"


@dataclass(frozen=True)
class Addressed:
    """A message meant for the bot; `question` may be empty (the user gets a hint)."""

    question: str
    how: str  # "private", "command", "mention", "reply", "channel"


def addressed_question(message: Message, *, bot_id: int, bot_username: str) -> Addressed | None:
    """The question in `message` if it is addressed to this bot, else None."""
    text = message.text
    if text is None:
        return None
    chat_type = message.chat.type
    sender = message.from_user
    if sender is not None and sender.is_bot and message.sender_chat is None:
        return None  # another bot (anonymous group admins post as a bot *with* a sender_chat)
    command = _command(message, bot_username)
    if chat_type == ChatType.PRIVATE:
        if command is not None:
            return Addressed(command, "command") if command is not False else None
        return Addressed(text.strip(), "private")
    if chat_type in (ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL):
        how = "channel" if chat_type == ChatType.CHANNEL else None
        if command is False:
            return None  # another command, or a command for another bot
        if command is not None:
            return Addressed(command, how or "command")
        if _mentions(message, bot_id, bot_username):
            return Addressed(_without_mention(text, bot_username), how or "mention")
        if how is None and _replies_to(message, bot_id):
            return Addressed(text.strip(), "reply")
    return None


def _command(message: Message, bot_username: str) -> str | Literal[False] | None:
    """The text after `/ask` or `/ask@this_bot`; False for any other command (or one meant
    for another bot); None when the message is not a command."""
    entities = message.entities or ()
    first = next((e for e in entities if e.offset == 0), None)
    if first is None or first.type != MessageEntity.BOT_COMMAND:
        return None
    word = message.parse_entity(first)
    name, _, target = word[1:].partition("@")
    if target and target.lower() != bot_username.lower():
        return False
    if name.lower() != ASK:
        return False
    return (message.text or "")[len(word) :].strip()


def _mentions(message: Message, bot_id: int, bot_username: str) -> bool:
    for entity, text in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
        if entity.type == MessageEntity.MENTION and text[1:].lower() == bot_username.lower():
            return True
    return False


def _without_mention(text: str, bot_username: str) -> str:
    pattern = rf",?\s*@{re.escape(bot_username)}\b\s*[,:]?"
    stripped = " ".join(re.sub(pattern, " ", text, flags=re.IGNORECASE).split())
    return re.sub(r"\s+([?.!,;:])", r"\1", stripped).strip(" ,:")


def _replies_to(message: Message, bot_id: int) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)
