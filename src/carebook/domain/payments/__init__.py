"""Payments: payment values and status rules, webhooks, and the booking saga."""
