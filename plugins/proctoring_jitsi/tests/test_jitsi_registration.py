from __future__ import annotations

from sebframe_proctoring_jitsi import plugin

from sebframe.testing import registry_with
from sebframe.types import ProctoringFeature


def test_registers_jitsi_meet_with_every_feature() -> None:
    registry = registry_with(plugin)
    jitsi = registry.proctoring_types()["JITSI_MEET"]
    assert jitsi.display_name == "Jitsi Meet"
    assert jitsi.features == frozenset(ProctoringFeature)
    assert jitsi.static_dir is not None and (jitsi.static_dir / "jitsi_window.js").is_file()
    assert "proctoring service JITSI_MEET" in {line for info in registry.installed() for line in info.provides}
