"""evokafka: a terminal console for Evolution API event streams in Kafka."""

__version__ = "0.1.0"
