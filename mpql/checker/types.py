"""Static types of the checker and Mixpanel's built-in properties.

The checker gives every sub-expression one of seven types (docs/mixpanel-reference.md §1.5):

    string  number  boolean  datetime  list   — values Mixpanel stores
    undefined                                 — certainly undefined (a failed cast, `"a" - 1`)
    unknown                                   — could be anything (an undeclared property)

A property that exists on some rows and not on others is typed by what it holds when set;
"missing" is not a separate type here, it is what the runtime evaluator handles.

``BUILTIN_EVENT`` and ``BUILTIN_PROFILE`` list Mixpanel's default and reserved properties with
the type Mixpanel stores them as, from Mixpanel's "Default Properties" and "Reserved Properties"
reference pages (docs.mixpanel.com/docs/data-structure/property-reference/…). A type of
``unknown`` means the property exists but the docs do not pin its type (so the checker knows the
name for "did you mean" without guessing its type).
"""

from __future__ import annotations

__all__ = [
    "STRING", "NUMBER", "BOOLEAN", "DATETIME", "LIST", "UNDEFINED", "UNKNOWN", "TYPES",
    "VALUE_TYPES", "BUILTIN_EVENT", "BUILTIN_PROFILE", "EVENT_ENDPOINTS", "ENDPOINTS",
]

STRING = "string"
NUMBER = "number"
BOOLEAN = "boolean"
DATETIME = "datetime"
LIST = "list"
UNDEFINED = "undefined"
UNKNOWN = "unknown"

TYPES = (STRING, NUMBER, BOOLEAN, DATETIME, LIST, UNDEFINED, UNKNOWN)
#: Types a stored value can have (what a schema may declare).
VALUE_TYPES = (STRING, NUMBER, BOOLEAN, DATETIME, LIST)

#: Endpoints whose `properties[...]` are event properties.
EVENT_ENDPOINTS = ("export", "segmentation", "funnels", "retention", "jql")
ENDPOINTS = ("any", "engage") + EVENT_ENDPOINTS

_S, _N, _B, _D, _L, _U = STRING, NUMBER, BOOLEAN, DATETIME, LIST, UNKNOWN

# Event properties: ingestion API defaults, client SDK defaults, reserved names.
BUILTIN_EVENT: dict[str, str] = {
    # ingestion API
    "$city": _S, "$region": _S, "mp_country_code": _S, "$mp_api_endpoint": _S,
    "$import": _B, "$mp_api_timestamp_ms": _N, "mp_processing_time_ms": _N,
    # client SDKs
    "$device_id": _S, "$user_id": _S, "$insert_id": _S, "mp_lib": _S, "$lib_version": _S,
    "mp_sent_by_lib_version": _S, "$os": _S, "$os_version": _S, "$browser": _S,
    # mixpanel-js sends the browser version as a number (e.g. 11.1)
    "$browser_version": _N,
    "$app_build_number": _U, "$app_version_string": _S, "$device": _S,
    "$screen_height": _N, "$screen_width": _N, "$screen_dpi": _N, "$current_url": _S,
    "$initial_referrer": _S, "$initial_referring_domain": _S, "$referrer": _S,
    "$referring_domain": _S, "$search_engine": _S, "mp_keyword": _S,
    "utm_source": _S, "utm_medium": _S, "utm_campaign": _S, "utm_content": _S, "utm_term": _S,
    "$manufacturer": _S, "$brand": _S, "$model": _S, "$watch_model": _S, "$carrier": _S,
    "$radio": _S, "$wifi": _B, "$bluetooth_enabled": _B, "$bluetooth_version": _S,
    "$has_nfc": _B, "$has_telephone": _B, "$google_play_services": _U, "$duration": _N,
    # reserved
    "token": _S, "$distinct_id": _S, "distinct_id": _S, "$event_name": _S,
    # `$time` compares with datetime(...) in Mixpanel's own examples (docs/mixpanel-reference.md §1.11); the raw
    # export line carries `time` as Unix seconds (docs/mixpanel-reference.md §3.3).
    "$time": _D, "time": _N,
    "$identified_id": _S, "$anon_id": _S, "alias": _S, "$distinct_ids": _L,
    "$distinct_id_before_identity": _S, "$is_reshuffled": _B, "$failure_description": _S,
    "$failure_reason": _S, "$identity_failure_reason": _S, "mp_original_distinct_id": _S,
    "mp_original_event_name": _S, "$source": _S, "$partner_id": _S, "$warehouse_type": _S,
    "$warehouse_import_id": _S, "$warehouse_import_job_id": _S,
    "$warehouse_import_run_id": _S, "$warehouse_table": _S, "$duration_s": _N,
    "$event_count": _N, "$origin_start": _S, "$origin_end": _S,
}

# User-profile properties: ingestion defaults, SDK defaults, reserved names.
BUILTIN_PROFILE: dict[str, str] = {
    "$city": _S, "$region": _S, "$country_code": _S, "$geo_source": _S, "$timezone": _S,
    "$last_seen": _D,
    "$lib_version": _S, "$android_lib_version": _S, "$ios_lib_version": _S,
    "$swift_lib_version": _S, "$os": _S, "$android_os": _S, "$android_os_version": _S,
    "$ios_version": _S, "$browser": _S, "$browser_version": _N, "$android_app_version": _S,
    "$android_app_version_code": _U, "$ios_app_release": _S, "$ios_app_version": _S,
    "$initial_referrer": _S, "$initial_referring_domain": _S,
    "initial_utm_source": _S, "initial_utm_medium": _S, "initial_utm_campaign": _S,
    "initial_utm_content": _S, "initial_utm_term": _S,
    "$android_manufacturer": _S, "$android_brand": _S, "$android_model": _S,
    "$ios_device_model": _S,
    # reserved
    "$distinct_id": _S, "$name": _S, "$first_name": _S, "$last_name": _S, "$email": _S,
    "$phone": _S, "$avatar": _S, "$created": _D, "$mp_first_event_time": _D,
}
