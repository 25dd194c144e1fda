"""mixpanel-headless (the official programmable client)."""
from mixpanel_headless import Workspace

ws = Workspace()
for profile in ws.stream_profiles(where='event["$browser"] == "Chrome"'):
    print(profile)
