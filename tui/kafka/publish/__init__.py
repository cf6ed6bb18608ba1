"""Publishing as Evolution API does: the publisher, its outbox, what it reports (delivery) and where records go (placement)."""
