"""Following the news: the topics chats follow, the stories pushed to them after each ingest,
and what is new since a chat last asked. `store` keeps follows and pushes (SQLite),
`matching` decides whether a story belongs to a topic (pure), `service` plans the pushes from
the committed generation; the Telegram side is bot/telegram/follow.py."""
