"""The ground every domain stands on: settings, the store and its migrations, the shared table
metadata, China's working-day calendar and time zone, bulk-write helpers. It imports no
domain (``search_index``, ``casework``), no interface (``portal``, ``bot``) and not the
commands (``shixin``)."""
