"""Other HTTP APIs that take `where` parameters, and Mixpanel's tracking SDK."""
import requests
from mixpanel import Mixpanel

PARSE_URL = "https://parseapi.back4app.com/classes/GameScore"
requests.get(PARSE_URL, params={"where": '{"score": {"$gt": 1000}}'})
requests.get("https://api.example.com/api/2.0/items", params={"where": 'name == "x"'})
requests.post("https://mixpanel.example.org/ingest", data={"where": 'user["a"] == 1'})

mp = Mixpanel("project-token")
mp.track("u1", "Clicked", {"where": "header", "on": "mobile"})
mp.people_set("u1", {"where": "home", "selector": "a b"})
