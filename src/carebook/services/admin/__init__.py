"""Administration at run time: the clinic calendar and pricing configuration."""
