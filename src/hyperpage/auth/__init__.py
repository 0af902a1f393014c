"""Sign-in and authorization: one identity model for OIDC sessions, trusted proxy headers and API tokens."""
