"""Where people meet newsbot: the command line and the Telegram bot."""
