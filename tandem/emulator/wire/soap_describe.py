"""The partner API's metadata and session calls: describeGlobal, describeSObject(s), getUserInfo,
getServerTimestamp, and the `userInfo` block of the login result.

Describe results are the REST describe bodies (the same profile view) written as partner XML,
with the few SOAP-only elements (`urlDetail`, `urlEdit`, `urlNew`) added.
"""

from __future__ import annotations

from datetime import timezone

from tandem.emulator.wire.soap_call import SoapCall, SoapFault
from tandem.emulator.wire.soap_xml import children, element, value

MAX_DESCRIBE = 100
"""Object names one describeSObjects call may ask for."""
_REST_ONLY = ("urls", "sobjectDescribeOption")


def _soap_describe(body: dict, base_url: str) -> dict:
    entry = {k: v for k, v in body.items() if k not in _REST_ONLY}
    prefix = body.get("keyPrefix") or ""
    entry["urlDetail"] = f"{base_url}/{{ID}}"
    entry["urlEdit"] = f"{base_url}/{{ID}}/e"
    entry["urlNew"] = f"{base_url}/{prefix}/e"
    return dict(sorted(entry.items()))


def describe_global(call: SoapCall) -> str:
    body = call.org.describe_global(call.ctx)
    sobjects = [{k: v for k, v in sorted(entry.items()) if k not in _REST_ONLY} for entry in body["sobjects"]]
    return ("<describeGlobalResponse><result>" + value("encoding", body["encoding"])
            + value("maxBatchSize", body["maxBatchSize"]) + element("sobjects", sobjects)
            + "</result></describeGlobalResponse>")


def describe_sobject(call: SoapCall) -> str:
    name = next((e.text or "" for e in children(call.operation, "sObjectType")), "").strip()
    return ("<describeSObjectResponse>"
            + element("result", _soap_describe(_describe(call, name), call.base_url))
            + "</describeSObjectResponse>")


def describe_sobjects(call: SoapCall) -> str:
    names = [(e.text or "").strip() for e in children(call.operation, "sObjectType")]
    if len(names) > MAX_DESCRIBE:
        raise SoapFault("EXCEEDED_MAX_TYPES_LIMIT", f"at most {MAX_DESCRIBE} types may be described in one call")
    results = [element("result", _soap_describe(_describe(call, name), call.base_url)) for name in names]
    return "<describeSObjectsResponse>" + "".join(results) + "</describeSObjectsResponse>"


def _describe(call: SoapCall, name: str) -> dict:
    if not name or call.org.schema.object(name) is None:
        raise SoapFault("INVALID_TYPE", f"sObject type '{name}' is not supported.", "InvalidSObjectFault")
    return call.org.describe(call.ctx, name)


def user_info_elements(org, ctx) -> str:
    """Every GetUserInfoResult element, in WSDL order (clients read them by name)."""
    info = org.user_info(ctx)
    fields = {
        "accessibilityMode": False, "chatterExternal": False, "currencySymbol": "$",
        "orgAttachmentFileSizeLimit": 5242880, "orgDefaultCurrencyIsoCode": "USD",
        "orgDefaultCurrencyLocale": "en_US", "orgDisallowHtmlAttachments": False, "orgHasPersonAccounts": False,
        "organizationId": org.org_id, "organizationMultiCurrency": False, "organizationName": org.name,
        "profileId": org.profile_id(ctx), "roleId": None, "sessionSecondsValid": 7200,
        "userDefaultCurrencyIsoCode": None, "userEmail": info.get("email") or "",
        "userFullName": info.get("name") or "", "userId": ctx.user_id, "userLanguage": info.get("language"),
        "userLocale": info.get("locale"), "userName": info.get("preferred_username") or ctx.username,
        "userTimeZone": info.get("timezone"), "userType": "Standard", "userUiSkin": "Theme3",
    }
    return "".join(value(k, v) for k, v in fields.items())


def get_user_info(call: SoapCall) -> str:
    return ("<getUserInfoResponse><result>" + user_info_elements(call.org, call.ctx)
            + "</result></getUserInfoResponse>")


def get_server_timestamp(call: SoapCall) -> str:
    now = call.org.now().astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"<getServerTimestampResponse><result>{value('timestamp', now)}</result></getServerTimestampResponse>"


CALLS = {
    "describeGlobal": describe_global, "describeSObject": describe_sobject, "describeSObjects": describe_sobjects,
    "getUserInfo": get_user_info, "getServerTimestamp": get_server_timestamp,
}
