"""What the notifications API (serving) and the notification consumer (streaming) share.

The API writes users' preferences and reads their in-app feed; the consumer reads the
preferences, claims one delivery per event, channel and user, and writes the feed. Those layers
may not import each other, so the tables, the kinds and the channels are declared here, like the
outbox: `contract` (kinds, channels, who gets what by default), `tables` (the three tables) and
`readers` (the columns of other domains' tables the consumer reads: users, wishlists, orders).
"""
