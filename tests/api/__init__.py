"""API tests: contract, authorisation, idempotency, errors, outages, fuzzing, token CLI."""
