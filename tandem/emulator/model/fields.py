"""One field of an emulated object: the metadata describe reports and writes enforce.

Kept as a slotted class because every record check reads it; the per-profile view of a field
(hidden, read-only) lives in `security.py`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring"}
)
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int", "long"})
FIELD_TYPES = TEXT_TYPES | NUMBER_TYPES | frozenset({"id", "reference", "boolean", "date", "datetime", "time"})

SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "long": "xsd:long",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
}


@dataclass(slots=True, frozen=True)
class PicklistValue:
    value: str
    label: str
    default: bool = False
    active: bool = True
    converted: bool = False
    closed: bool = False
    won: bool = False


@dataclass(slots=True)
class FieldDef:
    """A field as the org defines it, before any profile narrows it."""

    name: str
    label: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    custom: bool = False
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    calculated: bool = False
    defaulted_on_create: bool = False
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    id_lookup: bool = False
    name_field: bool = False
    restricted: bool = False
    picklist: tuple[PicklistValue, ...] = ()
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    compound_field_name: str | None = None
    system: bool = False
    """Set only by the org itself (audit fields, conversion results): read-only for every profile."""
    always_visible: bool = False
    """Id, Name and required fields: a profile cannot hide them."""
    extra: dict = field(default_factory=dict)

    @property
    def looks_up(self) -> bool:
        """An Id lookup (`idLookup` in describe): a field that can name a record in an upsert or in a
        reference by external Id."""
        return self.id_lookup or self.external_id or self.name in ("Email", "Username")

    @property
    def required(self) -> bool:
        """Salesforce's rule: createable, not nillable, not defaulted on create."""
        return self.createable and not self.nillable and not self.defaulted_on_create and self.type != "boolean"

    @property
    def soap_type(self) -> str:
        return SOAP_TYPES.get(self.type, "xsd:string")

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def filterable(self) -> bool:
        """Whether SOQL may filter on it: not a long text area (over 255 characters)."""
        return self.type != "textarea" or self.length <= 255

    @property
    def sortable(self) -> bool:
        """Whether SOQL may order by it: not a long text area or a long multi-select picklist."""
        return self.type not in ("textarea", "multipicklist") or self.length <= 255

    @property
    def default_picklist_value(self) -> str | None:
        for entry in self.picklist:
            if entry.default and entry.active:
                return entry.value
        return None

    def picklist_entry(self, value: str) -> PicklistValue | None:
        for entry in self.picklist:
            if entry.value == value:
                return entry
        return None
