"""The partner SOAP API's ``merge()`` and ``undelete()`` calls, at the ``serverUrl`` a SOAP login
returns (``/services/Soap/u/{version}/{org id}``): how an admin's tooling merges duplicate Contacts,
as the UI's *Merge Contacts* does, and restores records from the recycle bin, as the UI's *Recycle
Bin* does. The REST API has neither.

Each ``<request>`` is one merge: a ``<masterRecord>`` (its ``xsi:type`` the object, its ``Id``, and
the field values the master keeps) and one or two ``<recordToMergeIds>``; the answer is one
``MergeResult`` per request, in order. ``undelete()`` takes ``<ids>`` and answers one
``UndeleteResult`` per id. What a merge or an undelete does to the records is ``Store``'s. Other
calls are answered with the fault a real org gives an unknown operation. A call counts against
the daily API allowance, as every SOAP call does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape
from typing import TYPE_CHECKING, Any

from ..http import Request, Response
from .auth import SOAP_ENV, soap_fault
from .errors import SfError
from .ids import to18

if TYPE_CHECKING:
    from .server import SalesforceApp

_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def _local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child) == name]


class Soap:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app
        app.route("POST", "/services/Soap/u/{version}/{org}", self.call, "soap call")

    def call(self, request: Request) -> Response:
        try:
            root = ET.fromstring(request.body)
        except ET.ParseError as exc:
            return soap_fault("INVALID_REQUEST", f"The request is not XML: {exc}", "UnexpectedErrorFault")
        body = next((el for el in root.iter() if _local(el) == "Body"), None)
        operation = next(iter(body), None) if body is not None else None
        session = next((el.text for el in root.iter() if _local(el) == "sessionId"), None)
        if not self.app.sessions.valid(session):
            return soap_fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session",
                              "UnexpectedErrorFault")
        if not self.app.count_api_call():
            return soap_fault("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", "UnexpectedErrorFault")
        name = "(none)" if operation is None else _local(operation)
        if operation is None or name not in ("merge", "undelete"):
            return soap_fault("INVALID_OPERATION", f"No operation available for request {name}",
                              "UnexpectedErrorFault")
        if name == "merge":
            results = "".join(self._merge(item) for item in _children(operation, "request"))
        else:
            results = "".join(self._undelete(item.text or "") for item in _children(operation, "ids"))
        return Response.text(
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns="urn:partner.soap.sforce.com">'
            f"<soapenv:Body><{name}Response>{results}</{name}Response></soapenv:Body></soapenv:Envelope>",
            content_type="text/xml")

    def _undelete(self, record_id: str) -> str:
        try:
            self.app.store.undelete(record_id)
        except SfError as exc:
            return _failed(exc)
        return f"<result><id>{to18(record_id)}</id><success>true</success></result>"

    def _merge(self, request: ET.Element) -> str:
        master = next(iter(_children(request, "masterRecord")), None)
        merged = [el.text or "" for el in _children(request, "recordToMergeIds")]
        try:
            if master is None:
                raise SfError("INVALID_ARGUMENT_TYPE", "A merge request needs a masterRecord")
            sobject = (master.get(_XSI_TYPE) or "").rsplit(":", 1)[-1]
            fields: dict[str, Any] = {_local(el): None if el.get(_NIL) == "true" else el.text
                                      for el in master if _local(el) not in ("type", "fieldsToNull")}
            fields.update({el.text: None for el in _children(master, "fieldsToNull") if el.text})
            master_id = fields.pop("Id", None) or ""
            moved = self.app.store.merge(sobject, master_id, merged, fields)
        except SfError as exc:
            return _failed(exc)
        ids = "".join(f"<mergedRecordIds>{to18(i)}</mergedRecordIds>" for i in merged)
        related = "".join(f"<updatedRelatedIds>{i}</updatedRelatedIds>" for i in moved)
        return f"<result><id>{to18(master_id)}</id>{ids}<success>true</success>{related}</result>"


def _failed(error: SfError) -> str:
    """A call's result for one record it could not take."""
    return (f"<result><errors><message>{escape(error.message)}</message>"
            f"<statusCode>{escape(error.code)}</statusCode></errors><success>false</success></result>")
