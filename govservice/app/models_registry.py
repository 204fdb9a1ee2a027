"""Imports every domain's models so that SQLAlchemy's metadata is complete."""


def import_all_models() -> None:
    from govservice.audit import models as _audit  # noqa: F401
    from govservice.bundles import models as _bundles  # noqa: F401
    from govservice.calendar import models as _calendar  # noqa: F401
    from govservice.cases import models as _cases  # noqa: F401
    from govservice.catalog import models as _catalog  # noqa: F401
    from govservice.certificates import models as _certificates  # noqa: F401
    from govservice.core import counters as _counters  # noqa: F401
    from govservice.identity import models as _identity  # noqa: F401
    from govservice.kiosk import models as _kiosk  # noqa: F401
    from govservice.notify import models as _notify  # noqa: F401
    from govservice.partners import models as _partners  # noqa: F401
    from govservice.petitions import models as _petitions  # noqa: F401
    from govservice.supervision import cards as _cards  # noqa: F401
    from govservice.supervision import models as _supervision  # noqa: F401
    from govservice.window import credit_checks as _credit_checks  # noqa: F401
    from govservice.window import models as _window  # noqa: F401
