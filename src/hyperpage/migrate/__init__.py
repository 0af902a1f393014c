"""SQLite -> PostgreSQL migration (and the way back) that loses nothing: plan, copy, verify, resume, rollback."""
