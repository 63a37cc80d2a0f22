"""Triggers that are not a direct call: the durable async (Event) queue; schedules and queues come later."""
