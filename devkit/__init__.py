"""Loopback stand-ins for the world outside newsbot, shared by tests/ and bench/ (never shipped
in the wheel): a Bot API server (`botapi_server`, with Telegram's HTML rules in
`telegram_html`) and the real `newsbot serve` process run against it (`bot_process`).

devkit drives newsbot from outside, over HTTP and as a subprocess, so it imports none of
newsbot's packages (tests/test_layout.py).
"""
