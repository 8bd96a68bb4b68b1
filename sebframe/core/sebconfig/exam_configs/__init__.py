"""Exam configurations and configuration templates: properties, SEB settings with revisions, import/export.

Both kinds are SEB Server "configuration nodes" (table ``exam_configuration``, ``kind`` EXAM_CONFIG or
TEMPLATE) and share one service. Their SEB settings live in revisions (``exam_configuration_revision``,
see ``seb-config-formats.md`` §4.2):

* number 0 is the initial version (defaults, a template's published values, an import or a copy);
* one revision per configuration is the **working copy** (``working``): every change is stored there
  at once, validated value by value;
* **publish** adds the next numbered revision with the working copy's values; the newest numbered
  revision is the **last published** one, the only one exports, Config Keys, copies and new
  configurations from a template use (the initial version counts until something is published);
* **undo** sets the working copy back to the last published revision, **restore** to any revision.

The two password settings hold plaintext in the values (exported as SHA-256) and are encrypted with
the server key inside the stored JSON.

``service.ExamConfigService`` (``services.exam_configs``) is the entry point: list, get, create, update, delete,
and ``mark_in_use``/``release`` for the exam domain. It holds the parts as attributes:

* ``working_copy`` (``working_copy.py``): the editor's changes: values, table rows, reset to the defaults;
* ``revisions`` (``revisions.py``): publish, undo, restore, history, copy. Publishing runs its
  ``publish_guards`` first (the exam domain adds one that refuses while a running exam using the
  configuration has active SEB connections) and tells its ``publish_listeners`` after;
* ``files`` (``files.py``): ``.seb`` import and export, the Config Key, the file a SEB client downloads;
* ``template_attributes`` (``template_attributes.py``): the settings a template hides from the editor.

Shared by the parts: ``types.py`` and ``schemas.py`` (kinds, states, results, inputs), ``access.py`` (loading
with privileges, editability, unique names), ``storage.py`` (revision rows, values <-> stored JSON),
``validation.py`` (a change against the catalogue). ``deletion.py`` has ``OWNED_EXAM_CONFIGURATIONS``, the
user-deletion option ``Services.create`` wires in.
"""

from .deletion import OWNED_EXAM_CONFIGURATIONS
from .files import EXPORT_FILENAME, MAX_IMPORT_BYTES
from .schemas import ExamConfigCreate, ExamConfigUpdate
from .service import EXAM_CONFIG_FILTERS, ExamConfigService
from .types import (
    ConfigKind,
    ConfigStatus,
    History,
    PublishGuard,
    PublishListener,
    RevisionInfo,
    WorkingSettings,
)

__all__ = [
    "EXAM_CONFIG_FILTERS",
    "EXPORT_FILENAME",
    "MAX_IMPORT_BYTES",
    "OWNED_EXAM_CONFIGURATIONS",
    "ConfigKind",
    "ConfigStatus",
    "ExamConfigCreate",
    "ExamConfigService",
    "ExamConfigUpdate",
    "History",
    "PublishGuard",
    "PublishListener",
    "RevisionInfo",
    "WorkingSettings",
]
