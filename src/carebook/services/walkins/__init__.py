"""Walk-in check-ins, the queues, duty and live wait times."""
