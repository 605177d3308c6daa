"""Outgoing e-mail: a sender interface with SMTP and file (demo) implementations."""
