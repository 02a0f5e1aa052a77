"""The Telegram bot (python-telegram-bot): handlers in bot/app.py, notification delivery in
bot/sender.py, ``shixin bot`` in bot/run.py; ``shixin bot --console`` (bot/console.py) runs it
in the terminal against the local Bot API of bot/local_api.py, which the offline tests use."""

import os

# Opt in to python-telegram-bot's coming durations (``RetryAfter.retry_after`` as a
# timedelta): without it PTB 22 warns each time Telegram's flood control answers.
os.environ.setdefault("PTB_TIMEDELTA", "true")
