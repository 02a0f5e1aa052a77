"""``shixin bot --console``: the bot's own Application in the terminal, against the local Bot
API (bot/local_api.py) instead of Telegram, so it needs neither a token nor the network.

Each line typed is a private text message from the console user (commands included), handed
to ``Application.process_update`` as Telegram would deliver it; what the bot sends is printed:
text, inline keyboards as numbered buttons (``[1] 下一页 »``), photos and documents as a line
naming them, edits and deletions as such. ``#<n>`` presses button n of the last message that
has buttons; ``/quit`` or end of input stops.

Notifications the bot queues for the console's chat (a ticket's "已收到" after ``/report``,
a watch alert) are delivered from the outbox after each line, the console's own rows only:
its chat id is one no Telegram user can have (beyond the 52 bits Telegram's ids use), so
nothing queued for it ever reaches a real person, and a real bot's rows are left alone.
"""

from __future__ import annotations

from typing import Any, TextIO

from telegram import Update
from telegram.ext import Application

from bot.local_api import LocalBotApi, Sent, callback_update, command_update
from bot.sender import TelegramSender

# Telegram's ids have at most 52 significant bits: this one is nobody's.
CONSOLE_CHAT = 2**53 + 1
QUIT = ("/quit", "/exit")
# The console's own words, in the console user's language.
WORDS = {
    "zh": {
        "help": "在此输入消息或命令（/start、/help…）；#n 按下第 n 个按钮；/quit 退出。",
        "no buttons": "（没有可按的按钮）",
        "no such button": "（没有第 {n} 个按钮：共 {count} 个）",
        "link": "（「{text}」是链接按钮，在 Telegram 中会打开链接）",
        "deleted": "« 机器人删除了您的这条消息",
        "notice": "« 提示：{text}",
        "edited": "« （修改了上一条消息）",
        "photo": "图片",
        "document": "文件",
    },
    "en": {
        "help": "Type a message or a command (/start, /help…); #n presses button n; /quit ends.",
        "no buttons": "(no buttons to press)",
        "no such button": "(there is no button {n}: {count} in all)",
        "link": "(“{text}” is a link button: Telegram would open the link)",
        "deleted": "« the bot deleted your message",
        "notice": "« notice: {text}",
        "edited": "« (edited the message above)",
        "photo": "photo",
        "document": "document",
    },
}
App = Application[Any, Any, Any, Any, Any, Any]


class Console:
    """One console user talking to ``app`` (built over ``api``'s requests), printing to
    ``out``. ``language`` is the user's Telegram language (``zh`` or ``en``)."""

    def __init__(
        self, app: App, api: LocalBotApi, out: TextIO, *, language: str = "zh", echo: bool = False
    ) -> None:
        self.app = app
        self.api = api
        self.out = out
        self.language = language
        self.echo = echo  # print each line read (input that is not a terminal)
        self.words = WORDS.get(language, WORDS["zh"])
        self.chat = CONSOLE_CHAT
        self.buttons: tuple[int, list[tuple[str, str]]] | None = None  # (message, buttons)
        self._seen = (0, 0, 0)  # sent, deleted, callback answers already printed

    async def handle(self, line: str) -> bool:
        """One line of input; False when it ends the session."""
        line = line.strip()
        if self.echo and line:
            self.print(f"> {line}")
        if not line:
            return True
        if line in QUIT:
            return False
        if line.startswith("#") and line[1:].isdigit():
            update = self._press(int(line[1:]))
            if update is None:
                return True
        else:
            update = command_update(line, self.chat, language=self.language)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await self.deliver_own()
        self.show_new()
        return True

    async def deliver_own(self) -> None:
        """The outbox's rows for this chat, sent now through the local Bot API."""
        main: TelegramSender = self.app.bot_data["sender"]
        own = main.for_recipient(str(self.chat))
        while (await own.deliver_pending()).claimed >= own.batch:
            pass

    def _press(self, number: int) -> dict | None:
        if self.buttons is None:
            self.print(self.words["no buttons"])
            return None
        message_id, buttons = self.buttons
        if not 1 <= number <= len(buttons):
            self.print(self.words["no such button"].format(n=number, count=len(buttons)))
            return None
        text, data = buttons[number - 1]
        if not data:
            self.print(self.words["link"].format(text=text))
            return None
        return callback_update(data, message_id, self.chat, language=self.language)

    def show_new(self) -> None:
        """Print what the bot did since the last call: messages, deletions, button answers."""
        sent, deleted, answers = self._seen
        for message in self.api.sent[sent:]:
            if message.chat_id == self.chat:
                self.show(message)
        for chat, _ in self.api.deleted[deleted:]:
            if chat == self.chat:
                self.print(self.words["deleted"])
        for text in self.api.callback_answers[answers:]:
            self.print(self.words["notice"].format(text=text))
        self._seen = (len(self.api.sent), len(self.api.deleted), len(self.api.callback_answers))

    def show(self, message: Sent) -> None:
        if message.kind != "text":
            name = f": {message.file_name}" if message.file_name else ""
            self.print(f"« [{self.words[message.kind]}{name}]")
        elif message.edited:
            self.print(self.words["edited"])
        for line in message.text.splitlines():
            self.print(f"  {line}" if line else "")
        flat = [button for row in message.buttons for button in row]
        if flat:
            number = 0
            for row in message.buttons:
                labels = []
                for text, _ in row:
                    number += 1
                    labels.append(f"[{number}] {text}")
                self.print("  " + "  ".join(labels))
            self.buttons = (message.message_id, flat)
        self.print("")

    def print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


async def repl(app: App, api: LocalBotApi, stdin: TextIO, out: TextIO, language: str) -> None:
    """Read ``stdin`` line by line until /quit or its end, with ``app`` initialized."""
    interactive = stdin.isatty()
    console = Console(app, api, out, language=language, echo=not interactive)
    console.print(console.words["help"])
    async with app:
        while True:
            if interactive:
                print("> ", end="", file=out, flush=True)
            line = stdin.readline()
            if not line or not await console.handle(line):
                break
