"""Jobs written the way mixpanel-utils' README shows."""
from mixpanel_utils import MixpanelUtils

mputils = MixpanelUtils(service_account_username="svc", service_account_password="pw",
                        project_id=1234567)

selector = '(("Albany" in properties["$city"]) and (defined (properties["$city"])))'
parameters = {"selector": selector}
mputils.export_people("people_export.txt", parameters, timezone_offset=-8)

mputils.export_events("event_export.txt", {"from_date": "2024-01-01", "to_date": "2024-01-02",
                                           "where": 'properties["$time"] > "2024-01-01"'})
mputils.people_set({"where": "home office"},
                   query_params={"selector": 'properties["plan"] == "pro" AND true'})
