"""Messages out: the outbox, delivery rules, reachability."""
