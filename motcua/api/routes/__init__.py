"""One router per resource: dossiers, dossier actions, catalog, public lookup, operations."""
