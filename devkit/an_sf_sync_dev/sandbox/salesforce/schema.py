"""The emulated org's objects and fields: what describe reports and what the store validates against.

Standard objects carry the fields a sync touches (reference §4); custom fields are configured per
org. ``custom_fields`` maps object -> field API name -> a type shorthand (``"text"``,
``"textarea"`` = Text Area (Long), ``"external_id"``, ``"email"``, ``"phone"``, ``"url"``,
``"checkbox"``, ``"number"``, ``"currency"``, ``"date"``, ``"datetime"``, ``"picklist"``) or a dict
``{"type": shorthand, "length": n, "external_id": bool, "unique": bool, "label": str}``. They are
merged over :data:`DEFAULT_CUSTOM_FIELDS`; a value of ``None`` removes a default field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# The sync's own fields, present unless an org's configuration removes them.
DEFAULT_CUSTOM_FIELDS: dict[str, dict[str, Any]] = {
    "Contact": {"Action_Network_ID__c": "external_id"},
    "Campaign": {"Action_Network_ID__c": "external_id"},
    "Opportunity": {"Action_Network_ID__c": "external_id", "Action_Network_Recurring__c": "text"},
}

LONG_TEXT_LENGTH = 131072  # Text Area (Long) maximum; describes as textarea/plaintextarea

SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "date": "xsd:date",
              "datetime": "xsd:dateTime", "double": "xsd:double", "currency": "xsd:double", "int": "xsd:int"}

_CUSTOM_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "length": 255},
    "textarea": {"type": "textarea", "length": LONG_TEXT_LENGTH},
    "external_id": {"type": "string", "length": 255, "external_id": True, "unique": True},
    "email": {"type": "email", "length": 80},
    "phone": {"type": "phone", "length": 40},
    "url": {"type": "url", "length": 255},
    "checkbox": {"type": "boolean"},
    "number": {"type": "double"},
    "currency": {"type": "currency"},
    "date": {"type": "date"},
    "datetime": {"type": "datetime"},
    "picklist": {"type": "picklist", "length": 255},
}

_CUSTOM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__c$")


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    label: str
    length: int = 0
    required: bool = False  # must be set on create and never nulled
    createable: bool = True
    updateable: bool = True
    defaulted: bool = False  # defaultedOnCreate
    external_id: bool = False
    unique: bool = False
    id_lookup: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    custom: bool = False
    calculated: bool = False
    cascade_delete: bool = False  # this row goes to the recycle bin with the referenced parent
    default: Any = None

    @property
    def filterable(self) -> bool:
        return not (self.type == "textarea" and self.length > 255)

    @property
    def nillable(self) -> bool:
        return not self.required and self.type != "boolean" and self.type != "id"

    def describe(self) -> dict[str, Any]:
        text = self.type in ("string", "textarea", "email", "phone", "url", "picklist", "id", "reference")
        length = self.length or (18 if self.type in ("id", "reference") else 0)
        return {
            "name": self.name, "label": self.label, "type": self.type, "length": length if text else 0,
            "byteLength": length * 3 if text else 0, "custom": self.custom, "nillable": self.nillable,
            "createable": self.createable, "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted, "externalId": self.external_id, "unique": self.unique,
            "idLookup": self.id_lookup, "filterable": self.filterable,
            "sortable": self.filterable, "groupable": self.filterable and self.type not in ("double", "currency"),
            "caseSensitive": False, "calculated": self.calculated, "autoNumber": False,
            "nameField": self.name == "Name", "htmlFormatted": False,
            "referenceTo": list(self.reference_to), "relationshipName": self.relationship_name,
            "picklistValues": [], "restrictedPicklist": False,
            "precision": 18 if self.type == "currency" else 0, "scale": 2 if self.type == "currency" else 0,
            "digits": 9 if self.type == "int" else 0,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "extraTypeInfo": ("plaintextarea" if self.type == "textarea"
                              else "personname" if self.name == "Name" else None),
            "defaultValue": self.default, "inlineHelpText": None,
            "aggregatable": self.filterable and self.type not in ("textarea",), "calculatedFormula": None,
            "cascadeDelete": False, "compoundFieldName": None, "controllerName": None, "defaultValueFormula": None,
            "dependentPicklist": False, "deprecatedAndHidden": False, "displayLocationInDecimal": False,
            "encrypted": False, "filteredLookupInfo": None, "highScaleNumber": False, "mask": None, "maskType": None,
            "namePointing": False, "permissionable": self.nillable and not self.calculated,
            "polymorphicForeignKey": False, "queryByDistance": False, "referenceTargetField": None,
            "relationshipOrder": None, "restrictedDelete": False, "searchPrefilterable": False,
            "writeRequiresMasterRead": False,
        }


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base).replace("_", " ")
    return words[:-2] + "ID" if words.endswith(" Id") else words


def _f(name: str, type_: str, length: int = 0, **kw: Any) -> FieldDef:
    if type_ == "boolean":
        kw.setdefault("defaulted", True)
        kw.setdefault("default", False)
    return FieldDef(name, type_, kw.pop("label", _label(name)), length, **kw)


def _ref(name: str, target: str, relationship: str, **kw: Any) -> FieldDef:
    return _f(name, "reference", 18, reference_to=(target,), relationship_name=relationship, **kw)


_RO = {"createable": False, "updateable": False}
_CREATE_ONLY = {"updateable": False}


def _system() -> list[FieldDef]:
    audit = {"defaulted": True, **_RO}
    return [
        _f("IsDeleted", "boolean", label="Deleted", **_RO),
        _f("CreatedDate", "datetime", label="Created Date", **audit),
        _ref("CreatedById", "User", "CreatedBy", **audit),
        _f("LastModifiedDate", "datetime", label="Last Modified Date", **audit),
        _ref("LastModifiedById", "User", "LastModifiedBy", **audit),
        _f("SystemModstamp", "datetime", label="System Modstamp", **audit),
    ]


def _person(street: str, city: str, state: str, postal: str, country: str) -> list[FieldDef]:
    return [
        _f("FirstName", "string", 40, label="First Name"),
        _f("LastName", "string", 80, label="Last Name", required=True),
        _f("Name", "string", 121, label="Full Name", calculated=True, **_RO),
        _f("Email", "email", 80, id_lookup=True),
        _f("Phone", "phone", 40, label="Business Phone"),
        _f("MobilePhone", "phone", 40, label="Mobile Phone"),
        _f(street, "textarea", 255),
        _f(city, "string", 40),
        _f(state, "string", 80),
        _f(postal, "string", 20),
        _f(country, "string", 80),
        _f("HasOptedOutOfEmail", "boolean", label="Email Opt Out"),
        _f("Title", "string", 128),
        _f("LeadSource", "picklist", 255, label="Lead Source"),
        _f("Description", "textarea", 32000),
    ]


def _standard_objects() -> list[tuple[str, str, str, list[FieldDef]]]:
    """(name, key prefix, plural label, fields) for every emulated standard object."""
    return [
        ("Account", "001", "Accounts", [
            _f("Name", "string", 255, label="Account Name", required=True),
            _ref("MasterRecordId", "Account", "MasterRecord", label="Master Record ID", **_RO),
            _ref("ParentId", "Account", "Parent", label="Parent Account ID"),
            _f("Type", "picklist", 255, label="Account Type"),
            _f("Phone", "phone", 40, label="Account Phone"),
            _f("Website", "url", 255),
            _f("BillingStreet", "textarea", 255), _f("BillingCity", "string", 40),
            _f("BillingState", "string", 80), _f("BillingPostalCode", "string", 20),
            _f("BillingCountry", "string", 80),
            _f("Description", "textarea", 32000, label="Account Description"),
        ]),
        ("Contact", "003", "Contacts", [
            _ref("AccountId", "Account", "Account"),
            _ref("MasterRecordId", "Contact", "MasterRecord", label="Master Record ID", **_RO),
            *_person("MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry"),
            _f("Birthdate", "date"),
            _f("DoNotCall", "boolean", label="Do Not Call"),
        ]),
        ("Lead", "00Q", "Leads", [
            _ref("MasterRecordId", "Lead", "MasterRecord", label="Master Record ID", **_RO),
            *_person("Street", "City", "State", "PostalCode", "Country"),
            _f("Company", "string", 255, required=True),
            _f("Status", "picklist", 255, label="Lead Status", defaulted=True, default="Open - Not Contacted"),
            _f("IsConverted", "boolean", label="Converted", **_RO),
            _ref("ConvertedContactId", "Contact", "ConvertedContact", **_RO),
        ]),
        ("Campaign", "701", "Campaigns", [
            _f("Name", "string", 80, label="Campaign Name", required=True),
            _ref("ParentId", "Campaign", "Parent", label="Parent Campaign ID"),
            _f("IsActive", "boolean", label="Active"),
            _f("Type", "picklist", 255),
            _f("Status", "picklist", 255, defaulted=True, default="Planned"),
            _f("StartDate", "date", label="Start Date"), _f("EndDate", "date", label="End Date"),
            _f("Description", "textarea", 32000),
        ]),
        ("CampaignMember", "00v", "Campaign Members", [
            _ref("CampaignId", "Campaign", "Campaign", required=True, cascade_delete=True, **_CREATE_ONLY),
            _ref("ContactId", "Contact", "Contact", cascade_delete=True, **_CREATE_ONLY),
            _ref("LeadId", "Lead", "Lead", cascade_delete=True, **_CREATE_ONLY),
            _f("Status", "picklist", 40, defaulted=True, default="Sent"),
            _f("HasResponded", "boolean", label="Responded", calculated=True, **_RO),
            _f("FirstRespondedDate", "date", label="First Responded Date", **_RO),
        ]),
        ("Opportunity", "006", "Opportunities", [
            _ref("AccountId", "Account", "Account"),
            _f("Name", "string", 120, label="Opportunity Name", required=True),
            _f("StageName", "picklist", 255, label="Stage", required=True),
            _f("CloseDate", "date", label="Close Date", required=True),
            _f("Amount", "currency"),
            _ref("CampaignId", "Campaign", "Campaign"),
            _ref("ContactId", "Contact", "Contact"),
            _f("Type", "picklist", 255, label="Opportunity Type"),
            _f("LeadSource", "picklist", 255, label="Lead Source"),
            _f("IsClosed", "boolean", label="Closed", calculated=True, **_RO),
            _f("IsWon", "boolean", label="Won", calculated=True, **_RO),
            _f("Description", "textarea", 32000),
        ]),
        # The org itself: one read-only row. TimeZoneSidKey is the org's default time zone, in
        # which Salesforce shows dates; the sandbox's is settable (store.set_org_time_zone).
        ("Organization", "00D", "Organizations", [
            _f("Name", "string", 80, **_RO),
            _f("TimeZoneSidKey", "picklist", 40, label="Locale Time Zone", **_RO),
            _f("DefaultLocaleSidKey", "picklist", 40, label="Locale", **_RO),
            _f("IsSandbox", "boolean", **_RO),
            _f("OrganizationType", "picklist", 40, label="Edition", **_RO),
        ]),
        ("OpportunityContactRole", "00K", "Contact Roles", [
            _ref("OpportunityId", "Opportunity", "Opportunity", required=True, cascade_delete=True,
                 **_CREATE_ONLY),
            _ref("ContactId", "Contact", "Contact", required=True, cascade_delete=True),
            _f("Role", "picklist", 255),
            _f("IsPrimary", "boolean", label="Primary"),
        ]),
    ]


def custom_field(name: str, spec: str | dict[str, Any]) -> FieldDef:
    """Build a custom field from its configuration; refuses names the platform would refuse."""
    if not _CUSTOM_NAME.match(name) or len(name) > 43:
        raise ValueError(f"invalid custom field API name {name!r} (letters, digits, single underscores, __c)")
    options = {"type": spec} if isinstance(spec, str) else dict(spec)
    kind = options.pop("type", "text")
    if kind not in _CUSTOM_TYPES:
        raise ValueError(f"unknown custom field type {kind!r} for {name}; one of {sorted(_CUSTOM_TYPES)}")
    base = {**_CUSTOM_TYPES[kind], **options}
    type_ = base.pop("type")
    label = base.pop("label", _label(name))
    length = base.pop("length", 0)
    unique = base.pop("unique", False)
    external = base.pop("external_id", False)
    if base:
        raise ValueError(f"unknown custom field options {sorted(base)} for {name}")
    return _f(name, type_, length, label=label, custom=True, external_id=external, unique=unique,
              id_lookup=external and unique)


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    label_plural: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # canonical name -> field, describe order

    def __post_init__(self) -> None:
        self.by_lower = {name.lower(): f for name, f in self.fields.items()}
        # what the store indexes: upsert keys / unique fields, and references that cascade deletes
        self.indexed = [n for n, f in self.fields.items() if (f.external_id or f.id_lookup or f.unique) and n != "Id"]
        self.cascades = [n for n, f in self.fields.items() if f.cascade_delete]

    def field(self, name: str) -> FieldDef | None:
        return self.by_lower.get(name.lower())

    def with_fields(self, fields: list[FieldDef]) -> ObjectDef:
        return ObjectDef(self.name, self.key_prefix, self.label_plural, {f.name: f for f in fields})


class Schema:
    """Objects by name (case-insensitive), each with its standard and custom fields."""

    def __init__(self, custom_fields: dict[str, dict[str, Any]] | None = None) -> None:
        self.objects: dict[str, ObjectDef] = {}
        for name, prefix, plural, fields in _standard_objects():
            id_field = _f("Id", "id", 18, label=f"{name} ID", id_lookup=True, defaulted=True, **_RO)
            self.objects[name.lower()] = ObjectDef(name, prefix, plural,
                                                   {f.name: f for f in [id_field, *fields, *_system()]})
        self.by_prefix = {o.key_prefix: o.name.lower() for o in self.objects.values()}
        merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in DEFAULT_CUSTOM_FIELDS.items()}
        for obj, specs in (custom_fields or {}).items():
            merged.setdefault(obj, {}).update(specs)
        self.set_custom_fields(merged)

    def set_custom_fields(self, specs: dict[str, dict[str, Any]]) -> None:
        """Add (or, with a ``None`` spec, remove) custom fields; existing row values are kept."""
        for obj_name, fields in specs.items():
            obj = self.get(obj_name)
            if obj is None:
                raise ValueError(f"unknown object {obj_name!r} for custom fields")
            current = {f.name: f for f in obj.fields.values()}
            for name, spec in fields.items():
                current.pop(name, None)
                if spec is not None:
                    current[name] = custom_field(name, spec)
            self.objects[obj.name.lower()] = obj.with_fields(list(current.values()))

    def get(self, name: str) -> ObjectDef | None:
        return self.objects.get(name.lower())

    def for_id(self, record_id: str) -> ObjectDef | None:
        name = self.by_prefix.get(record_id[:3])
        return self.objects[name] if name else None
