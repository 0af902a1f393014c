"""What the three fake services' JSON shapes share: the generated world refers to people by index, and a
reference that is absent (no assignee, not merged) is JSON null in every API."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, overload

from hyperpage.demo.world import Person


class PeopleShapes(ABC):
    people: list[Person]

    @overload
    def user(self, index: int) -> dict[str, Any]: ...
    @overload
    def user(self, index: None) -> None: ...
    @overload
    def user(self, index: int | None) -> dict[str, Any] | None: ...
    def user(self, index: int | None) -> dict[str, Any] | None:
        return None if index is None else self.person(index)

    @abstractmethod
    def person(self, index: int) -> dict[str, Any]:
        """The service's user object for person `index`."""
