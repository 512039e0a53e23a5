"""The fixed sentences the bot sends. No exception text ever reaches a chat: these do."""

from bot.telegram.formatting import EXAMPLE_QUESTION

FIXED_ERROR = "Sorry, something went wrong on my side. Please try again in a minute."
NO_INDEX = "I have not read any articles yet; an admin needs to run /reingest first."
STORE_DOWN = "The news index is unavailable right now. Please try again later."
CANNOT_ANSWER = "I could not answer that right now. Please try again later."
EMPTY_HINT = f"Send me a question in words, for example: <i>{EXAMPLE_QUESTION}</i>"
ASK_HINT = f"Write your question after /ask, for example: /ask {EXAMPLE_QUESTION}"
TOO_LONG = "That is too long for me: please keep questions under {n} characters."
NON_TEXT = "I can only read text. Send me your question as a message."
UNKNOWN_COMMAND = "I don't know that command. Send /help to see what I can do."
RATE_LIMITED = "You are asking faster than I can read. Please wait {s} s and ask again."
ADMIN_ONLY = "Sorry, only the bot's admins can do that."
INGEST_BUSY = "An ingest is already running ({title}); I will not start another one."
ADD_USAGE = "Send /add followed by one article URL, for example /add https://example.org/story"
TOO_OLD = "That answer is too old; ask again to see its sources."
INLINE_RATE_LIMITED = "Too many questions: wait a moment"
