"""Webhooks for API-key owners: an HTTPS endpoint per key gets the change feed's events
pushed, signed with HMAC-SHA256, delivered from the durable outbox with backoff, and is
disabled (with a mail to the owner) after a day of failures."""
