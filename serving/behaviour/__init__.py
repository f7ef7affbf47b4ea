"""Behaviour events from web and mobile clients, straight to Kafka."""
