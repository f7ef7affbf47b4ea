"""The order archive's shared parts: what it moves (`contract`) and its batch log (`batches`)."""
