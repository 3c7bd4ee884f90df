"""Micro-grants (Mikroförderung) from application to payment."""
