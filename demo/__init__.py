"""The platform's story for `shoplake demo`, and the generated data that tests and benchmarks
share: the demo catalog, the stack round trip, the shopper story and the event load generator."""
