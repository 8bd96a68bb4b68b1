"""The Open edX SEB restriction properties: wire names, the values SEB Server lets through, dialog fields.

Kept free of I/O and heavy imports: ``plugin.py`` describes the dialog fields with it at start-up.
"""

from __future__ import annotations

from sebframe.types import ChoiceSource, RestrictionField

# seb-openedx configuration keys, in the order SEB Server serializes them (OpenEdxSEBRestriction).
CONFIG_KEYS = "CONFIG_KEYS"
BROWSER_KEYS = "BROWSER_KEYS"
WHITELIST_PATHS = "WHITELIST_PATHS"
BLACKLIST_CHAPTERS = "BLACKLIST_CHAPTERS"
PERMISSION_COMPONENTS = "PERMISSION_COMPONENTS"
USER_BANNING_ENABLED = "USER_BANNING_ENABLED"
WIRE_KEYS = (CONFIG_KEYS, BROWSER_KEYS, WHITELIST_PATHS, BLACKLIST_CHAPTERS, PERMISSION_COMPONENTS,
             USER_BANNING_ENABLED)

# Course paths a student may open without SEB (SEB Server's WhiteListPath).
WHITELIST_PATH_CHOICES = ("about", "course-outline", "courseware", "discussion", "progress", "wiki")

ALWAYS_ALLOW_STAFF = "AlwaysAllowStaff"
CHECK_BROWSER_EXAM_KEY = "CheckSEBHashBrowserExamKey"
CHECK_CONFIG_KEY = "CheckSEBHashConfigKey"
CHECK_BROWSER_EXAM_OR_CONFIG_KEY = "CheckSEBHashBrowserExamKeyOrConfigKey"
# The permission components SEB Server sends (seb-openedx also knows AlwaysDenyAccess/AlwaysGrantAccess).
PERMISSION_COMPONENT_CHOICES = (ALWAYS_ALLOW_STAFF, CHECK_BROWSER_EXAM_KEY, CHECK_CONFIG_KEY,
                                CHECK_BROWSER_EXAM_OR_CONFIG_KEY)

RESTRICTION_FIELDS = (
    RestrictionField(WHITELIST_PATHS, "Course paths open without SEB", WHITELIST_PATH_CHOICES, multiple=True),
    # The core lists the course's chapters (OpenEdxAdapter.get_course_chapters) and stores their ids.
    RestrictionField(BLACKLIST_CHAPTERS, "Chapters that need SEB even where 'courseware' is open",
                     multiple=True, choices_from=ChoiceSource.CHAPTERS),
    RestrictionField(PERMISSION_COMPONENTS, "Permission checks (none: staff allowed + the keys given)",
                     PERMISSION_COMPONENT_CHOICES, multiple=True),
    RestrictionField(USER_BANNING_ENABLED, "Ban users who open the course without SEB", ("false", "true")),
)
