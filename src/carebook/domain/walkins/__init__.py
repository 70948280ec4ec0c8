"""Walk-ins: the queue, check-in decisions and the live wait estimate."""
