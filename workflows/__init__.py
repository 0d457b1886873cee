"""Temporal workflows. Deterministic: they import only `domain`, the standard library and
`temporalio.workflow`."""

from workflows.dossier import DossierStart, DossierWorkflow

__all__ = ["DossierStart", "DossierWorkflow"]
