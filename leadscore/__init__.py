"""The `leadscore` command (`cli.py`), the demo CRM data generator, scoring whole files on every
core, and structured logs. It sits on top of the house: it may import every other package, and
none imports it.
"""
