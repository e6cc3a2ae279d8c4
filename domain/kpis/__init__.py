"""The figures the business is judged by, computed from the ledger (formulas in docs/kpis.md)."""
