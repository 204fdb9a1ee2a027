"""What identity asks of the service catalogue, behind one small interface: the catalogue sits
above identity (its items name departments and levels of assurance), so it registers its
implementation at start (``catalog.services.init_app``), as certificates register ``cases.held``.

* the item an application is for (its level of assurance; whether an agent's grant covers it),
  for the access check and the sign-in's step-up hint;
* the current items, offered as an agent grant's scope (经办人授权).
"""

from __future__ import annotations

from typing import Protocol

from flask import current_app


class ItemCatalogue(Protocol):
    def current_item(self, code: str): ...

    def list_items(self) -> list: ...


def catalogue() -> ItemCatalogue:
    """The service catalogue, as registered in this app."""
    return current_app.extensions["identity_items"]
