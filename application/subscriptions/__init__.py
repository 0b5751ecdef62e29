"""Subscription plans that grant credits every period: checkout, changes, and what
paid invoices grant."""
