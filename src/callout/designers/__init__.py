"""Designers: a client's desktop scripts, whose events run actions when their conditions hold."""
