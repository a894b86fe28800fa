"""Phone numbers without a database: E.164 checks (`e164`), ranges (`ranges`) and the one
validation pipeline every entry path uses (`validation`)."""
