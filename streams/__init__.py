"""The case-event stream: contract, producer, consumer, simulator and replay."""
