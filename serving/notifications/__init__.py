"""Notifications: a user's channel preferences, the in-app feed, and notices services ask for.

The messages themselves are made and sent by the consumer in `streaming/notifications`; both
sides share the tables of `shoplake.notifications`.
"""
