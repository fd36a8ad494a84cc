"""Delivering fired alerts: signed webhooks (to allowed hosts only) and e-mail over SMTP
with STARTTLS, each attempt recorded."""
