"""Network location restriction: IP profiles, exam policies, exceptions, overrides, audit."""
