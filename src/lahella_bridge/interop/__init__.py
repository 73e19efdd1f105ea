"""Interoperability profiles: Linked Events v1 and Open Referral HSDS 3.0, read-only."""
