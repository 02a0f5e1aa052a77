# Each domain owns its tables and adds them to the one ``core.tables.metadata`` when its tables
# module is imported. The migrations' environment loads them all, by name, for autogenerate:
# the only place the ground names the domains, and only while Alembic runs.
DOMAIN_TABLES = (
    "search_index.tables",
    "casework.tables",
    "watches.tables",
    "chat_state.tables",
    "screening.tables",
    "api_keys.tables",
    "webhooks.tables",
    "ingest_jobs.tables",
)
