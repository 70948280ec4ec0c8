"""Staffing: the demand forecast and the staffing plan (solver modules are private)."""
