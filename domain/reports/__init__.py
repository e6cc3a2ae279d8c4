"""Reports an accountant accepts: figures from the ledger alone, closed periods unchanged."""
