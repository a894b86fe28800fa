"""Spreadsheets in and out: reading CSV/XLSX attachments, templates, and safe CSV exports."""
