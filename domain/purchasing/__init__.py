"""Purchase orders: the state machine, and the service that applies it."""
