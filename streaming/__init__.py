"""Long-running consumers: Kafka → Delta bronze (Spark), Kafka → Elasticsearch, and others."""
