"""Fault injection against the real stack: crashes and outages while dossiers flow, then the
invariants of the event store, the workflows, the projections and the alerts."""
