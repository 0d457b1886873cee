"""Temporal workflows. Deterministic: they import only `domain`, the standard library and
`temporalio.workflow`."""

from workflows.dossier import Acted, DossierStart, DossierWorkflow

__all__ = ["Acted", "DossierStart", "DossierWorkflow"]
