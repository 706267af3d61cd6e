"""Who is asking: users and their roles per neighbourhood, passwords, API tokens, web sessions, the audit log.

The rules themselves (what each role may do where) live in the database (layers/sql/identity.sql) so that the
web app and a person's own database login obey the same ones; ``api/auth.py`` is the one place requests meet them.
"""
