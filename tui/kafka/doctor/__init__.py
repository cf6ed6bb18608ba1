"""``evokafka doctor``: the integration document's troubleshooting list as checks; :mod:`.runner` runs them."""
