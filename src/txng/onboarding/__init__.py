"""Self-registration of organisations: e-mail verification and approval by an authority."""
