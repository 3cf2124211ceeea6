from tests.application.conftest import actors, other_platform, platform, runtime

__all__ = ["actors", "other_platform", "platform", "runtime"]
