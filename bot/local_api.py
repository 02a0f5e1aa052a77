"""A local stand-in for Telegram's Bot API: what the bot sends is recorded here, and the
updates a user would cause are made here. python-telegram-bot's ``BaseRequest`` is the one
seam, so everything above it (Bot, Application, handlers, error mapping) is the real library
and nothing reaches the network or needs a real token. The offline tests run the bot against
it, and so does ``shixin bot --console`` (bot/console.py).

``LocalBotApi`` answers getMe, sendMessage, editMessageText, sendPhoto, sendDocument,
deleteMessage, answerCallbackQuery, answerInlineQuery, setMyCommands, setWebhook,
deleteWebhook and getFile like Telegram does (a file a user "sent" with ``upload`` can then
be downloaded), and records every message sent or edited (with its buttons), every deletion,
every answer to a button press, every inline answer and the webhook set. Switch
``outage`` to ``"network"`` (the connection fails), ``"502"`` or
``"429"`` (flood control with ``retry_after``) to make every call fail; chats in ``blocked``
answer 403 as when the user blocked the bot, chats in ``missing`` 400 "chat not found".
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram.request import BaseRequest, RequestData

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an event
    loop running in the main thread for the whole session, where asyncio.run refuses."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


TOKEN = "123456789:AAHfakefakefakefakefakefakefakefake"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "失信名单查询",
    "username": "shixin_test_bot",
}
USER_CHAT = 777000111  # a private chat with a person


@dataclass
class Sent:
    chat_id: int
    text: str
    parse_mode: str | None
    preview: bool = True  # False when link_preview_options disabled the link preview
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)  # (text, data) rows
    edited: bool = False  # an editMessageText of an earlier message
    message_id: int = 0
    kind: str = "text"  # "photo" | "document": text is then the caption
    file_name: str = ""  # of a photo or document, when it has one


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class LocalBotApi:
    sent: list[Sent] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    outage: str | None = None  # "network" | "502" | "429"
    retry_after: int = 30
    blocked: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    deleted: list[tuple[int, int]] = field(default_factory=list)  # (chat, message id)
    undeletable: bool = False  # deleteMessage answers 400 "message can't be deleted"
    inline_answers: list[list[dict[str, Any]]] = field(default_factory=list)
    callback_answers: list[str] = field(default_factory=list)  # texts of answerCallbackQuery
    webhook: dict[str, Any] | None = None  # setWebhook's parameters, until deleteWebhook
    files: dict[str, bytes] = field(default_factory=dict)  # file id -> what a user sent
    _ids: Any = field(default_factory=lambda: itertools.count(1000))

    def request(self) -> LocalRequest:
        return LocalRequest(self)

    def upload(self, data: bytes) -> str:
        """Keep ``data`` as a file a user sent; its file id (for photo_update and
        document_update)."""
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = data
        return file_id

    def download(self, path: str) -> tuple[int, bytes]:
        """GET of a file's download address, which getFile's ``file_path`` is the end of."""
        self.methods.append("download")
        data = self.files.get(path)
        return (200, data) if data is not None else _error(404, "Not Found")

    def to(self, chat_id: int) -> list[str]:
        return [s.text for s in self.sent if s.chat_id == chat_id]

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        self.methods.append(method)
        if self.outage == "network":
            raise OSError("[Errno 111] Connection refused")
        if self.outage == "502":
            return 502, b"<html>502 Bad Gateway</html>"
        if self.outage == "429":
            return _error(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        if method == "getMe":
            return _ok(BOT_USER)
        if method == "setMyCommands":
            return _ok(True)
        if method == "setWebhook":
            allowed = _json(params.get("allowed_updates"))  # a list, sent as JSON text
            self.webhook = {**params, "allowed_updates": allowed}
            return _ok(True)
        if method == "deleteWebhook":
            self.webhook = None
            return _ok(True)
        if method == "getFile":
            file_id = str(params["file_id"])
            if file_id not in self.files:
                return _error(400, "Bad Request: invalid file_id")
            size = len(self.files[file_id])
            return _ok(
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "file_size": size,
                    "file_path": file_id,
                }
            )
        if method == "answerCallbackQuery":
            if params.get("text"):
                self.callback_answers.append(str(params["text"]))
            return _ok(True)
        if method == "answerInlineQuery":
            self.inline_answers.append(_json(params["results"]))
            return _ok(True)
        if method == "deleteMessage":
            if self.undeletable:
                return _error(400, "Bad Request: message can't be deleted")
            self.deleted.append((int(params["chat_id"]), int(params["message_id"])))
            return _ok(True)
        if method in ("sendPhoto", "sendDocument"):
            return self._file(method, params)
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            if chat_id in self.blocked:
                return _error(403, "Forbidden: bot was blocked by the user")
            if chat_id in self.missing:
                return _error(400, "Bad Request: chat not found")
            text = str(params["text"])
            if len(text.encode("utf-16-le")) // 2 > 4096:
                return _error(400, "Bad Request: message is too long")
            options = params.get("link_preview_options")
            if isinstance(options, str):  # PTB sends nested objects as JSON text
                options = json.loads(options)
            preview = not (options or {}).get("is_disabled", False)
            markup = _json(params.get("reply_markup")) or {}
            buttons = [
                [(b["text"], b.get("callback_data", "")) for b in row]
                for row in markup.get("inline_keyboard", [])
            ]
            edited = method == "editMessageText"
            message_id = int(params["message_id"]) if edited else next(self._ids)
            self.sent.append(
                Sent(chat_id, text, params.get("parse_mode"), preview, buttons, edited, message_id)
            )
            return _ok(
                {
                    "message_id": message_id,
                    "date": 1795000000,
                    "chat": {"id": chat_id, "type": "private", "first_name": "用户"},
                    "from": BOT_USER,
                    "text": text,
                }
            )
        return _error(404, "Not Found")

    def _file(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        kind = "photo" if method == "sendPhoto" else "document"
        upload = params.get(kind)
        name = str(upload or "")  # a file_id, a URL or the uploaded file's name
        markup = _json(params.get("reply_markup")) or {}
        buttons = [
            [(b["text"], b.get("callback_data", "")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]
        message_id = next(self._ids)
        caption = str(params.get("caption") or "")
        self.sent.append(
            Sent(
                chat_id,
                caption,
                params.get("parse_mode"),
                buttons=buttons,
                message_id=message_id,
                kind=kind,
                file_name=name,
            )
        )
        return _ok(
            {
                "message_id": message_id,
                "date": 1795000000,
                "chat": {"id": chat_id, "type": "private", "first_name": "用户"},
                "from": BOT_USER,
                "caption": caption,
            }
        )


class LocalRequest(BaseRequest):
    def __init__(self, api: LocalBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a download: the path after the token is the file id
            return self.api.download(url.rsplit("/", 1)[-1])
        params = dict(request_data.parameters) if request_data else {}
        files = request_data.multipart_data if request_data and request_data.contains_files else {}
        for key, value in params.items():  # an upload: its file name stands for it
            if isinstance(value, str) and value.startswith("attach://"):
                part = files.get(value.removeprefix("attach://"))
                params[key] = (part[0] if part else None) or "upload"
        return self.api.answer(url.rsplit("/", 1)[-1], params)


def _ok(result: Any) -> tuple[int, bytes]:
    return 200, json.dumps({"ok": True, "result": result}).encode()


def _error(code: int, description: str, parameters: dict | None = None) -> tuple[int, bytes]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, json.dumps(body).encode()


_update_ids = itertools.count(1)


def command_update(
    text: str, chat_id: int = USER_CHAT, chat_type: str = "private", language: str | None = None
) -> dict:
    """The JSON of an update carrying ``text`` (a /command) as a user sends it, from a user
    whose Telegram language is ``language``."""
    command = text.split()[0]
    entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    content = {"text": text, "entities": entities if text.startswith("/") else []}
    return _message_update(content, chat_id, chat_type, language)


def _message_update(
    content: dict[str, Any], chat_id: int, chat_type: str, language: str | None
) -> dict:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "用户"
    else:
        chat["title"] = "一个群"
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": 1795000000,
            "chat": chat,
            "from": _user(chat_id, language),
            **content,
        },
    }


def photo_update(
    file_id: str, size: int, chat_id: int = USER_CHAT, language: str | None = None
) -> dict:
    """The JSON of a photo a user sends (Telegram's sizes: a thumbnail and the photo)."""
    photo = [
        {"file_id": f"{file_id}-thumb", "file_unique_id": "t", "width": 90, "height": 60},
        {
            "file_id": file_id,
            "file_unique_id": "p",
            "width": 1280,
            "height": 853,
            "file_size": size,
        },
    ]
    return _message_update({"photo": photo}, chat_id, "private", language)


def document_update(
    file_id: str,
    file_name: str,
    mime_type: str,
    size: int,
    chat_id: int = USER_CHAT,
    language: str | None = None,
) -> dict:
    """The JSON of a file a user sends as a document."""
    document = {
        "file_id": file_id,
        "file_unique_id": "d",
        "file_name": file_name,
        "mime_type": mime_type,
        "file_size": size,
    }
    return _message_update({"document": document}, chat_id, "private", language)


def _user(chat_id: int, language: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": abs(chat_id), "is_bot": False, "first_name": "用户"}
    if language:
        user["language_code"] = language
    return user


def callback_update(
    data: str, message_id: int, chat_id: int = USER_CHAT, language: str | None = None
) -> dict:
    """The JSON of a press on an inline button with ``data`` under the bot's message."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": _user(chat_id, language),
            "chat_instance": "42",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1795000000,
                "chat": {"id": chat_id, "type": "private", "first_name": "用户"},
                "from": BOT_USER,
                "text": "…",
            },
        },
    }


def inline_update(query: str, user_id: int = USER_CHAT, language: str | None = None) -> dict:
    """The JSON of an inline query ``@bot <query>`` typed in any chat."""
    return {
        "update_id": next(_update_ids),
        "inline_query": {
            "id": str(next(_update_ids)),
            "from": _user(user_id, language),
            "query": query,
            "offset": "",
        },
    }
