"""Pricing: price lists, discount policies, promo codes and the daily quota."""
