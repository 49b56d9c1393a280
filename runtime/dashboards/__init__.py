"""Dashboards for a reader: each widget one statement, scoped by their permissions, cached
per widget, controls and scope until the forms it reads change (docs/dashboards.md)."""
from runtime.dashboards.cache import CACHE, WidgetCache, dashboard_listener
from runtime.dashboards.errors import DashboardControlError, DashboardNotFound, DashboardWidgetNotFound
from runtime.dashboards.service import Dashboards

__all__ = ["CACHE", "Dashboards", "DashboardControlError", "DashboardNotFound", "DashboardWidgetNotFound",
           "WidgetCache", "dashboard_listener"]
