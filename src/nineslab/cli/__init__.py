"""Thin command-line layer over nineslab.lab: every command has --json; errors are one line."""
