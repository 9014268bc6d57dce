"""Jobs: the record, its state machine, and the stores that persist it."""
