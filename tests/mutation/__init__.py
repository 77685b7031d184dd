"""Mutation testing tooling behind `make mutation` (report: tests/MUTATION.md)."""
