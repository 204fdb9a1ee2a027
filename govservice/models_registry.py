"""Imports every domain's models so that SQLAlchemy's metadata is complete."""


def import_all_models() -> None:
    from . import counters as _counters  # noqa: F401
    from .audit import models as _audit  # noqa: F401
    from .bundles import models as _bundles  # noqa: F401
    from .cases import models as _cases  # noqa: F401
    from .catalog import models as _catalog  # noqa: F401
    from .certificates import models as _certificates  # noqa: F401
    from .identity import models as _identity  # noqa: F401
    from .kiosk import models as _kiosk  # noqa: F401
    from .notify import models as _notify  # noqa: F401
    from .partners import models as _partners  # noqa: F401
    from .petitions import models as _petitions  # noqa: F401
    from .registry import credit_checks as _credit_checks  # noqa: F401
    from .supervision import cards as _cards  # noqa: F401
    from .supervision import models as _supervision  # noqa: F401
    from .window import models as _window  # noqa: F401
