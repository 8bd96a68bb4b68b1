"""The parts of Moodle's answers the plugin reads; unknown fields are ignored, missing required ones are errors."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MoodleWarning(_Answer):
    item: str | None = None
    itemid: int | str | None = None
    warningcode: str | None = None
    message: str = ""


class FunctionInfo(_Answer):
    name: str
    version: str | None = None


class SiteInfo(_Answer):
    """``core_webservice_get_site_info``."""

    username: str = Field(min_length=1)
    userid: int
    sitename: str = ""
    release: str = ""
    version: str = ""
    functions: list[FunctionInfo] = Field(default_factory=list)

    @property
    def function_names(self) -> set[str]:
        return {function.name for function in self.functions}


# -- SEB Server plugin: quizaccess_sebserver_get_exams ----------------------------------------------------------


class PluginQuiz(_Answer):
    id: int
    course: int
    coursemodule: int
    name: str
    intro: str | None = ""
    timeopen: int | None = None
    timeclose: int | None = None
    timecreated: int | None = None


class PluginCourse(_Answer):
    id: int
    shortname: str
    fullname: str = ""
    idnumber: str | None = None
    startdate: int | None = None
    enddate: int | None = None
    timecreated: int | None = None
    visible: int | None = None
    quizzes: list[PluginQuiz] = Field(default_factory=list)


class ExamsStats(_Answer):
    coursecount: int | None = None
    needle: int | None = None
    perpage: int | None = None


class ExamsPage(_Answer):
    stats: ExamsStats | None = None
    # The plugin names the list "results"; SEB Server's DTO also accepts "courses".
    results: list[PluginCourse] = Field(default_factory=list, validation_alias=AliasChoices("results", "courses"))
    warnings: list[MoodleWarning] = Field(default_factory=list)


# -- core web services (legacy MOODLE type) ---------------------------------------------------------------------


class CourseRef(_Answer):
    id: int


class SearchPage(_Answer):
    """``core_course_search_courses``."""

    total: int = 0
    courses: list[CourseRef] = Field(default_factory=list)
    warnings: list[MoodleWarning] = Field(default_factory=list)


class CoreCourse(_Answer):
    id: int
    shortname: str
    fullname: str = ""
    displayname: str | None = None
    idnumber: str | None = None
    summary: str | None = None
    startdate: int | None = None
    enddate: int | None = None
    timecreated: int | None = None


class Courses(_Answer):
    """``core_course_get_courses_by_field``."""

    courses: list[CoreCourse] = Field(default_factory=list)
    warnings: list[MoodleWarning] = Field(default_factory=list)


class CoreQuiz(_Answer):
    id: int
    course: int
    coursemodule: int
    name: str
    intro: str | None = ""
    timeopen: int | None = None
    timeclose: int | None = None
    timelimit: int | None = None


class Quizzes(_Answer):
    """``mod_quiz_get_quizzes_by_courses``."""

    quizzes: list[CoreQuiz] = Field(default_factory=list)
    warnings: list[MoodleWarning] = Field(default_factory=list)


class MoodleUser(_Answer):
    """One entry of ``core_user_get_users_by_field``."""

    id: int
    username: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    fullname: str | None = None
    email: str | None = None


class Users(_Answer):
    users: list[MoodleUser]


# -- SEB Server plugin: restriction ----------------------------------------------------------------------------


class RestrictionRecord(_Answer):
    quizid: int
    browserkeys: list[str] = Field(default_factory=list)
    configkeys: list[str] = Field(default_factory=list)
    quitlink: str | None = None  # plugin V1 only
    quitsecret: str | None = None


class RestrictionAnswer(_Answer):
    """``quizaccess_sebserver_get_restriction`` / ``quizaccess_sebserver_set_restriction``."""

    data: list[RestrictionRecord] = Field(default_factory=list)
    warnings: list[MoodleWarning] = Field(default_factory=list)
