"""The booking saga's use cases: request, steps, compensation, webhooks, resume."""
