"""An app's physical tables and the SQL that reads them.

    tables         the tables of an app's forms and subforms (AppTables)
    filters        the filter language compiled to a WHERE clause
    formula_filter formula conditions of filters, as SQL
    pages          sort, keyset cursors and pages
    columns        the columns a read selects, with live formulas computed in SQL
    system_fields  id, created_at and the other columns every record has
"""
