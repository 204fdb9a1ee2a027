"""一件事一次办: bundled life events across departments (one form, one acceptance, one progress view)."""
