"""The dashboard page (docs/dashboards.md), thin over runtime/dashboards."""
