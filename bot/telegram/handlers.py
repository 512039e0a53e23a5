"""Which handler serves which update. Admin commands are restricted where they are registered,
by user id; the same commands from anyone else reach a polite refusal and nothing runs."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.telegram import admin, follow, info, questions, timelines
from bot.telegram.errors import on_error


def register(application: Application, admin_ids: list[int]) -> None:
    messages = filters.UpdateType.MESSAGE
    admins = filters.User(user_id=admin_ids)
    add = application.add_handler
    add(CommandHandler("start", info.start, filters=messages & filters.ChatType.PRIVATE))
    add(CommandHandler("help", info.help_command, filters=messages))
    add(CommandHandler("timeline", timelines.timeline_command, filters=messages))
    add(CommandHandler("status", admin.status_command, filters=messages & admins))
    add(CommandHandler("reingest", admin.reingest_command, filters=messages & admins))
    add(CommandHandler("add", admin.add_command, filters=messages & admins))
    add(CommandHandler(["status", "reingest", "add"], admin.refuse, filters=messages))
    chats = messages | filters.UpdateType.CHANNEL_POST
    add(CommandHandler("follow", follow.follow_command, filters=chats))
    add(CommandHandler("following", follow.following_command, filters=chats))
    add(CommandHandler("unfollow", follow.unfollow_command, filters=chats))
    add(CommandHandler("unwatch", follow.unwatch_command, filters=chats))
    add(CommandHandler("whatsnew", follow.whatsnew_command, filters=chats))
    add(
        MessageHandler(
            messages & filters.ChatType.PRIVATE & filters.Regex(follow.WHATSNEW_QUESTION),
            follow.whatsnew_question,
        )
    )
    add(MessageHandler(messages & filters.TEXT, questions.on_message))
    add(MessageHandler(filters.UpdateType.CHANNEL_POST & filters.TEXT, questions.on_channel_post))
    add(
        MessageHandler(
            messages & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
            questions.on_non_text,
        )
    )
    add(CallbackQueryHandler(questions.on_sources_button, pattern=r"^(src|hide):"))
    add(InlineQueryHandler(questions.on_inline_query))
    application.add_error_handler(on_error)
