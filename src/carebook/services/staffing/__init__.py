"""Staffing from demand: history, forecast, plan, and applying a plan."""
