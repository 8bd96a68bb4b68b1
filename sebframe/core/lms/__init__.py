"""LMS integration: LMS setups, quiz lookup and import; the built-in Testing LMS."""
