"""Open edX as a sebframe LMS: course lookup, examinee names, chapters, and SEB restriction via seb-openedx."""
