"""The location domain's services of one server process, built once like the other services."""

from __future__ import annotations

from dataclasses import dataclass

from sebframe.core.db import Database
from sebframe.core.location.audit_log import LocationAudit
from sebframe.core.location.exam_location import ExamLocationService
from sebframe.core.location.gate import LocationGate
from sebframe.core.location.overrides import LocationOverrides
from sebframe.core.location.preview import LocationPreview
from sebframe.core.location.profiles import LocationProfileService, ProfileCompiler
from sebframe.core.net import IPNetwork
from sebframe.core.plugins import PluginRegistry
from sebframe.core.session.runtime import SessionRuntime

GATE_PLUGIN_NAME = "sebframe.core.location"


@dataclass
class Locations:
    audit: LocationAudit
    gate: LocationGate
    profiles: LocationProfileService
    policies: ExamLocationService
    overrides: LocationOverrides
    preview: LocationPreview

    @classmethod
    def create(cls, db: Database, plugins: PluginRegistry, runtime: SessionRuntime,
               trusted_proxies: tuple[IPNetwork, ...] = ()) -> Locations:
        audit = LocationAudit(db)
        compiler = ProfileCompiler()
        gate = LocationGate(db, audit, compiler)
        # The restriction is a built-in admission check: registered like a plugin's, so the session domain
        # knows nothing of locations.
        plugins.add_builtin(gate, GATE_PLUGIN_NAME)
        profiles = LocationProfileService(db, audit, compiler, trusted_proxies, on_rules_changed=gate.invalidate)
        return cls(audit=audit, gate=gate, profiles=profiles,
                   policies=ExamLocationService(db, audit, gate.invalidate),
                   overrides=LocationOverrides(db, audit, gate, runtime),
                   preview=LocationPreview(db, profiles, gate))
