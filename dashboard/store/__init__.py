"""SQL storage: the schema, the batch store, accounts, KPIs and screen figures."""
