"""sebframe plugin for Moodle: LMS types ``MOODLE`` (core web services) and ``MOODLE_PLUGIN`` (SEB Server plugin)."""
