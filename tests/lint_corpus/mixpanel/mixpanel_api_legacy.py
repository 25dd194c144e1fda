"""The Python 2 era client, mixpanel_api (mixpanel-utils' predecessor)."""
from mixpanel_api import Mixpanel

m = Mixpanel("api-secret", token="project-token")
m.export_events("out.txt", {"from_date": "2016-01-01", "to_date": "2016-01-02",
                            "where": 'properties["distinct_id"] == "x"'})
