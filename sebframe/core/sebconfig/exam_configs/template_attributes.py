"""Settings a configuration template hides from the editor view; exam configurations created from the template
inherit the list (stored as JSON in ``exam_configuration.hidden_attributes``)."""

from __future__ import annotations

import json

from sebframe.core.accounts.activity import Activity, record_activity
from sebframe.core.accounts.actor import Actor
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db import Database, utc_now
from sebframe.core.db.models import ExamConfiguration
from sebframe.core.errors import ValidationFailed

from ..catalogue import Catalogue
from .access import check_editable, load_configuration
from .types import ConfigKind
from .validation import root_attribute

__all__ = ["TemplateAttributes"]


class TemplateAttributes:
    def __init__(self, db: Database, catalogue: Catalogue) -> None:
        self.db = db
        self.catalogue = catalogue

    @staticmethod
    def hidden(configuration: ExamConfiguration) -> list[str]:
        """The settings hidden from the editor view of a template or of an exam configuration made from one."""
        try:
            names = json.loads(configuration.hidden_attributes or "[]")
        except ValueError:
            return []
        return [name for name in names if isinstance(name, str)]

    async def set_shown(self, actor: Actor, template_id: int, attribute: str, shown: bool) -> list[str]:
        """Attach a setting to (``shown``) or detach it from the editor view of a template and of the exam
        configurations created from it later; returns the hidden settings."""
        attr = root_attribute(self.catalogue, attribute)
        if attr.orientation is None:
            raise ValidationFailed({attribute: f"{attr.label} has no place on an editor tab"})
        async with self.db.transaction() as session:
            template = await load_configuration(session, actor, template_id, Privilege.MODIFY,
                                                kind=ConfigKind.TEMPLATE, lock=True)
            check_editable(template)
            hidden = set(self.hidden(template))
            if shown == (attribute not in hidden):
                return sorted(hidden)
            hidden = hidden - {attribute} if shown else hidden | {attribute}
            template.hidden_attributes = json.dumps(sorted(hidden))
            template.updated_at = utc_now()
            record_activity(session, actor, Activity.MODIFY, EntityType.CONFIGURATION_TEMPLATE, template.id,
                            template.name, f"{attribute} {'attached to' if shown else 'removed from'} the view",
                            institution_id=template.institution_id)
            return sorted(hidden)
