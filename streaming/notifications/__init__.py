"""The notification consumer: events → messages, once per event, channel and user.

`rules` says which event types become which kinds of message for whom; `render` turns a kind
and its context into text and HTML from the template files; `intake` turns a batch of events
into delivery rows (the unique key lives there); `sender` hands due deliveries to their
channels (`channels`), with retries, backoff and dead letters; `consumer` is the Kafka loop.
"""
