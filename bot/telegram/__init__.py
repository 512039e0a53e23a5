"""`newsbot serve`: the Telegram bot (python-telegram-bot v22); the only package importing
`telegram`. Nothing is imported here; a module is imported by its path.

- Start-up and wiring: `serve` (the command: checks, polling or webhook), `app` (the PTB
  application and `post_init`), `handlers` (which handler serves which update), `context`
  (typed handler context: `context.service`, `context.state`), `service` (the blocking side:
  answers, status, ingests, built once from the composition root), `webserver` and `metrics`
  (webhook mode: /healthz, /metrics).
- Handlers by job: `questions` (chats, groups, channels, inline queries, the Sources button),
  `timelines` (/timeline), `follow` (/follow and the pushes), `info` (/start, /help), `admin`
  (/status, /reingest, /add) with `ingest_jobs` (one ingest at a time, its progress), `errors`
  (the one error handler).
- Admitting a question: `addressing` (is it for this bot), `gate` and `admission` (length, then
  `ratelimit`), `conversations` (recent turns for follow-ups).
- Replying: `sending` (HTML in order, the Sources button), `retry` (every Bot API call retried
  on 429 and network errors), `recent_answers` (the answers behind Sources buttons).
- Pure formatting: `formatting` (answers, sources, status, help), `timeline_html`,
  `follow_format`, `replies` (the fixed sentences).
"""

__all__ = [
    "addressing",
    "admin",
    "admission",
    "app",
    "context",
    "conversations",
    "errors",
    "follow",
    "follow_format",
    "formatting",
    "gate",
    "handlers",
    "info",
    "ingest_jobs",
    "metrics",
    "questions",
    "ratelimit",
    "recent_answers",
    "replies",
    "retry",
    "sending",
    "serve",
    "service",
    "timeline_html",
    "timelines",
    "webserver",
]
