"""Customer imports from a shop system's CSV export, with a dry run first.

``parsing`` turns a file (EC-CUBE 4's member CSV, Shopify's customer CSV, or our documented
generic CSV) into ``ParsedRow``s, one at a time, never holding the file in memory. ``service``
hands them in chunks to the same ingest services the API uses (``customers_upsert``,
``consent_events_apply``) and counts what happened. The command ``import_customers`` and the
admin's import page both call ``customers_import``.
"""
