"""The `leadscore` command and the demo CRM data generator."""
