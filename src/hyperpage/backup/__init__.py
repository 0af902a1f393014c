"""Logical backups of the Hyperpage database: create, list, verify, restore and prune (docs/runbooks/)."""
