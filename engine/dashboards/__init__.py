"""Dashboards in the app definition and the SQL that computes their widgets.

    model    the `dashboards` list read into plain objects (never raises)
    schema   their JSON Schema, part of the definition's schema
    paths    a field path of a widget's form as SQL: joins through single relations
    sql      one SELECT per widget: GROUP BY, date buckets, measures, top-N, KPI change,
             pivot with totals; the dashboard's controls as extra conditions
"""
