"""The console: the Textual app, its session (the one door to Kafka, Evolution API and the demo), screens and widgets."""
