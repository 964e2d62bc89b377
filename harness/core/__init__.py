"""Value types, the system description, its loading, and the errors."""
