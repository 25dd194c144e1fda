"""Raw export and engage over plain requests (EU residency)."""
import requests

API = "https://data-eu.mixpanel.com/api/2.0"
ENGAGE_URL = "https://eu.mixpanel.com/api/query/engage"
PRO = 'user["plan"] == "pro"'


def export_day(day):
    params = {"from_date": day, "to_date": day, "project_id": 123}
    params["where"] = 'properties["distinct_id"] == "u1"'
    return requests.get(f"{API}/export", params=params, stream=True)


def pro_users():
    return requests.post(ENGAGE_URL, data={"where": PRO, "project_id": 123})


def pro_events(day):
    return requests.get(API + "/export", params={"from_date": day, "where": PRO})


def mobile_profiles():
    return requests.post(ENGAGE_URL, data={"where": 'event["$os"] == "iOS"'})
