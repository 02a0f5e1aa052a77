"""The commands on top of everything: ``shixin`` (``shixin/cli.py``) and the demo tickets
(``shixin/demo_cases.py``). Nothing imports this package."""
