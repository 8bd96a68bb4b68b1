"""The admin UI's left menu, registered through the same hook plugins use."""

from __future__ import annotations

from collections.abc import Iterator

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.hookspecs import hookimpl
from sebframe.types import MenuItem

SECTIONS = ("Institution", "SEB Configuration", "LMS Setup", "Exam Administration", "Network Locations", "Monitoring",
            "Account")


@hookimpl
def sebframe_menu_items(actor: Actor) -> Iterator[MenuItem]:
    if actor.scope(Privilege.READ, EntityType.INSTITUTION) == Scope.OVERALL:
        yield MenuItem("Institution", "Institutions", "/institutions", 10, "All institutions of this server")
    elif actor.may(Privilege.MODIFY, EntityType.INSTITUTION, institution_id=actor.institution_id):
        yield MenuItem("Institution", "Institution", f"/institutions/{actor.institution_id}", 10,
                       "Your institution")
    # Without user-account write privilege only "My Account" is shown (seed: "User Accounts").
    if actor.scope(Privilege.WRITE, EntityType.USER_ACCOUNT) >= Scope.INSTITUTION:
        yield MenuItem("Institution", "User Accounts", "/users", 20, "User accounts and their roles")
    if actor.scope(Privilege.READ, EntityType.CONNECTION_CONFIGURATION) != Scope.NONE:
        yield MenuItem("SEB Configuration", "Connection Configuration", "/connection-configurations", 10,
                       "Files that connect SEB clients to this server")
    if actor.scope(Privilege.READ, EntityType.EXAM_CONFIGURATION) != Scope.NONE:
        yield MenuItem("SEB Configuration", "Exam Configuration", "/exam-configurations", 20,
                       "SEB settings handed to clients of an exam")
    if actor.scope(Privilege.READ, EntityType.CONFIGURATION_TEMPLATE) != Scope.NONE:
        yield MenuItem("SEB Configuration", "Configuration Template", "/configuration-templates", 30,
                       "Default settings new exam configurations start from")
    if actor.scope(Privilege.READ, EntityType.CERTIFICATE) != Scope.NONE:
        yield MenuItem("SEB Configuration", "Certificates", "/certificates", 40,
                       "Certificates for encrypting connection configurations")
    if actor.scope(Privilege.READ, EntityType.LMS_SETUP) != Scope.NONE:
        yield MenuItem("LMS Setup", "LMS Setup", "/lms-setups", 10, "Learning management systems this server uses")
    if actor.scope(Privilege.WRITE, EntityType.EXAM) != Scope.NONE:
        yield MenuItem("Exam Administration", "LMS Exam Lookup", "/lms-lookup", 10,
                       "Find courses and quizzes on the LMSs to import as exams")
    if actor.scope(Privilege.READ, EntityType.EXAM) != Scope.NONE:
        yield MenuItem("Exam Administration", "Exams", "/exams", 20, "Imported exams: setup, configuration, indicators")
    if actor.scope(Privilege.READ, EntityType.EXAM_TEMPLATE) != Scope.NONE:
        yield MenuItem("Exam Administration", "Exam Templates", "/exam-templates", 30,
                       "Defaults applied when an exam is imported")
    if actor.scope(Privilege.READ, EntityType.LOCATION) != Scope.NONE:
        yield MenuItem("Network Locations", "Locations", "/locations", 10,
                       "Testing centers and computer pools whose networks admit SEB clients")
        yield MenuItem("Network Locations", "IP Profiles", "/location-profiles", 20,
                       "ALLOW/BLOCK rules of the networks exams are restricted to")
        yield MenuItem("Network Locations", "Where Am I?", "/locations/where-am-i", 40,
                       "The address the server sees for this computer, and its profiles, rules and rooms")
    if (actor.scope(Privilege.READ, EntityType.CLIENT_EVENT) != Scope.NONE
            or actor.may(Privilege.WRITE, EntityType.LOCATION, institution_id=actor.institution_id)):
        yield MenuItem("Network Locations", "Location Audit Log", "/location-audit", 30,
                       "Location decisions, overrides and profile changes: search and export per exam")
    if actor.scope(Privilege.READ, EntityType.EXAM) != Scope.NONE:
        yield MenuItem("Monitoring", "Running Exams", "/monitoring", 10,
                       "Watch and supervise the SEB clients of running exams")
    if actor.scope(Privilege.READ, EntityType.CLIENT_EVENT) != Scope.NONE:
        yield MenuItem("Monitoring", "SEB Client Logs", "/client-logs", 80,
                       "Log events of the SEB clients of your exams: search, export, delete")
    if actor.scope(Privilege.READ, EntityType.USER_ACTIVITY_LOG) != Scope.NONE:
        yield MenuItem("Monitoring", "User Logs", "/activity", 90, "Who changed what, and when")
    yield MenuItem("Account", "My Account", f"/users/{actor.user_id}", 10, "Your account settings")
    yield MenuItem("Account", "Change Password", f"/users/{actor.user_id}/password", 20)
