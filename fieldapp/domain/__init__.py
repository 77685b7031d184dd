"""Domain rules as plain functions: no request, no session globals in the rules."""
