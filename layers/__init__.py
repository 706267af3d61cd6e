"""The data model: one module per layer kind, the catalogue, DDL, migrations, history."""
